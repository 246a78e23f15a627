"""The demo's plans: events held over the last month, the figures rolled up, last month's and this month's
plans with SMART targets split down to sub-branches, teams and people, a PDCA record on last month's plan,
and two competitions (this month's running, last month's final) — all written through the plans services,
as the branch head and the team leads would, so every page of the performance tabs has something to show.

Deterministic from the seed: one random.Random per branch, every list read in a fixed order. Cheap at
50,000 customers (the rollup is counted once; the rest reads the small fact tables) and safe at a few
hundred: whatever cannot be made (no head, no telemarketers, nothing to split) is skipped, never an error.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction

from xiaodai.core.roles import Role
from xiaodai.customers.models import Enterprise
from xiaodai.org.models import Branch, Staff, SubBranch, Team
from xiaodai.plans import competitions, deviations, events, pdca, read, rollup, targets
from xiaodai.plans.choices import (
    AdjustmentKind,
    Figure,
    FindingKind,
    FunnelStage,
    ParticipantKind,
    PlanKind,
    ScopeKind,
    SplitRule,
)
from xiaodai.plans.exceptions import PlanError
from xiaodai.plans.figures import FIGURES, FLOW_FIGURES
from xiaodai.plans.models import Finding, Plan, Target

ZERO = Decimal(0)
WAN = Decimal(10_000)  # 万元: money targets are set in tens of thousands of yuan
EVENT_DAYS = 30  # events are recorded within a month of being held (events.MAX_AGE_DAYS)
# A money split tempers last period's shares with an even part, so nobody starts the month at zero.
EVEN_PART = Decimal("0.3")
# Norms for a figure the branch has no history of yet: per person and working day, or per unit and month.
CALLS_PER_DAY = {Role.TELEMARKETER: 40, Role.LOAN_MANAGER: 15}  # managers also visit and serve the counter
REACHED_SHARE = Decimal("0.35")
REFERRAL_SHARE = Decimal("0.05")
VISITS_PER_MANAGER = 8
EVENTS_PER_SUB_BRANCH = 2
# Balance growth is what disbursement leaves after repayments: about a third of it in a month.
GROWTH_SHARE = Decimal("0.3")

FIGURE_CN: dict[str, str] = {
    Figure.DISBURSED_AMOUNT: "消费贷放款金额",
    Figure.NEW_DRAWDOWN_CUSTOMERS: "新增用信客户",
    Figure.BALANCE_GROWTH: "消费贷余额增量",
    Figure.APPROVED_AMOUNT: "授信金额",
    Figure.CALLS: "电话外呼",
    Figure.REACHED: "有效接通",
    Figure.VISITS: "上门走访",
    Figure.EVENTS: "营销活动",
    Figure.REFERRALS: "转介申请",
}
STAGE_CN: dict[int, str] = {
    FunnelStage.LISTED: "名单",
    FunnelStage.CONTACTED: "触达",
    FunnelStage.REACHED: "接通",
    FunnelStage.INTERESTED: "有意向",
    FunnelStage.APPLIED: "申请",
    FunnelStage.APPROVED: "授信",
    FunnelStage.DISBURSED: "放款",
    FunnelStage.DRAWN: "用信",
}
# Neighbourhoods of each district's sub-branch (by the district in its name), for event titles.
COMMUNITIES = {
    "上城": ("湖滨", "清波", "小营", "望江"),
    "拱墅": ("米市巷", "和睦", "大关", "小河"),
    "西湖": ("西湖", "文新", "翠苑", "蒋村"),
    "滨江": ("长河", "西兴", "浦沿"),
    "萧山": ("城厢", "北干", "宁围"),
    "余杭": ("良渚", "闲林", "五常"),
}
THEMES = ("装修贷", "安家消费贷", "购车分期", "教育分期", "旅游消费贷", "家电以旧换新")
# Causes a head writes down for a figure behind pace: money, process work and events fall behind differently.
CAUSES: dict[str, tuple[str, ...]] = {
    "outcome": (
        "已授信未用信客户激活不足，电话邀约后上门跟进不及时。",
        "审批周期拉长，部分申请顺延到下月放款。",
        "意向客户集中在少数客户经理手中，跟进不均衡。",
    ),
    "process": (
        "名单集中在少数人手中，外呼量不均衡，午后时段接通率低。",
        "客户经理临柜事务多，外呼和走访时间被挤占。",
    ),
    Figure.EVENTS: (
        "部分支行活动筹备不足，场地和物料未提前落实。",
        "活动集中在月末，前半月没有举办。",
    ),
}
# What a head writes when few deviations are flagged: how the work itself went.
QUIET_FINDINGS = (
    "活动复盘：到场客户多、会后转化少，活动后回访未在3日内完成，“432”中的“2”执行不到位。",
    "过程复盘：意向客户的二次跟进记录不全，部分客户经理未按时回访，名单推进慢于计划。",
)
RESOURCE_ACTS = (
    "从已授信未用信名单中为{who}追加一批高意向客户，并增配1名电销坐席支援外呼。",
    "申请专项营销费用，用于{who}到场客户权益（刷卡金、利率优惠券）。",
)
PROCESS_ACTS = (
    "每日晨会通报{figure}进度，行长每周督导复盘一次，落后者制定追赶计划。",
    "活动执行“432”要求：活动后3日内完成全部到场客户回访并登记结果。",
)


@dataclass
class PlansResult:
    """What the step wrote for one branch (the command prints it)."""

    events: int = 0
    plans: int = 0
    targets: int = 0
    findings: int = 0
    adjustments: int = 0
    competitions: int = 0
    fact_rows: int = 0


def prepare(branch: Branch, as_of: dt.date, seed: int) -> PlansResult:
    """Events, the rollup, two months' plans with their targets, PDCA and competitions for one branch."""
    # Seeded by the branch's code, not its id: ids depend on what the database made before (PostgreSQL's
    # sequences move on in rolled-back transactions), and the same seed must make the same plans.
    rng = random.Random(f"{seed}:{branch.code}")
    result = PlansResult()
    with transaction.atomic():  # one commit: quick on SQLite, and never half a demo
        result.events = _events(branch, as_of, rng)
        # Everything counted from here on: the workbench's calls, the events, the drop's money. The pages'
        # routine refresh uses the real date; count up to it too when the business date lies behind it.
        refresh = rollup.refresh_all(branch.pk, today=max(as_of, rollup.local_today()))
        result.fact_rows = refresh.fact_rows
        head = Staff.objects.filter(branch=branch, role=Role.BRANCH_HEAD, user__is_active=True).order_by("pk")
        if (boss := head.first()) is not None:
            _plans(boss, as_of, rng, result)
        deviations.keep_branch_flags(branch.pk, rollup.local_today())
    return result


# --- events -------------------------------------------------------------------------------------------


def _short(name: str) -> str:
    """'杭州天同信息技术有限公司' → '天同信息技术' (the name people say)."""
    for prefix in ("杭州市", "杭州"):
        name = name.removeprefix(prefix)
    for suffix in ("股份有限公司", "有限责任公司", "有限公司", "集团"):
        name = name.removesuffix(suffix)
    return name[:16]


def _district(sub: SubBranch) -> tuple[str, ...]:
    for district, places in COMMUNITIES.items():
        if district in sub.name:
            return places
    return (sub.name.removesuffix("支行"),)


def _events(branch: Branch, as_of: dt.date, rng: random.Random) -> int:
    """Two to four events per sub-branch over the last 30 days, held by its loan managers and team leads:
    community salons, presentations at payroll partners, fixed-point promotions."""
    # record_event takes events of the last 31 days by the real date: stay inside both windows.
    real = rollup.local_today()
    first, last = max(as_of - dt.timedelta(EVENT_DAYS), real - dt.timedelta(EVENT_DAYS)), min(as_of, real)
    if first > last:
        return 0
    span = (last - first).days
    firms = list(
        Enterprise.objects.filter(branch=branch)
        .order_by("-is_payroll_partner", "code")
        .values_list("name", flat=True)
    )
    held = 0
    for sub in SubBranch.objects.filter(branch=branch).order_by("code"):
        hosts = list(
            Staff.objects.filter(
                sub_branch=sub, role__in=(Role.LOAN_MANAGER, Role.TEAM_LEAD), user__is_active=True
            ).order_by("pk")
        )
        if not hosts:
            continue
        places = _district(sub)
        for _n in range(rng.randint(2, 4)):
            host = rng.choice(hosts)
            community, theme = rng.choice(places), rng.choice(THEMES)
            kind = rng.random()
            if kind < 0.35 and firms:
                firm = rng.choice(firms[:12])
                title, place = f"{_short(firm)}代发客户进企业宣讲", firm
            elif kind < 0.75:
                title, place = f"{community}社区{theme}沙龙", f"{community}社区活动中心"
            else:
                title, place = f"{community}家居建材节{theme}定点宣传", f"{community}家居广场"
            data = {
                "title": title[: events.TITLE_MAX],
                "place": place[: events.PLACE_MAX],
                "held_on": first + dt.timedelta(rng.randint(0, span)),
                "attendees": rng.randint(12, 60),
            }
            try:
                events.record_event(host, data)
            except PlanError:  # refused (the clock moved past the window): the demo goes without it
                continue
            held += 1
    return held


# --- plans and targets ------------------------------------------------------------------------------------


def _month(day: dt.date) -> tuple[dt.date, dt.date]:
    return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _plan_text(branch: Branch, month: dt.date, rng: random.Random) -> dict[str, str]:
    people = Staff.objects.filter(branch=branch, user__is_active=True)
    tele = people.filter(role=Role.TELEMARKETER).count()
    managers = people.filter(role=Role.LOAN_MANAGER).count()
    leads = people.filter(role=Role.TEAM_LEAD).count()
    budget = rng.choice((8, 10, 12, 15))
    resources = (
        f"电销坐席{tele}人、消费贷客户经理{managers}人、团队长{leads}人；营销费用{budget}万元，"
        "用于社区沙龙、进企业宣讲和到场客户权益；审批绿色通道每周二、周四开放。"
    )
    actions = [
        "已授信未用信客户逐户电话激活，每人每日外呼不少于40通，意向客户48小时内上门跟进；",
        "各支行每月至少举办2场社区或企业活动，按“432”要求筹备、执行和复盘；",
        "代发单位名单进企业集中宣讲：攻坚队开拓渠道，跟进队逐户转化；",
        "过往资信良好客户二次营销，结合装修、购车、教育等场景推荐消费贷；",
        "每周一晨会通报目标进度，落后团队由行长督导并制定追赶计划。",
    ]
    first = actions[:4]
    rng.shuffle(first)  # the weekly review stays last
    lines = [f"{i}. {text}" for i, text in enumerate([*first, actions[4]], start=1)]
    return {
        "name": f"{month.year}年{month.month}月消费贷营销计划",
        "resources": resources,
        "actions": "\n".join(lines),
    }


def _grow(rng: random.Random) -> Decimal:
    return Decimal(rng.randint(105, 120)) / 100


def _round(figure: str, value: Decimal, floor: int) -> Decimal:
    """A target in sensible units: money up to the next 10,000 yuan, counts whole; at least `floor` units
    (one per sub-branch, so the split gives each a part)."""
    if FIGURES[figure].money:
        return max((value / WAN).to_integral_value(ROUND_CEILING), Decimal(floor)) * WAN
    return max(value.to_integral_value(ROUND_HALF_UP), Decimal(floor))


def _norm(figure: str, branch: Branch, days: int) -> Decimal:
    """What a branch of this size would aim for with no history of the figure yet."""
    people = Staff.objects.filter(branch=branch, user__is_active=True)
    calls = Decimal(sum(n * days * people.filter(role=role).count() for role, n in CALLS_PER_DAY.items()))
    if figure == Figure.CALLS:
        return calls
    if figure == Figure.REACHED:
        return calls * REACHED_SHARE
    if figure == Figure.REFERRALS:
        return calls * REFERRAL_SHARE
    if figure == Figure.VISITS:
        return Decimal(VISITS_PER_MANAGER * people.filter(role=Role.LOAN_MANAGER).count())
    if figure == Figure.EVENTS:
        return Decimal(EVENTS_PER_SUB_BRANCH * SubBranch.objects.filter(branch=branch).count())
    return ZERO  # money: sized from the disbursed amount below


def _this_month_values(
    head: Staff, month: tuple[dt.date, dt.date], as_of: dt.date, rng: random.Random, floor: int
) -> dict[str, Decimal]:
    """Each figure's target this month: last month's figure grown 5–20 %; a figure with no last month (the
    demo's contact history lives in the lake, not in the workbench's outcomes) from this month's pace so far,
    else from the norms."""
    start, end = month
    prev_start, prev_end = targets.previous_period(start, end)
    last = read.values(head.user, prev_start, prev_end).get(None, {})
    so_far = read.values(head.user, start, min(as_of, end)).get(None, {})
    share = read.elapsed_share(start, end, as_of)
    days = read.working_days(start, end)
    out: dict[str, Decimal] = {}
    for code in FLOW_FIGURES:
        base = last.get(code) or ZERO
        if base <= 0 and share > 0:
            base = (so_far.get(code) or ZERO) / share
        if base <= 0:
            base = _norm(code, head.branch, days)
        out[code] = base
    if out[Figure.DISBURSED_AMOUNT] <= 0:
        out[Figure.DISBURSED_AMOUNT] = out[Figure.APPROVED_AMOUNT] / 2
    growth = last.get(Figure.BALANCE_GROWTH)
    out[Figure.BALANCE_GROWTH] = (
        growth if growth and growth > 0 else out[Figure.DISBURSED_AMOUNT] * GROWTH_SHARE
    )
    return {code: _round(code, out[code] * _grow(rng), floor) for code in FIGURES}


def _last_month_values(
    head: Staff, month: tuple[dt.date, dt.date], rng: random.Random, floor: int
) -> dict[str, Decimal]:
    """Last month's targets, on the figures the branch has a record of then or the month before (a target
    on a figure nobody worked yet would only say 0 %): the month before grown 5–20 %; the events held, when
    there were any, at the norm the plan asks of every sub-branch."""
    start, end = month
    before = read.values(head.user, *targets.previous_period(start, end)).get(None, {})
    then = read.values(head.user, start, end).get(None, {})
    out: dict[str, Decimal] = {}
    for code in FLOW_FIGURES:
        base = before.get(code) or then.get(code) or ZERO
        if code == Figure.EVENTS and base > 0:
            out[code] = _round(code, _norm(code, head.branch, 0), floor)
        elif base > 0:
            out[code] = _round(code, base * _grow(rng), floor)
    return out


def _shares(total: Decimal, weights: list[Decimal], unit: Decimal) -> list[Decimal]:
    """`total` in proportion to `weights`, in whole units adding up exactly (largest remainders get the
    units left over; ties to the first)."""
    units = int((total / unit).to_integral_value(ROUND_DOWN))
    weight_sum = sum(weights, ZERO)
    if weight_sum <= 0:
        weights, weight_sum = [Decimal(1)] * len(weights), Decimal(len(weights))
    raw = [Decimal(units) * w / weight_sum for w in weights]
    floors = [int(r.to_integral_value(ROUND_DOWN)) for r in raw]
    for i in sorted(range(len(raw)), key=lambda i: (floors[i] - raw[i], i))[: units - sum(floors)]:
        floors[i] += 1
    return [Decimal(n) * unit for n in floors]


def _unit(target: Target, parts: int) -> Decimal:
    """The roundest unit the parts can be set in: 10,000, 1,000 or 100 yuan, else the fen; counts whole."""
    if not FIGURES[target.figure].money:
        return Decimal(1)
    for unit in (WAN, Decimal(1000), Decimal(100)):
        if target.value % unit == 0 and target.value / unit >= 3 * parts:
            return unit
    return Decimal("0.01")


def _split(staff: Staff, target: Target, as_of: dt.date) -> list[Target]:
    """Split a target one level down through the services: money and customers by last period's share
    (tempered by an even part), process figures evenly. Skipped when there is nobody below, or a count too
    small to give everyone one."""
    process = FIGURES[target.figure].kind == "process"
    rule = SplitRule.EVEN if process else SplitRule.LAST_PERIOD
    try:
        proposal = targets.propose(staff, target, rule, as_of)
    except PlanError:  # nobody under this unit
        return []
    parts = len(proposal.rows)
    unit = _unit(target, parts)
    if target.value < unit * parts:
        return []
    proposed = [value for _node, value in proposal.rows]
    weights = proposed if process else [v + target.value / parts * EVEN_PART for v in proposed]
    values = _shares(target.value, weights, unit)
    split = {node.key: value for (node, _v), value in zip(proposal.rows, values, strict=True)}
    return targets.save_split(staff, target, split, proposal.rule)


def _lead_of(team_id: int, head: Staff) -> Staff:
    lead = (
        Staff.objects.filter(team_id=team_id, role=Role.TEAM_LEAD, user__is_active=True)
        .order_by("pk")
        .first()
    )
    return lead or head


def _set_and_split(head: Staff, plan: Plan, values: dict[str, Decimal], as_of: dt.date, depth: int) -> int:
    """Branch targets set by the head, split to sub-branches (depth 1), on to teams (2) by the head and on
    to people (3) by each team's lead. Returns the number of targets written."""
    written = 0
    for code, value in values.items():
        level = [targets.set_target(head, plan, ScopeKind.BRANCH, plan.branch_id, code, value)]
        written += 1
        for _step in range(depth):
            below: list[Target] = []
            for parent in level:
                who = (
                    _lead_of(parent.team_id, head)
                    if parent.scope == ScopeKind.TEAM and parent.team_id
                    else head
                )
                below += _split(who, parent, as_of)
            written += len(below)
            level = below
    return written


def _plans(head: Staff, as_of: dt.date, rng: random.Random, result: PlansResult) -> None:
    branch = head.branch
    floor = SubBranch.objects.filter(branch=branch).count() or 1
    this_month = _month(as_of)
    last_month = targets.previous_period(*this_month)
    made: dict[str, Plan] = {}
    for key, (start, end) in (("last", last_month), ("this", this_month)):
        data = {**_plan_text(branch, start, rng), "kind": PlanKind.MONTH, "starts_on": start, "ends_on": end}
        made[key] = targets.create_plan(head, data)
    result.plans = len(made)
    # Last month's money split to the sub-branches only; its process targets stay at branch level (the PDCA
    # adjustment may change those without unbalancing a split).
    last_values = _last_month_values(head, last_month, rng, floor)
    outcome = {k: v for k, v in last_values.items() if FIGURES[k].kind == "outcome"}
    process = {k: v for k, v in last_values.items() if k not in outcome}
    result.targets += _set_and_split(head, made["last"], outcome, as_of, depth=1)
    result.targets += _set_and_split(head, made["last"], process, as_of, depth=0)
    this_values = _this_month_values(head, this_month, as_of, rng, floor)
    result.targets += _set_and_split(head, made["this"], this_values, as_of, depth=3)
    result.findings, result.adjustments = _pdca(head, made["last"], as_of, rng)
    result.competitions = _competitions(head, this_month, last_month, as_of)


# --- PDCA -------------------------------------------------------------------------------------------------


def _amount(figure: str, raw: Any) -> str:
    value = Decimal(str(raw or 0))
    if FIGURES.get(figure) and FIGURES[figure].money:
        return f"{value / WAN:,.1f}万元"
    return f"{value:,.0f}"


def _finding_text(flag: dict[str, Any], rng: random.Random) -> str:
    who, kind = flag.get("who", ""), flag.get("kind")
    if kind == FindingKind.BEHIND_PACE and flag.get("scope") == "pool":
        return (
            f"{who}推进到申请环节的客户{flag.get('now')}户，较前{flag.get('days')}天的{flag.get('before')}户"
            f"明显下降（{flag.get('ratio')}%），名单质量或跟进节奏需复盘。"
        )
    if kind == FindingKind.BEHIND_PACE:
        figure = str(flag.get("figure", ""))
        return (
            f"{who}{FIGURE_CN.get(figure, figure)}完成{_amount(figure, flag.get('actual'))}，"
            f"目标{_amount(figure, flag.get('target'))}，仅为时间进度要求的{flag.get('ratio')}%。"
            f"{rng.choice(CAUSES.get(figure) or CAUSES[FIGURES[figure].kind])}"
        )
    if kind == FindingKind.CONVERSION_DROP:
        stage = STAGE_CN.get(int(flag.get("stage", 0)), "")
        return (
            f"{who}{stage}环节转化率由{flag.get('before')}%降至{flag.get('now')}%，下降{flag.get('drop')}个"
            f"百分点。{rng.choice(CAUSES['process'])}"
        )
    return f"{who}有{flag.get('n')}户认领客户超过{flag.get('days')}天未联系，认领保护期内未跟进。"


def _topic(d: pdca.Deviation) -> str:
    return str(d.subject.get("figure") or d.subject.get("pool") or d.kind)


def _pick(flagged: list[pdca.Deviation], lone: set[int]) -> list[pdca.Deviation]:
    """Up to three deviations: the branch's own unsplit targets first, then the worst of the rest; each a
    new unit and figure while the flags allow, else any not yet written."""
    ordered = sorted(flagged, key=lambda d: d.subject.get("target_id") not in lone)
    picked: list[pdca.Deviation] = []
    for strict in (True, False):
        for d in ordered:
            if len(picked) == 3:
                return picked
            if strict and any(p.who == d.who or _topic(p) == _topic(d) for p in picked):
                continue
            if not any(p.who == d.who and _topic(p) == _topic(d) for p in picked):
                picked.append(d)
    return picked


def _adjust(head: Staff, plan: Plan, finding: Finding, n: int, lone: set[int], change: bool) -> bool:
    """One adjustment for a finding: a lower target when it is about a target no split hangs on (and
    `change` allows), else more resources or a process change. True when a target was changed."""
    figure = FIGURE_CN.get(finding.flag.get("figure", ""), "目标")
    who = finding.flag.get("who") or "各支行"
    target = Target.objects.filter(pk=finding.flag.get("target_id"), pk__in=lone).first()
    new = _round(target.figure, target.value * Decimal("0.85"), 1) if target else ZERO
    if change and target is not None and new < target.value:
        text = (
            f"结合{who}实际产能，将{figure}目标由{_amount(target.figure, target.value)}调整为"
            f"{_amount(target.figure, new)}，差额纳入下月计划统筹。"
        )
        pdca.make_adjustment(head, plan, finding, AdjustmentKind.TARGET, text, target=target, new_value=new)
        return True
    if n % 2 == 0:
        text = RESOURCE_ACTS[n // 2 % len(RESOURCE_ACTS)].format(who=who)
        pdca.make_adjustment(head, plan, finding, AdjustmentKind.RESOURCES, text)
    else:
        text = PROCESS_ACTS[n // 2 % len(PROCESS_ACTS)].format(figure=figure)
        pdca.make_adjustment(head, plan, finding, AdjustmentKind.PROCESS, text)
    return False


def _pdca(head: Staff, plan: Plan, as_of: dt.date, rng: random.Random) -> tuple[int, int]:
    """Two or three findings written by the head from the deviations flagged on last month's plan, each
    with one adjustment; one of them changes a target when a flagged target can change alone."""
    # Targets with no parent and no children: changing one leaves every split adding up.
    lone = set(
        Target.objects.filter(plan=plan, parent__isnull=True, children__isnull=True).values_list(
            "pk", flat=True
        )
    )
    picked = _pick(pdca.deviations(head.user, plan, as_of), lone)
    findings = [pdca.write_finding(head, plan, d.kind, _finding_text(d.flag, rng), d.flag) for d in picked]
    for text in QUIET_FINDINGS[: max(0, 2 - len(findings))]:  # a quiet month: the head reviews the work
        findings.append(pdca.write_finding(head, plan, FindingKind.OTHER, text))
    changed = False
    for n, finding in enumerate(findings):
        changed = _adjust(head, plan, finding, n, lone, not changed) or changed
    return len(findings), len(findings)


# --- competitions -------------------------------------------------------------------------------------------


def _competitions(
    head: Staff, this_month: tuple[dt.date, dt.date], last_month: tuple[dt.date, dt.date], as_of: dt.date
) -> int:
    """This month's telemarketing sprint (running) and last month's team competition (finalised)."""
    made = 0
    callers = list(
        Staff.objects.filter(branch_id=head.branch_id, role=Role.TELEMARKETER, user__is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if callers:
        competitions.create_competition(
            head,
            {
                "name": f"{this_month[0].month}月电销冲刺赛",
                "starts_on": this_month[0],
                "ends_on": this_month[1],
                "participant_kind": ParticipantKind.STAFF,
            },
            callers,
            [
                competitions.RuleSpec(Figure.CALLS, 20, 1),
                competitions.RuleSpec(Figure.REFERRALS, 1, 5),
                competitions.RuleSpec(Figure.DISBURSED_AMOUNT, WAN, 2),
            ],
        )
        made += 1
    teams = list(Team.objects.filter(branch_id=head.branch_id).order_by("pk").values_list("pk", flat=True))
    if teams:
        last = competitions.create_competition(
            head,
            {
                "name": f"{last_month[0].month}月团队劳动竞赛",
                "starts_on": last_month[0],
                "ends_on": last_month[1],
                "participant_kind": ParticipantKind.TEAM,
            },
            teams,
            [
                competitions.RuleSpec(Figure.DISBURSED_AMOUNT, WAN, 2),
                competitions.RuleSpec(Figure.NEW_DRAWDOWN_CUSTOMERS, 1, 3),
                competitions.RuleSpec(Figure.EVENTS, 1, 5),
            ],
        )
        competitions.finalise_competition(head, last, today=as_of)
        made += 1
    return made
