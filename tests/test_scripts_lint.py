"""The script lint (C-13 APR with every rate, C-14 banned phrases, C-16 prohibited uses): a table per rule,
with the texts that must pass beside the ones that must fail."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from xiaodai.outreach.script_lint import BANNED_PHRASES, LintError, highlight, lint

APR = Decimal("3.45")


def _codes(text: str, field: str = "opening", apr: Any = APR) -> list[tuple[str, str]]:
    return [(e.code, e.phrase) for e in lint({"apr": apr, field: text})]


# --- texts that pass ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "年化利率3.45%起（单利）",
        "年化利率3.45%起（单利），按日计息，随借随还。",
        "年化利率3.65%（日利率万分之1），不用不计息。",
        "前30天免息，之后年化利率3.45%起（单利）。",
        "贷款不得用于购房、首付、股票期货等投资。",
        "注意：严禁将贷款用于炒股。",
        "利率以审批结果为准。",  # a word, not a rate shown
        "手续简便，全程线上办理。",
        "您不必过于担心，我们会说明清楚。",
        "额度最高30万元，期限最长3年。",
        "装修、购车、教育、旅游、婚庆都可以用。",
        "年化利率3.45%—18%（单利），以审批为准。",
        "",
    ],
)
def test_compliant_text_passes(text: str) -> None:
    assert _codes(text) == []


# --- banned phrases (316号文, C-14) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("本产品保本保息", "保本"),
        ("无风险，放心借", "无风险"),
        ("白户也能秒批", "秒批"),
        ("申请后秒到账", "秒到"),
        ("不查征信，放心申请", "不查征信"),
        ("零门槛申请", "零门槛"),
        ("无需还款的好事", "无需还款"),
        ("我行最低利率", "最低利率"),
        ("稳赚不赔", "稳赚"),
        ("包过包下款", "包过"),
        ("100%通过", "100%通过"),
        ("黑户可贷", "黑户可贷"),
    ],
)
def test_banned_phrase_is_refused(text: str, phrase: str) -> None:
    assert ("banned_phrase", phrase) in _codes(text)


@pytest.mark.parametrize("phrase", BANNED_PHRASES)
def test_every_banned_phrase_is_caught_in_every_text_field(phrase: str) -> None:
    for field in ("opening", "selling_points", "scenario_text", "closing"):
        assert ("banned_phrase", phrase) in _codes(f"您好，{phrase}。", field)


def test_banned_phrase_with_full_width_digits_and_spaces_is_caught() -> None:
    assert _codes("１００％ 通过") == [("banned_phrase", "１００％ 通过")]


def test_banned_phrase_with_an_apr_is_still_refused() -> None:
    """最低利率 stays banned even next to the APR: the cheapest rate is never provable."""
    assert ("banned_phrase", "最低利率") in _codes("最低利率，年化利率3.45%起")


def test_banned_phrase_in_a_rebuttal_names_the_objection_and_line() -> None:
    errors = lint({"apr": APR, "opening": "您好", "objections": {"credit_report": ["放心", "不查征信的"]}})
    assert errors == [LintError("banned_phrase", "objections", "不查征信", 0, 4, "credit_report", 1)]
    assert errors[0].where == "objections.credit_report"


# --- rates need the APR (C-13) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("月息0.3厘", "月息"),
        ("日息万分之2", "日息"),
        ("日利率0.02%", "日利率"),
        ("月利率0.5%", "月利率"),
        ("年利率4%", "年利率"),
        ("每天万分之二", "万分之"),
        ("月费率0.3%", "月费率"),
        ("3厘的息", "3厘"),
        ("利息低至5%", "5%"),
        ("手续费1%", "1%"),
    ],
)
def test_rate_without_apr_is_refused(text: str, phrase: str) -> None:
    assert ("rate_without_apr", phrase) in _codes(text)


@pytest.mark.parametrize("text", ["免息30天", "零利息", "低息贷款", "０利息"])
def test_interest_free_without_apr_is_refused(text: str) -> None:
    assert [code for code, _ in _codes(text)] == ["free_without_apr"]


def test_rate_in_one_field_and_apr_in_another_is_refused() -> None:
    errors = lint({"apr": APR, "opening": "月息3厘", "selling_points": "年化利率3.45%起"})
    assert {(e.code, e.field) for e in errors} == {("rate_without_apr", "opening")}


def test_daily_rate_before_the_apr_is_refused() -> None:
    assert _codes("日利率万分之1，年化利率3.65%") == [
        ("rate_before_apr", "日利率"),
        ("rate_before_apr", "万分之"),
    ]


def test_apr_is_required() -> None:
    assert _codes("您好", apr=None) == [("apr_missing", "")]


@pytest.mark.parametrize("apr", ["0", "-1", "24.01", "36"])
def test_apr_out_of_range_is_refused(apr: str) -> None:
    assert [code for code, _ in _codes("您好", apr=apr)] == ["apr_out_of_range"]


@pytest.mark.parametrize("apr", ["0.01", "3.45", "24"])
def test_apr_in_range_passes(apr: str) -> None:
    assert _codes("您好", apr=apr) == []


def test_quoted_apr_below_the_scripts_apr_is_refused() -> None:
    assert _codes("年化利率3%起（单利）") == [("apr_quote_below", "3")]


def test_quoted_apr_above_the_cap_is_refused() -> None:
    assert _codes("年化利率25%", apr="3.45") == [("apr_quote_above", "25")]


def test_quoted_apr_equal_or_above_the_scripts_passes() -> None:
    assert _codes("年化利率3.45%起，最高年化利率18%") == []


# --- prohibited uses (C-16) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("可以用来购房", "购房"),
        ("凑首付很方便", "首付"),
        ("拿去炒股也行", "炒股"),
        ("买股票", "股票"),
        ("做期货", "期货"),
        ("用于理财投资", "理财投资"),
        ("生意周转", "生意周转"),
        ("经营周转", "经营周转"),
    ],
)
def test_prohibited_use_is_refused(text: str, phrase: str) -> None:
    assert ("prohibited_use", phrase) in _codes(text)


def test_prohibited_use_as_a_prohibition_passes_only_in_its_own_sentence() -> None:
    assert _codes("不得用于购房。") == []
    assert _codes("不得用于赌博。也可以用于购房。") == [("prohibited_use", "购房")]


# --- shape and messages ------------------------------------------------------------------------


def test_unknown_objection_code_is_reported() -> None:
    errors = lint({"apr": APR, "objections": {"bogus": ["好的"]}})
    assert [(e.code, e.phrase) for e in errors] == [("objection_unknown", "bogus")]


def test_every_error_has_a_message_naming_the_phrase() -> None:
    errors = lint({"apr": "30", "opening": "秒批，月息3厘，可用于购房，免息", "closing": "年化利率25%"})
    assert {e.code for e in errors} >= {
        "apr_out_of_range",
        "banned_phrase",
        "rate_without_apr",
        "prohibited_use",
        "free_without_apr",
        "apr_quote_above",
    }
    for e in errors:
        assert e.message
        assert e.phrase in e.message


def test_positions_point_at_the_phrase_in_the_original_text() -> None:
    text = "您好！ 我们 秒 批"
    (error,) = lint({"apr": APR, "opening": text})
    assert text[error.start : error.end] == "秒 批"


def test_highlight_marks_the_phrase() -> None:
    text = "您好，秒批哦"
    assert highlight(text, lint({"apr": APR, "opening": text})) == [
        ("您好，", False),
        ("秒批", True),
        ("哦", False),
    ]
