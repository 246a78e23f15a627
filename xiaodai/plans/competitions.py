"""Competitions (劳动竞赛, playbook Part 3 §三): a period, people or teams, scoring rules over the figures, a
live leaderboard and, once the period is over, a final ranking frozen as Standing rows.

Scoring: each rule gives `value ÷ per × points` (pro rata, to the fen of a point), at most `cap` points in
absolute value when a cap is set; a participant's points are the sum over the rules. Equal points share a
rank (1, 1, 3). Figures come from the daily rollup (FigureFact), the same numbers every dashboard shows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy

from xiaodai.audit.choices import Action
from xiaodai.audit.services import record
from xiaodai.core.access import Actor, actor_of
from xiaodai.core.roles import Perm, Role
from xiaodai.org.models import Staff, Team
from xiaodai.plans.choices import CompetitionStatus, Figure, ParticipantKind
from xiaodai.plans.exceptions import PlanError
from xiaodai.plans.figures import FIGURES, FLOW_FIGURES, quantize
from xiaodai.plans.models import Competition, CompetitionRule, FigureFact, Standing

ZERO = Decimal(0)
POINT = Decimal("0.01")
MAX_DAYS = 366
NAME_MAX = 100
# Balance growth is a difference of two stocks on data dates, not a sum of days: it cannot be cut to a
# participant's days in the competition the way a flow figure can, so no rule may score it.
SCORABLE = FLOW_FIGURES

MESSAGES = {
    "not_allowed": gettext_lazy("Only the branch head and team leads run competitions."),
    "name_required": gettext_lazy("Give the competition a name (at most %(max)s characters)."),
    "bad_period": gettext_lazy("The competition ends on %(end)s, before it starts on %(start)s."),
    "too_long": gettext_lazy("A competition runs at most %(max)s days."),
    "bad_kind": gettext_lazy("Choose whether people or teams compete."),
    "no_participants": gettext_lazy("Choose at least one participant."),
    "out_of_reach": gettext_lazy(
        "%(who)s cannot take part: participants come from your branch, and a team lead's from their team."
    ),
    "no_rules": gettext_lazy("Give at least one scoring rule: a figure and the points it earns."),
    "unknown_figure": gettext_lazy("Rule %(n)s: %(figure)s is not a figure a competition can score."),
    "figure_not_scorable": gettext_lazy(
        "Rule %(n)s: balance growth compares the balance on two data dates, so it cannot be scored day by "
        "day; score disbursed amount or new drawdown customers instead."
    ),
    "duplicate_rule": gettext_lazy("Rule %(n)s: %(figure)s is scored twice; give it one rule."),
    "bad_rule": gettext_lazy(
        "Rule %(n)s: 'per' must be above 0, the points not 0, and a cap (if any) above 0."
    ),
    "not_ended": gettext_lazy("The competition runs until %(end)s: it can be finalised from the day after."),
    "already_final": gettext_lazy("The competition was already finalised on %(at)s."),
}


def _error(code: str, **params: Any) -> PlanError:
    return PlanError(code, MESSAGES[code], **params)


@dataclass(frozen=True)
class RuleSpec:
    """One scoring rule as entered: `points` for every `per` of `figure`, at most `cap` points."""

    figure: str
    per: Decimal | int | str
    points: Decimal | int | str
    cap: Decimal | int | str | None = None


# --- creating -----------------------------------------------------------------------------------------------


def _check_manager(staff: Staff) -> Actor:
    actor = actor_of(staff.user)
    if not actor.has(Perm.MANAGE_TARGETS) or actor.branch_id is None:
        raise _error("not_allowed")
    return actor


def _decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def clean_rules(rules: Sequence[RuleSpec]) -> list[CompetitionRule]:
    """Rules checked and turned into unsaved rows (numbered from 1 in the messages, as on the form)."""
    if not rules:
        raise _error("no_rules")
    out: list[CompetitionRule] = []
    seen: set[str] = set()
    for n, rule in enumerate(rules, start=1):
        if rule.figure == Figure.BALANCE_GROWTH:
            raise _error("figure_not_scorable", n=n)
        if rule.figure not in SCORABLE:
            raise _error("unknown_figure", n=n, figure=str(rule.figure)[:40])
        if rule.figure in seen:
            raise _error("duplicate_rule", n=n, figure=FIGURES[rule.figure].label)
        seen.add(rule.figure)
        per, points = _decimal(rule.per), _decimal(rule.points)
        cap = _decimal(rule.cap)
        if per is None or per <= 0 or points is None or points == 0:
            raise _error("bad_rule", n=n)
        if rule.cap not in (None, "") and (cap is None or cap <= 0):
            raise _error("bad_rule", n=n)
        try:
            row = CompetitionRule(
                figure=rule.figure,
                per=per.quantize(POINT),
                points=points.quantize(POINT),
                cap=cap.quantize(POINT) if cap is not None else None,
            )
        except InvalidOperation as exc:  # more digits than the columns hold
            raise _error("bad_rule", n=n) from exc
        if row.per <= 0 or row.points == 0:
            raise _error("bad_rule", n=n)
        out.append(row)
    return out


def _participants(actor: Actor, kind: str, ids: Sequence[int]) -> list[Any]:
    """The people or teams named, each in the actor's branch (and a lead's team); else out_of_reach."""
    wanted = sorted(set(ids))
    if not wanted:
        raise _error("no_participants")
    lead = actor.role == Role.TEAM_LEAD
    found: dict[int, Any]
    if kind == ParticipantKind.STAFF:
        found = {s.pk: s for s in Staff.objects.filter(pk__in=wanted)}
        for pk in wanted:
            s = found.get(pk)
            if s is None or s.branch_id != actor.branch_id or (lead and s.team_id != actor.team_id):
                raise _error("out_of_reach", who=s.name if s and s.branch_id == actor.branch_id else f"#{pk}")
    else:
        found = {t.pk: t for t in Team.objects.filter(pk__in=wanted)}
        for pk in wanted:
            t = found.get(pk)
            if t is None or t.branch_id != actor.branch_id or (lead and t.pk != actor.team_id):
                raise _error("out_of_reach", who=t.name if t and t.branch_id == actor.branch_id else f"#{pk}")
    return [found[pk] for pk in wanted]


@transaction.atomic
def create_competition(
    staff: Staff, data: dict[str, Any], participants: Sequence[int], rules: Sequence[RuleSpec]
) -> Competition:
    """Create a competition: `data` holds name, starts_on, ends_on and participant_kind ('staff' or 'team');
    `participants` are staff or team ids of that kind; `rules` the scoring. Refused whole on any bad input."""
    actor = _check_manager(staff)
    name = str(data.get("name") or "").strip()
    if not name or len(name) > NAME_MAX:
        raise _error("name_required", max=NAME_MAX)
    start, end = data.get("starts_on"), data.get("ends_on")
    if not isinstance(start, dt.date) or not isinstance(end, dt.date) or end < start:
        raise _error("bad_period", start=start, end=end)
    if (end - start).days + 1 > MAX_DAYS:
        raise _error("too_long", max=MAX_DAYS)
    kind = data.get("participant_kind")
    if kind not in ParticipantKind.values:
        raise _error("bad_kind")
    people = _participants(actor, kind, participants)
    rows = clean_rules(rules)
    competition = Competition.objects.create(
        branch_id=staff.branch_id,
        name=name,
        starts_on=start,
        ends_on=end,
        participant_kind=kind,
        created_by=staff,
    )
    if kind == ParticipantKind.STAFF:
        competition.staff.set(people)
    else:
        competition.teams.set(people)
    for row in rows:
        row.competition = competition
    CompetitionRule.objects.bulk_create(rows)
    record(
        Action.COMPETITION_SAVE,
        user=staff.user,
        obj=competition,
        detail={
            "kind": kind,
            "participants": [p.pk for p in people],
            "rules": [r.figure for r in rows],
            "starts_on": start.isoformat(),
            "ends_on": end.isoformat(),
        },
    )
    return competition


# --- the leaderboard ----------------------------------------------------------------------------------------


@dataclass
class Row:
    """One participant on the leaderboard: figures, points per rule, total and rank."""

    participant_id: int
    name: str
    figures: dict[str, Decimal]
    points_by_figure: dict[str, Decimal]
    points: Decimal
    rank: int = 0
    me: bool = False
    cells: list[tuple[Decimal, Decimal, bool]] = field(
        default_factory=list
    )  # (value, points, money) per rule


@dataclass
class Leaderboard:
    competition: Competition
    rules: list[CompetitionRule]
    rows: list[Row]
    through: dt.date | None  # the last day counted (None before the competition starts)
    final: bool


def score(rule: CompetitionRule, value: Decimal) -> Decimal:
    """value ÷ per × points, capped at ±cap, to the fen of a point."""
    earned = value / rule.per * rule.points
    if rule.cap is not None:
        earned = max(min(earned, rule.cap), -rule.cap)
    return earned.quantize(POINT)


def rank(rows: list[Row]) -> list[Row]:
    """Order by points (then name, for a stable table); equal points share a rank (1, 1, 3)."""
    rows.sort(key=lambda r: (-r.points, r.name, r.participant_id))
    for i, row in enumerate(rows):
        row.rank = rows[i - 1].rank if i and row.points == rows[i - 1].points else i + 1
    return rows


def _roster(competition: Competition) -> list[tuple[int, str]]:
    if competition.participant_kind == ParticipantKind.STAFF:
        return list(competition.staff.order_by("pk").values_list("pk", "name"))
    return list(competition.teams.order_by("pk").values_list("pk", "name"))


def leaderboard(competition: Competition, today: dt.date, me: Staff | None = None) -> Leaderboard:
    """The live standings over [starts_on, min(ends_on, today)], from the rollup.

    The caller fetched `competition` through Competition.objects.for_staff(user); the figures are then read
    for the competition's branch and participants WITHOUT the viewer's scope on purpose: a leaderboard is
    public inside the branch (everyone sees everyone's rank and points: that is what a competition is)."""
    rules = list(competition.rules.all())
    column = "staff_id" if competition.participant_kind == ParticipantKind.STAFF else "team_id"
    roster = _roster(competition)
    through = min(competition.ends_on, today) if today >= competition.starts_on else None
    sums: dict[int, dict[str, Decimal]] = defaultdict(dict)
    if through is not None and roster and rules:
        facts = FigureFact.objects.filter(
            branch_id=competition.branch_id,
            day__range=(competition.starts_on, through),
            figure__in=[r.figure for r in rules],
            **{f"{column}__in": [pk for pk, _name in roster]},
        )
        for r in facts.values(column, "figure").annotate(v=Sum("value")).order_by():
            sums[r[column]][r["figure"]] = r["v"] or ZERO
    mine = None
    if me is not None:
        mine = me.pk if column == "staff_id" else me.team_id
    rows = []
    for pk, name in roster:
        figures = {r.figure: quantize(r.figure, sums[pk].get(r.figure, ZERO)) for r in rules}
        points = {r.figure: score(r, figures[r.figure]) for r in rules}
        row = Row(pk, name, figures, points, sum(points.values(), ZERO), me=pk == mine)
        row.cells = [(figures[r.figure], points[r.figure], FIGURES[r.figure].money) for r in rules]
        rows.append(row)
    return Leaderboard(competition, rules, rank(rows), through, final=False)


def final_board(competition: Competition, me: Staff | None = None) -> Leaderboard:
    """The frozen ranking of a finalised competition, from its Standing rows."""
    rules = list(competition.rules.all())
    staff_kind = competition.participant_kind == ParticipantKind.STAFF
    standings = competition.standings.select_related("staff" if staff_kind else "team")
    mine = None
    if me is not None:
        mine = me.pk if staff_kind else me.team_id
    rows = []
    for s in standings:
        who = s.staff if staff_kind else s.team
        pk = s.staff_id if staff_kind else s.team_id
        figures = {r.figure: Decimal(str(s.figures.get(r.figure, "0"))) for r in rules}
        points = {r.figure: score(r, figures[r.figure]) for r in rules}
        row = Row(pk or 0, who.name if who else "", figures, points, s.points, rank=s.rank, me=pk == mine)
        row.cells = [(figures[r.figure], points[r.figure], FIGURES[r.figure].money) for r in rules]
        rows.append(row)
    return Leaderboard(competition, rules, rows, competition.ends_on, final=True)


# --- finalising ---------------------------------------------------------------------------------------------


@transaction.atomic
def finalise_competition(staff: Staff, competition: Competition, today: dt.date) -> list[Standing]:
    """Freeze the ranking once the period is over: Standing rows with each participant's rank, points and
    figures. Once only (the row is locked, so two clicks at once finalise it once)."""
    actor = _check_manager(staff)
    locked = Competition.objects.select_for_update().get(pk=competition.pk)
    if locked.branch_id != actor.branch_id:
        raise _error("not_allowed")
    if locked.status == CompetitionStatus.FINAL:
        at = timezone.localtime(locked.finalised_at) if locked.finalised_at else None
        raise _error("already_final", at=at.strftime("%Y-%m-%d %H:%M") if at else "")
    if today <= locked.ends_on:
        raise _error("not_ended", end=locked.ends_on.isoformat())
    if actor.role == Role.TEAM_LEAD:
        # A lead finalises only a competition wholly inside their team (one they could have set up).
        if locked.participant_kind == ParticipantKind.STAFF:
            outside = list(locked.staff.exclude(team_id=actor.team_id).values_list("name", flat=True)[:1])
        else:
            outside = list(locked.teams.exclude(pk=actor.team_id).values_list("name", flat=True)[:1])
        if outside:
            raise _error("out_of_reach", who=outside[0])
    board = leaderboard(locked, today)
    standings = Standing.objects.bulk_create(
        [
            Standing(
                competition=locked,
                rank=row.rank,
                staff_id=row.participant_id if locked.participant_kind == ParticipantKind.STAFF else None,
                team_id=row.participant_id if locked.participant_kind == ParticipantKind.TEAM else None,
                points=row.points,
                figures={code: str(value) for code, value in row.figures.items()},
            )
            for row in board.rows
        ]
    )
    locked.status = CompetitionStatus.FINAL
    locked.finalised_at = timezone.now()
    locked.save(update_fields=["status", "finalised_at"])
    competition.status, competition.finalised_at = locked.status, locked.finalised_at
    record(
        Action.COMPETITION_FINALISE,
        user=staff.user,
        obj=locked,
        detail={
            "through": board.through.isoformat() if board.through else None,
            "ranking": [[row.participant_id, row.rank, str(row.points)] for row in board.rows],
        },
    )
    return standings
