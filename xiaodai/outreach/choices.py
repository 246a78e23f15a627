from django.db import models
from django.utils.translation import gettext_lazy as _

from xiaodai.customers.choices import ContactOutcome as ContactOutcome  # re-exported: the outcome codes


class WorkChannel(models.TextChoices):
    """The channels a person works a customer on (SMS is a campaign channel, not a conversation)."""

    PHONE = "phone", _("Phone")
    VISIT = "visit", _("Visit")
    WECHAT = "wechat", _("WeChat")


class Objection(models.TextChoices):
    """Objection types (异议) a script answers; the call screen records which one the customer raised."""

    RATE_HIGH = "rate_high", _("Rate too high (利率高)")
    NO_NEED = "no_need", _("Doesn't need money (不缺钱)")
    CREDIT_REPORT = "credit_report", _("Worried about the credit report (怕影响征信)")
    LIMIT_LOW = "limit_low", _("Limit too low (额度低)")
    HASSLE = "hassle", _("Too much paperwork (手续麻烦)")
    OTHER_BANK = "other_bank", _("Already borrows elsewhere (已有他行贷款)")
    NO_TIME = "no_time", _("No time now (没时间)")
    DISTRUST = "distrust", _("Suspects a scam call (怀疑诈骗)")


class LoanPurpose(models.TextChoices):
    """The stated use of the loan, from a controlled list (个贷办法: no loan without a specified use)."""

    RENOVATION = "renovation", _("Home renovation")
    FURNITURE = "furniture", _("Furniture and appliances")
    CAR = "car", _("Car purchase")
    EDUCATION = "education", _("Education and training")
    MEDICAL = "medical", _("Medical")
    WEDDING = "wedding", _("Wedding")
    TRAVEL = "travel", _("Travel")
    DAILY = "daily", _("Daily consumption")
    # Prohibited for consumer loans (compliance C-16): recorded when stated, and they block the referral.
    HOUSE_PURCHASE = "house_purchase", _("House purchase (prohibited)")
    DOWN_PAYMENT = "down_payment", _("Down payment (prohibited)")
    SECURITIES = "securities", _("Stocks, futures or other investment (prohibited)")
    BUSINESS = "business", _("Business operation (use a business loan)")


PROHIBITED_PURPOSES = frozenset(
    {LoanPurpose.HOUSE_PURCHASE, LoanPurpose.DOWN_PAYMENT, LoanPurpose.SECURITIES, LoanPurpose.BUSINESS}
)
# Outcomes that pass the customer on to a loan application (a referral, 转介): C-16 checks their purpose.
REFERRALS = frozenset({ContactOutcome.WILL_APPLY, ContactOutcome.APPLIED})
# Outcomes that opt the customer out and cancel every open task in the same transaction (C-02).
STOPS = frozenset({ContactOutcome.REFUSED, ContactOutcome.DO_NOT_CALL})


class VisitPlace(models.TextChoices):
    HOME = "home", _("Home")
    WORKPLACE = "workplace", _("Workplace / enterprise")
    BRANCH = "branch", _("At the branch")
    EVENT = "event", _("Event or community")


class WechatKind(models.TextChoices):
    CHAT = "chat", _("One-to-one chat")
    CALL = "call", _("Voice or video call")
    GROUP = "group", _("Group message")


class FollowUpStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class ScriptStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    REVIEW = "review", _("In review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Sent back")
    RETIRED = "retired", _("Retired")
