"""Published pool results built by hand, without the engine: a done, published PipelineRun, its PoolMember
rows, and PoolFigure rows counted from those members at every level the way the pool step counts them
(branch, sub-branch, team, person; customers without an owner only at branch and sub-branch level)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone

from tests import factories as f
from tests.conftest import Cast
from xiaodai.customers.models import Customer
from xiaodai.org.models import Branch, SubBranch
from xiaodai.pipeline.models import PipelineRun
from xiaodai.pools.choices import Block, Level
from xiaodai.pools.models import PoolFigure, PoolMember

DATA_DATE = dt.date(2026, 11, 28)
FUNNEL = PoolFigure.FUNNEL


@dataclass
class Member:
    customer: Customer
    pool: str
    potential: Decimal = Decimal("100000")
    is_primary: bool = True
    blocked: int = 0
    channels: int = 1
    basis: Decimal | None = None
    days: int | None = None
    on_date: dt.date | None = None
    detail: str = ""
    is_new: bool = False
    covered: bool = False
    funnel: tuple[str, ...] = field(default_factory=tuple)  # the funnel stages this member reached


def publish_pools(branch: Branch, members: list[Member], data_date: dt.date = DATA_DATE) -> PipelineRun:
    """A published run of `branch` holding `members`, with its figures at every level."""
    now = timezone.now()
    PipelineRun.objects.filter(branch=branch, is_published=True).update(is_published=False)
    run = PipelineRun.objects.create(
        branch=branch,
        data_date=data_date,
        engine="duckdb",
        status="done",
        trigger="cli",
        is_published=True,
        started_at=now - dt.timedelta(seconds=30),
        finished_at=now,
        message="test run",
    )
    PoolMember.objects.filter(customer__branch=branch).delete()  # as publishing does: one membership a branch
    PoolMember.objects.bulk_create(
        PoolMember(
            run=run,
            customer=m.customer,
            pool=m.pool,
            is_primary=m.is_primary,
            blocked=m.blocked,
            channels=m.channels,
            potential=m.potential,
            basis=m.basis,
            days=m.days,
            on_date=m.on_date,
            detail=m.detail,
            is_new=m.is_new,
        )
        for m in members
    )
    sums: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    for m in members:
        c = m.customer
        owner = c.owner
        keys: list[tuple[Any, ...]] = [
            (m.pool, Level.BRANCH, c.branch_id, None, None, None),
            (m.pool, Level.SUB_BRANCH, c.branch_id, c.sub_branch_id, None, None),
        ]
        if owner is not None:
            if owner.team_id is not None:
                keys.append((m.pool, Level.TEAM, c.branch_id, None, owner.team_id, None))
            keys.append((m.pool, Level.OWNER, c.branch_id, None, owner.team_id, owner.pk))
        workable = m.blocked == 0
        for key in keys:
            row = sums[key]
            row["customers"] += 1
            row["primary"] += int(m.is_primary)
            row["workable"] += int(workable)
            row["potential"] += m.potential
            row["workable_potential"] += m.potential if workable else 0
            row["primary_workable"] += int(m.is_primary and workable)
            row["primary_potential"] += m.potential if m.is_primary else 0
            row["covered"] += int(workable and m.covered)
            row["entered"] += int(m.is_new)
            for stage in m.funnel:
                row[stage] += 1
    PoolFigure.objects.bulk_create(
        PoolFigure(
            run=run,
            pool=pool,
            level=level,
            branch_id=branch_id,
            sub_branch_id=sub_id,
            team_id=team_id,
            owner_id=owner_id,
            **row,
        )
        for (pool, level, branch_id, sub_id, team_id, owner_id), row in sums.items()
    )
    return run


@dataclass
class Pools:
    """The cast's pools: `run` for branch A, `run_b` for branch B, and a second sub-branch of A."""

    run: PipelineRun
    run_b: PipelineRun
    sub2: SubBranch
    walk_in: Customer  # of sub-branch A2, with no owner


def build_pools(cast: Cast) -> Pools:
    """approved_undrawn: own (mgr, T1), team (tele, T1, no consent), walk_in (A2, no owner);
    current_borrower: other_team (mgr2, T2); premium_deposit: own again (not primary);
    branch B: other_branch in approved_undrawn."""
    sub2 = f.SubBranchFactory(branch=cast.branch, name="滨江支行")
    walk_in = f.CustomerFactory(sub_branch=sub2, owner=None, name="孙七")
    c = cast.customers
    run = publish_pools(
        cast.branch,
        [
            Member(
                c["own"],
                "approved_undrawn",
                potential=Decimal("200000"),
                basis=Decimal("200000"),
                days=95,
                on_date=dt.date(2027, 3, 1),
                is_new=True,
                covered=True,
                funnel=("contacted", "reached", "interested"),
            ),
            Member(
                c["team"],
                "approved_undrawn",
                potential=Decimal("50000"),
                basis=Decimal("50000"),
                days=40,
                blocked=Block.NO_CONSENT,
            ),
            Member(walk_in, "approved_undrawn", potential=Decimal("80000"), basis=Decimal("80000"), days=300),
            Member(
                c["other_team"],
                "current_borrower",
                potential=Decimal("300000"),
                basis=Decimal("300000"),
                days=63,
                on_date=dt.date(2027, 1, 30),
                funnel=("contacted", "reached", "interested", "applied"),
            ),
            Member(
                c["own"],
                "premium_deposit",
                potential=Decimal("150000"),
                basis=Decimal("520000"),
                is_primary=False,
            ),
        ],
    )
    run_b = publish_pools(
        cast.branch_b, [Member(c["other_branch"], "approved_undrawn", potential=Decimal("70000"))]
    )
    return Pools(run=run, run_b=run_b, sub2=sub2, walk_in=walk_in)
