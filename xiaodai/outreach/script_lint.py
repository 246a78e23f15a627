"""The script lint: what a call script may not say (compliance C-13, C-14, C-16).

`lint(fields)` reads the customer-facing texts of one script version (opening, selling points, usage
scenario, closing and every rebuttal) and its APR, and returns coded errors naming the field and the
offending phrase with its position, so a page can highlight it. A version with any error cannot be
submitted or approved (xiaodai.outreach.scripts).

The rules, each a code:
* ``banned_phrase`` — a phrase from BANNED_PHRASES anywhere (316号文: no misleading promises).
* ``free_without_apr`` — 免息 / 零利息 / 低息 … in a text that does not also say 年化利率 (C-13).
* ``rate_without_apr`` — a text that shows a rate (月息, 日息, 月利率, 日利率, 年利率, 费率, 万分之, N厘, or a
  percentage next to 息/利率/费) must say 年化利率 in the same text (C-13: the APR with every price).
* ``rate_before_apr`` — a daily or monthly rate may appear, but only after the APR: read aloud, what comes
  first is what is "more prominent" (C-13).
* ``apr_missing`` / ``apr_out_of_range`` — the version's APR is required, above 0 and at most 24 %.
* ``apr_quote_below`` / ``apr_quote_above`` — an APR quoted in the text (年化利率3.45%) may not be lower than
  the version's APR (that is the "from" rate the call records as shown) nor above 24 %.
* ``prohibited_use`` — a use consumer loans may not fund (购房, 首付, 炒股, 期货, 理财投资, 经营周转 …, C-16),
  unless the sentence says it is not allowed (不得用于购房 passes).

Texts are compared after NFKC normalisation without whitespace, so full-width digits and spaces inside a
phrase (１００％ 通过) do not slip through; positions refer to the original text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _

from xiaodai.outreach.choices import Objection

APR_CAP = Decimal(24)  # the judicial protection ceiling for loan pricing; a bank's consumer loan is far below
APR_WORDS = "年化利率"

# What a script may never say. 316号文 (银发〔2019〕316号) forbids false or misleading promotion, promises of
# guaranteed returns and of approval, and C-14 asks the lint to catch them. Kept in one tuple so compliance
# can read and extend the list in one place.
BANNED_PHRASES: tuple[str, ...] = (
    # guaranteed returns or no risk
    "保本",
    "保息",
    "保收益",
    "无风险",
    "零风险",
    "稳赚",
    # instant or guaranteed approval
    "秒批",
    "秒到",
    "秒放",
    "秒下款",
    "包过",
    "包批",
    "包下款",
    "保证通过",
    "保证下款",
    "100%通过",
    "百分百通过",
    "100%下款",
    "无条件放款",
    # credit checks waived or bad credit welcome
    "不查征信",
    "不上征信",
    "不看征信",
    "无视征信",
    "黑户可贷",
    "黑户也能贷",
    # no conditions, no repayment
    "零门槛",
    "无门槛",
    "无需还款",
    "免还款",
    # superlative prices (最低利率 even with an APR: the cheapest is never provable)
    "最低利率",
    "利率最低",
    "全网最低",
    "史上最低",
)

# Price words that are misleading without the APR beside them (C-13).
NEEDS_APR_PHRASES: tuple[str, ...] = ("免息", "零利息", "0利息", "无息", "低息")

# Uses a consumer loan may not fund (C-16: 个贷办法, 互联网贷款办法, PBOC/CBIRC notices). A script may say
# them only as a prohibition, in a sentence carrying one of NEGATIONS.
PROHIBITED_USE_PHRASES: tuple[str, ...] = (
    "购房",
    "买房",
    "首付",
    "房款",
    "炒股",
    "股票",
    "证券",
    "期货",
    "理财投资",
    "投资理财",
    "股权投资",
    "基金投资",
    "炒币",
    "虚拟货币",
    "配资",
    "经营周转",
    "经营用途",
    "生意周转",
    "做生意",
    "进货",
    "以贷还贷",
    "以贷养贷",
)
NEGATIONS: tuple[str, ...] = ("不得", "不能", "不可", "禁止", "严禁", "不允许", "不用于", "请勿", "切勿")

# A daily or monthly rate (must come after the APR) and the other ways a text shows a rate.
_PERIOD_RATE = re.compile(r"月息|日息|月利率|日利率|月费率|日费率|万分之|千分之|\d+(?:\.\d+)?厘")
_OTHER_RATE = re.compile(r"年息|年利率|费率")
_PERCENT = re.compile(r"\d+(?:\.\d+)?%")
_NEAR_PERCENT = re.compile(r"息|利率|费")
_APR_QUOTE = re.compile(r"年化利率[^0-9%。；;!！?？\n]{0,6}?(\d+(?:\.\d+)?)%")
_SENTENCE_END = "。！？；!?;\n"

TEXT_FIELDS: tuple[str, ...] = ("opening", "selling_points", "scenario_text", "closing")
OBJECTIONS_FIELD = "objections"

MESSAGES: dict[str, Any] = {
    "banned_phrase": _("“%(phrase)s” may not be used in a script: it promises what a loan cannot (316号文)."),
    "free_without_apr": _("“%(phrase)s” needs the APR in the same text: add 年化利率 and its figure."),
    "rate_without_apr": _("“%(phrase)s” shows a rate: the same text must also give the APR (年化利率)."),
    "rate_before_apr": _(
        "“%(phrase)s” comes before the APR: say the 年化利率 first, then any daily or monthly rate."
    ),
    "apr_missing": _("Give the APR (年化利率) of the product this script sells."),
    "apr_out_of_range": _("The APR must be above 0 and at most 24%%; it is %(phrase)s%%."),
    "apr_quote_below": _(
        "The text quotes an APR of %(phrase)s%%, below the script's APR: "
        "quote the script's APR or a higher one."
    ),
    "apr_quote_above": _("The text quotes an APR of %(phrase)s%%, above 24%%."),
    "prohibited_use": _(
        "“%(phrase)s” suggests a use consumer loans may not fund (house purchase, down payment, securities, "
        "business). Mention it only as a prohibition, e.g. 不得用于购房."
    ),
    "objection_unknown": _("“%(phrase)s” is not an objection type."),
}


@dataclass(frozen=True)
class LintError:
    """One finding: which rule (code), where (field, and for a rebuttal its objection and line), what."""

    code: str
    field: str  # a TEXT_FIELDS name, "apr", or "objections"
    phrase: str
    start: int = -1  # position of the phrase in the original text; -1 when it is not in a text
    end: int = -1
    objection: str = ""  # for a rebuttal: its objection code
    index: int = -1  # for a rebuttal: its position in the objection's list

    @property
    def message(self) -> str:
        return str(MESSAGES[self.code]) % {"phrase": self.phrase}

    @property
    def where(self) -> str:
        """The field key a form shows the error beside: a text field, "apr" or "objections.<code>"."""
        return f"{self.field}.{self.objection}" if self.objection else self.field


@dataclass(frozen=True)
class _Text:
    """A text normalised for matching, with each normalised character's position in the original."""

    original: str
    norm: str
    origin: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> _Text:
        chars: list[str] = []
        origin: list[int] = []
        for i, ch in enumerate(text):
            for n in unicodedata.normalize("NFKC", ch).lower():
                if not n.isspace():
                    chars.append(n)
                    origin.append(i)
        return cls(text, "".join(chars), tuple(origin))

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span behind norm[start:end]."""
        return self.origin[start], self.origin[end - 1] + 1

    def find_all(self, phrase: str) -> Iterable[tuple[int, int]]:
        needle = unicodedata.normalize("NFKC", phrase).lower()
        at = self.norm.find(needle)
        while at >= 0:
            yield at, at + len(needle)
            at = self.norm.find(needle, at + len(needle))

    def sentence(self, start: int) -> str:
        """The normalised sentence around a position (for the negation test of prohibited uses)."""
        left = max((self.norm.rfind(ch, 0, start) for ch in _SENTENCE_END), default=-1)
        rights = [r for r in (self.norm.find(ch, start) for ch in _SENTENCE_END) if r >= 0]
        return self.norm[left + 1 : min(rights) if rights else len(self.norm)]


def _lint_text(text: str, field: str, objection: str = "", index: int = -1) -> list[LintError]:
    t = _Text.of(text)
    found: list[LintError] = []

    def add(code: str, start: int, end: int) -> None:
        a, b = t.span(start, end)
        found.append(LintError(code, field, text[a:b], a, b, objection, index))

    for phrase in BANNED_PHRASES:
        for start, end in t.find_all(phrase):
            add("banned_phrase", start, end)
    has_apr = APR_WORDS in t.norm
    if not has_apr:
        for phrase in NEEDS_APR_PHRASES:
            for start, end in t.find_all(phrase):
                add("free_without_apr", start, end)
        for m in (*_PERIOD_RATE.finditer(t.norm), *_OTHER_RATE.finditer(t.norm)):
            add("rate_without_apr", m.start(), m.end())
        for m in _PERCENT.finditer(t.norm):
            if _NEAR_PERCENT.search(t.norm[max(0, m.start() - 8) : m.end() + 8]):
                add("rate_without_apr", m.start(), m.end())
    else:
        first_apr = t.norm.find(APR_WORDS)
        for m in _PERIOD_RATE.finditer(t.norm):
            if m.start() < first_apr:
                add("rate_before_apr", m.start(), m.end())
    for phrase in PROHIBITED_USE_PHRASES:
        for start, end in t.find_all(phrase):
            sentence = t.sentence(start)
            if not any(neg in sentence for neg in NEGATIONS):
                add("prohibited_use", start, end)
    return sorted(found, key=lambda e: (e.start, e.code))


def _apr(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        apr = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return apr if apr.is_finite() else None


def _quotes(
    text: str, field: str, apr: Decimal | None, objection: str = "", index: int = -1
) -> list[LintError]:
    """APR figures the text quotes, checked against the version's APR and the cap."""
    t = _Text.of(text)
    found = []
    for m in _APR_QUOTE.finditer(t.norm):
        quoted = Decimal(m.group(1))
        code = ""
        if quoted > APR_CAP:
            code = "apr_quote_above"
        elif apr is not None and quoted < apr:
            code = "apr_quote_below"
        if code:
            a, b = t.span(m.start(1), m.end(1))
            found.append(LintError(code, field, text[a:b], a, b, objection, index))
    return found


def rebuttals(objections: Any) -> list[tuple[str, int, str]]:
    """(objection code, index, text) for every rebuttal of a well-formed objections mapping."""
    out: list[tuple[str, int, str]] = []
    if not isinstance(objections, Mapping):
        return out
    for code, texts in objections.items():
        if isinstance(texts, list):
            out.extend((str(code), i, t) for i, t in enumerate(texts) if isinstance(t, str))
    return out


def lint(version_fields: Mapping[str, Any]) -> list[LintError]:
    """Every problem of one script version's fields (an empty list: it may go to review)."""
    errors: list[LintError] = []
    apr = _apr(version_fields.get("apr"))
    if apr is None:
        errors.append(LintError("apr_missing", "apr", ""))
    elif not Decimal(0) < apr <= APR_CAP:
        errors.append(LintError("apr_out_of_range", "apr", f"{apr.normalize():f}"))
    for field in TEXT_FIELDS:
        text = str(version_fields.get(field) or "")
        errors.extend(_lint_text(text, field))
        errors.extend(_quotes(text, field, apr))
    objections = version_fields.get(OBJECTIONS_FIELD) or {}
    known = set(Objection.values)
    if isinstance(objections, Mapping):
        errors.extend(
            LintError("objection_unknown", OBJECTIONS_FIELD, str(code))
            for code in objections
            if code not in known
        )
    for code, index, text in rebuttals(objections):
        if code in known:
            errors.extend(_lint_text(text, OBJECTIONS_FIELD, code, index))
            errors.extend(_quotes(text, OBJECTIONS_FIELD, apr, code, index))
    return errors


def highlight(text: str, errors: Iterable[LintError]) -> list[tuple[str, bool]]:
    """The text cut into (piece, flagged) so a template can mark the offending phrases without mark_safe."""
    flags = [False] * len(text)
    for e in errors:
        for i in range(max(e.start, 0), min(e.end, len(text))):
            flags[i] = True
    pieces: list[tuple[str, bool]] = []
    for ch, flag in zip(text, flags, strict=True):
        if pieces and pieces[-1][1] == flag:
            pieces[-1] = (pieces[-1][0] + ch, flag)
        else:
            pieces.append((ch, flag))
    return pieces
