"""Display masking of personal data (compliance P-04, JR/T 0171): masked by default everywhere."""

from __future__ import annotations


def mask_phone(value: str | None) -> str:
    """138****5678 for a mainland mobile; other numbers keep only their last four digits."""
    if not value:
        return ""
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) == 11:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) <= 4:
        return "*" * len(digits)
    return "*" * (len(digits) - 4) + digits[-4:]


def mask_id_number(value: str | None) -> str:
    """First 6 and last 4 kept: 110105********123X."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_account(value: str | None) -> str:
    """Card or account numbers: first 6 and last 4."""
    return mask_id_number(value)


def mask_name(value: str | None) -> str:
    """张* for two or three characters' names keeps the surname; 欧阳** keeps a two-character surname."""
    if not value:
        return ""
    if len(value) >= 4:
        return value[:2] + "*" * (len(value) - 2)
    return value[0] + "*" * (len(value) - 1)


def mask_address(value: str | None) -> str:
    """Keep the district-level prefix (first 6 characters), hide the street and number."""
    if not value:
        return ""
    return value[:6] + "****" if len(value) > 6 else "****"


# A counterparty is a business (kept: who got the money is the signal) or a person (masked like a customer's
# name). Chinese personal names are two to four characters; a business name is longer or says what it is.
_BUSINESS_WORDS = (
    "公司", "银行", "集团", "中心", "医院", "诊所", "学校", "大学", "学院", "商店", "超市", "酒店", "宾馆",
    "基金", "证券", "保险", "信托", "公积金", "财政", "税务", "政府", "事务所", "合作社", "支付", "财付通",
    "微信", "本行", "他行", "门店", "商行", "工作室", "装饰", "家居", "汽车", "航空", "旅行社",
)  # fmt: skip


def mask_counterparty(value: str | None) -> str:
    """A person's name among transaction counterparties masked as a name (王**); a business's kept. In doubt
    it masks: a short brand without its registered name (阿里巴巴) reads as a person's."""
    if not value:
        return ""
    name = value.strip()
    looks_personal = 2 <= len(name) <= 4 and all("\u4e00" <= ch <= "\u9fff" or ch == "·" for ch in name)
    if looks_personal and not any(word in name for word in _BUSINESS_WORDS):
        return mask_name(name)
    return value


MASKERS = {
    "phone": mask_phone,
    "id_number": mask_id_number,
    "name": mask_name,
    "address": mask_address,
    "account": mask_account,
    "counterparty": mask_counterparty,
}
