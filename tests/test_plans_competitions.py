"""Competitions (劳动竞赛): each refusal, scoring (per, points, cap), ties, the period and who counts, live
against final, scoping, the pages and the audit trail."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import Cast
from tests.outreach_data import frozen
from tests.plans_data import TODAY, fact
from xiaodai.audit.models import AuditEvent
from xiaodai.plans import competitions as svc
from xiaodai.plans.competitions import RuleSpec
from xiaodai.plans.exceptions import PlanError
from xiaodai.plans.models import Competition, Standing

START, END = dt.date(2026, 11, 1), dt.date(2026, 11, 30)
CALLS = RuleSpec("calls", "10", "1")


def data(**kw: Any) -> dict[str, Any]:
    return {"name": "十一月外呼竞赛", "starts_on": START, "ends_on": END, "participant_kind": "staff", **kw}


def people(cast: Cast, *names: str) -> list[int]:
    return [cast.staff[n].pk for n in names]


def create(cast: Cast, who: str = "head", rules: list[RuleSpec] | None = None, **kw: Any) -> Competition:
    names = kw.pop("names", ("tele", "mgr", "mgr2"))
    return svc.create_competition(cast.staff[who], data(**kw), people(cast, *names), rules or [CALLS])


def board(c: Competition, today: dt.date = TODAY) -> dict[str, tuple[int, Decimal]]:
    return {row.name: (row.rank, row.points) for row in svc.leaderboard(c, today).rows}


# --- creating -----------------------------------------------------------------------------------------------


def test_a_competition_is_created_with_its_rules_and_participants_and_audited(cast: Cast) -> None:
    c = create(cast, rules=[CALLS, RuleSpec("disbursed_amount", "10000", "2", "60")])
    assert set(c.staff.values_list("name", flat=True)) == {"tele", "mgr", "mgr2"}
    assert [(r.figure, r.per, r.points, r.cap) for r in c.rules.all()] == [
        ("calls", 10, 1, None),
        ("disbursed_amount", 10000, 2, 60),
    ]
    event = AuditEvent.objects.get(action="plans.competition_saved")
    assert event.object_id == str(c.pk)


@pytest.mark.parametrize(
    ("rules", "code"),
    [
        ([], "no_rules"),
        ([RuleSpec("happiness", "1", "1")], "unknown_figure"),
        ([RuleSpec("balance_growth", "10000", "1")], "figure_not_scorable"),
        ([RuleSpec("calls", "0", "1")], "bad_rule"),
        ([RuleSpec("calls", "-10", "1")], "bad_rule"),
        ([RuleSpec("calls", "10", "0")], "bad_rule"),
        ([RuleSpec("calls", "10", "1", "0")], "bad_rule"),
        ([RuleSpec("calls", "abc", "1")], "bad_rule"),
        ([CALLS, RuleSpec("calls", "5", "1")], "duplicate_rule"),
    ],
)
def test_a_bad_rule_is_refused_and_nothing_created(cast: Cast, rules: list[RuleSpec], code: str) -> None:
    with pytest.raises(PlanError) as err:
        svc.create_competition(cast.staff["head"], data(), people(cast, "tele"), rules)
    assert err.value.code == code
    assert not Competition.objects.exists()


@pytest.mark.parametrize(
    ("who", "change", "names", "code"),
    [
        ("head", {}, (), "no_participants"),
        ("head", {}, ("tele", "mgr_b"), "out_of_reach"),
        ("lead", {}, ("tele", "mgr2"), "out_of_reach"),
        ("head", {"ends_on": dt.date(2026, 10, 31)}, ("tele",), "bad_period"),
        ("head", {"ends_on": dt.date(2028, 1, 1)}, ("tele",), "too_long"),
        ("head", {"name": "  "}, ("tele",), "name_required"),
        ("head", {"participant_kind": "robots"}, ("tele",), "bad_kind"),
        ("tele", {}, ("tele",), "not_allowed"),
    ],
)
def test_bad_competition_input_is_refused(
    cast: Cast, who: str, change: dict[str, Any], names: tuple[str, ...], code: str
) -> None:
    with pytest.raises(PlanError) as err:
        svc.create_competition(cast.staff[who], data(**change), people(cast, *names), [CALLS])
    assert err.value.code == code
    assert not Competition.objects.exists()


def test_an_unknown_participant_id_is_out_of_reach(cast: Cast) -> None:
    with pytest.raises(PlanError) as err:
        svc.create_competition(cast.staff["head"], data(), [999999], [CALLS])
    assert err.value.code == "out_of_reach"


def test_a_lead_runs_a_competition_of_their_team(cast: Cast) -> None:
    c = create(cast, "lead", names=("tele", "mgr"))
    assert c.staff.count() == 2


def test_teams_compete_as_teams(cast: Cast) -> None:
    c = svc.create_competition(
        cast.staff["head"], data(participant_kind="team"), [cast.t1.pk, cast.t2.pk], [CALLS]
    )
    fact(cast.staff["tele"], "calls", 30)
    fact(cast.staff["mgr"], "calls", 30)
    fact(cast.staff["mgr2"], "calls", 40)
    assert board(c) == {"西湖一组": (1, Decimal("6")), "西湖二组": (2, Decimal("4"))}


# --- scoring ------------------------------------------------------------------------------------------------


def test_points_are_pro_rata_per_rule_and_summed(cast: Cast) -> None:
    c = create(cast, rules=[CALLS, RuleSpec("disbursed_amount", "10000", "2")])
    fact(cast.staff["tele"], "calls", 35)
    fact(cast.staff["tele"], "disbursed_amount", "25000")
    row = next(r for r in svc.leaderboard(c, TODAY).rows if r.name == "tele")
    assert row.points_by_figure == {"calls": Decimal("3.5"), "disbursed_amount": Decimal("5")}
    assert row.points == Decimal("8.5")


def test_a_cap_limits_a_rules_points(cast: Cast) -> None:
    c = create(cast, rules=[RuleSpec("disbursed_amount", "10000", "2", "40")])
    fact(cast.staff["mgr"], "disbursed_amount", "500000")
    assert board(c)["mgr"] == (1, Decimal("40"))


def test_equal_points_share_a_rank(cast: Cast) -> None:
    c = create(cast, names=("tele", "mgr", "mgr2", "lobby"))
    fact(cast.staff["tele"], "calls", 50)
    fact(cast.staff["mgr"], "calls", 50)
    fact(cast.staff["mgr2"], "calls", 20)
    assert board(c) == {
        "mgr": (1, Decimal("5")),
        "tele": (1, Decimal("5")),
        "mgr2": (3, Decimal("2")),
        "lobby": (4, Decimal("0")),
    }


def test_only_the_period_so_far_and_the_participants_count(cast: Cast) -> None:
    c = create(cast, names=("tele",))
    tele = cast.staff["tele"]
    fact(tele, "calls", 10, dt.date(2026, 10, 31))  # before the start
    fact(tele, "calls", 20, dt.date(2026, 11, 5))
    fact(tele, "calls", 40, dt.date(2026, 11, 20))  # after "today" below
    fact(tele, "calls", 80, dt.date(2026, 12, 1))  # after the end
    fact(cast.staff["mgr"], "calls", 500)  # not a participant
    assert board(c, dt.date(2026, 11, 15)) == {"tele": (1, Decimal("2"))}
    assert board(c, dt.date(2026, 12, 5)) == {"tele": (1, Decimal("6"))}


def test_the_leaderboard_is_the_same_for_everyone_in_the_branch(cast: Cast) -> None:
    """Public inside the branch: the figures are not narrowed to the viewer's scope."""
    c = create(cast)
    fact(cast.staff["mgr2"], "calls", 40)
    with frozen():
        pages = {
            who: cast.client(who).get(f"/plans/competitions/{c.pk}/").content.decode()
            for who in ("tele", "mgr")
        }
    for page in pages.values():
        assert f'data-participant="{cast.staff["mgr2"].pk}" data-rank="1" data-points="4.00"' in page


def test_nothing_counts_before_the_start(cast: Cast) -> None:
    c = create(cast)
    fact(cast.staff["tele"], "calls", 40)
    lb = svc.leaderboard(c, dt.date(2026, 10, 20))
    assert lb.through is None
    assert {r.points for r in lb.rows} == {Decimal("0")}


# --- finalising ---------------------------------------------------------------------------------------------


def test_it_cannot_be_finalised_before_it_ends(cast: Cast) -> None:
    c = create(cast)
    with pytest.raises(PlanError) as err:
        svc.finalise_competition(cast.staff["head"], c, END)
    assert err.value.code == "not_ended"
    assert not Standing.objects.exists()


def test_finalising_freezes_the_ranking_once(cast: Cast) -> None:
    c = create(cast)
    fact(cast.staff["tele"], "calls", 40)
    fact(cast.staff["mgr"], "calls", 20)
    svc.finalise_competition(cast.staff["head"], c, END + dt.timedelta(1))
    assert [
        (getattr(s.staff, "name", ""), s.rank, s.points, s.figures)
        for s in Standing.objects.select_related("staff")
    ] == [
        ("tele", 1, Decimal("4"), {"calls": "40"}),
        ("mgr", 2, Decimal("2"), {"calls": "20"}),
        ("mgr2", 3, Decimal("0"), {"calls": "0"}),
    ]
    assert AuditEvent.objects.filter(action="plans.competition_final", object_id=str(c.pk)).count() == 1
    with pytest.raises(PlanError) as err:
        svc.finalise_competition(cast.staff["head"], c, END + dt.timedelta(2))
    assert err.value.code == "already_final"
    assert Standing.objects.count() == 3


def test_the_final_ranking_does_not_move_with_later_figures(cast: Cast) -> None:
    c = create(cast)
    fact(cast.staff["tele"], "calls", 40)
    svc.finalise_competition(cast.staff["head"], c, END + dt.timedelta(1))
    fact(cast.staff["mgr"], "calls", 90, dt.date(2026, 11, 29))  # a late correction after the close
    c.refresh_from_db()
    final = svc.final_board(c)
    assert [(r.name, r.rank) for r in final.rows][:2] == [("tele", 1), ("mgr", 2)]
    assert final.final


def test_a_lead_cannot_finalise_a_competition_beyond_their_team(cast: Cast) -> None:
    c = create(cast)  # mgr2 is in the other team
    with pytest.raises(PlanError) as err:
        svc.finalise_competition(cast.staff["lead"], c, END + dt.timedelta(1))
    assert err.value.code == "out_of_reach"


# --- pages --------------------------------------------------------------------------------------------------


def test_the_list_splits_running_and_past(cast: Cast, django_assert_max_num_queries: Any) -> None:
    running = create(cast)
    past = create(cast, starts_on=dt.date(2026, 10, 1), ends_on=dt.date(2026, 10, 31))
    for _ in range(5):
        create(cast)
    client = cast.client("tele")
    with frozen(), django_assert_max_num_queries(12):
        page = client.get("/plans/competitions/").content.decode()
    running_part, past_part = page.split('data-testid="past"')
    assert f'data-competition="{running.pk}"' in running_part
    assert f'data-competition="{past.pk}"' in past_part
    assert 'data-testid="competition-new"' not in page


def test_other_branches_competitions_are_not_listed_and_are_404(cast: Cast) -> None:
    c = svc.create_competition(cast.staff["head_b"], data(), people(cast, "mgr_b"), [CALLS])
    with frozen():
        assert (
            f'data-competition="{c.pk}"'
            not in cast.client("head").get("/plans/competitions/").content.decode()
        )
        assert cast.client("head").get(f"/plans/competitions/{c.pk}/").status_code == 404


def test_the_leaderboard_page_highlights_my_row_and_draws_the_chart(cast: Cast) -> None:
    c = create(cast)
    fact(cast.staff["tele"], "calls", 40)
    with frozen():
        page = cast.client("mgr").get(f"/plans/competitions/{c.pk}/").content.decode()
    mine = re.findall(r'data-participant="(\d+)"[^>]*data-me="1"', page)
    assert mine == [str(cast.staff["mgr"].pk)]
    assert 'data-testid="live"' in page
    chart = json.loads(re.search(r'<script id="points-chart"[^>]*>(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    assert chart["series"][0]["data"][-1]["value"] == 4.0


def _rules_post(rows: list[dict[str, str]]) -> dict[str, str]:
    out = {
        "rules-TOTAL_FORMS": "3",
        "rules-INITIAL_FORMS": "0",
        "rules-MIN_NUM_FORMS": "0",
        "rules-MAX_NUM_FORMS": "6",
    }
    for i, row in enumerate(rows):
        out.update({f"rules-{i}-{k}": v for k, v in row.items()})
    return out


def _form(cast: Cast, **kw: Any) -> dict[str, Any]:
    return {
        "name": "外呼冲刺",
        "starts_on": "2026-11-01",
        "ends_on": "2026-11-30",
        "participant_kind": "staff",
        "staff": kw.pop("staff", people(cast, "tele", "mgr")),
        **_rules_post(kw.pop("rules", [{"figure": "calls", "per": "10", "points": "1"}])),
        **kw,
    }


def test_creating_through_the_page_redirects_to_the_leaderboard(cast: Cast) -> None:
    with frozen():
        response = cast.client("head").post("/plans/competitions/new/", _form(cast))
    c = Competition.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/plans/competitions/{c.pk}/"
    assert c.staff.count() == 2


@pytest.mark.parametrize(
    "change",
    [
        {"rules": [{"figure": "balance_growth", "per": "10000", "points": "1"}]},
        {"rules": [{"figure": "unknown", "per": "1", "points": "1"}]},
        {"rules": [{"figure": "calls", "per": "0", "points": "1"}]},
        {"rules": []},
        {"staff": []},
        {"ends_on": "2026-10-01"},
    ],
)
def test_a_refused_competition_form_shows_why_and_creates_nothing(cast: Cast, change: dict[str, Any]) -> None:
    with frozen():
        response = cast.client("head").post("/plans/competitions/new/", _form(cast, **change))
    assert response.status_code == 200
    assert 'data-testid="form-error"' in response.content.decode()
    assert not Competition.objects.exists()


def test_a_lead_is_offered_their_team_only(cast: Cast) -> None:
    with frozen():
        page = cast.client("lead").get("/plans/competitions/new/").content.decode()
    assert f'value="{cast.staff["tele"].pk}"' in page
    assert f'name="staff" value="{cast.staff["mgr2"].pk}"' not in page


def test_finalising_through_the_page_shows_the_final_ranking(cast: Cast) -> None:
    c = create(cast, starts_on=dt.date(2026, 10, 1), ends_on=dt.date(2026, 10, 31))
    client = cast.client("head")
    with frozen():
        response = client.post(f"/plans/competitions/{c.pk}/finalise/")
        page = client.get(f"/plans/competitions/{c.pk}/").content.decode()
    assert response.status_code == 302
    assert 'data-testid="final"' in page
    assert Standing.objects.filter(competition=c).count() == 3


def test_finalising_a_running_competition_through_the_page_changes_nothing(cast: Cast) -> None:
    c = create(cast)
    with frozen():
        response = cast.client("head").post(f"/plans/competitions/{c.pk}/finalise/")
    assert response.status_code == 302
    c.refresh_from_db()
    assert c.status == "open"
