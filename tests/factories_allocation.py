"""Test data for claims and allocation: pool customers with scores, assignments, and many customers fast."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone

from tests import factories as f
from tests.conftest import Cast
from tests.pools_data import Member, publish_pools
from xiaodai.allocation import choices as c
from xiaodai.allocation.models import Assignment
from xiaodai.customers.models import Customer
from xiaodai.org.models import Branch, Staff, SubBranch
from xiaodai.pools.models import PoolMember


class AssignmentFactory(factory.django.DjangoModelFactory):
    """An active claim of `staff`. Use services in tests of behaviour; this is for setting the scene."""

    class Meta:
        model = Assignment
        skip_postgeneration_save = True

    branch = factory.SelfAttribute("customer.branch")
    customer = factory.SubFactory(f.CustomerFactory)
    staff = factory.SubFactory(f.StaffFactory)
    team = factory.SelfAttribute("staff.team")
    kind = c.Kind.CLAIM
    status = c.Status.ACTIVE
    pool = "approved_undrawn"
    created_by = factory.SelfAttribute("staff")
    protected_until = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=30))
    lapses_on = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=7))

    @factory.post_generation
    def works(obj: Assignment, create: bool, extracted: Any, **kwargs: Any) -> None:
        """Keep the invariant: an active assignment's staff works the customer."""
        if create and obj.status == c.Status.ACTIVE:
            Customer.objects.filter(pk=obj.customer_id).update(worker=obj.staff)


def unowned(sub: SubBranch, n: int, name: str = "钱八") -> list[Customer]:
    return [f.CustomerFactory(sub_branch=sub, owner=None, name=name) for _ in range(n)]


def publish(branch: Branch, rows: list[tuple[Customer, str, float | None]], **member: Any) -> None:
    """A published run of `branch` whose members carry scores: (customer, pool, expected value)."""
    publish_pools(branch, [Member(cust, pool, **member) for cust, pool, _ev in rows])
    for cust, pool, ev in rows:
        if ev is not None:
            PoolMember.objects.filter(customer=cust, pool=pool).update(
                expected_value=Decimal(str(ev)), probability=min(ev / 10000, 1.0)
            )


def claim_scene(cast: Cast, n: int = 3) -> list[Customer]:
    """`n` unowned customers of the cast's sub-branch in approved_undrawn (EV 1000, 900, ...), plus the
    cast's own customer (owned by mgr) and the other branch's in their pools."""
    customers = unowned(cast.sub, n)
    rows: list[tuple[Customer, str, float | None]] = [
        (cust, "approved_undrawn", 1000.0 - 100 * i) for i, cust in enumerate(customers)
    ]
    rows.append((cast.customers["own"], "approved_undrawn", 500.0))
    rows.append((cast.customers["other_team"], "approved_undrawn", 400.0))
    publish(cast.branch, rows)
    publish(cast.branch_b, [(cast.customers["other_branch"], "approved_undrawn", 900.0)])
    return customers


def many_unowned(branch: Branch, sub: SubBranch, n: int, owner: Staff | None = None) -> list[int]:
    """`n` customers made in bulk (no factory per row) and published as workable approved_undrawn members
    with falling expected values; returns their ids, best first."""
    start = Customer.objects.count()
    made = Customer.objects.bulk_create(
        Customer(
            customer_no=f"M{start + i:010d}",
            name="孙九",
            name_pinyin="sunjiu",
            name_initials="sj",
            gender="M",
            birth_date=dt.date(1988, 5, 17),
            id_number=f"X{start + i:017d}",
            branch=branch,
            sub_branch=sub,
            owner=owner,
            opened_on=dt.date(2015, 3, 1),
        )
        for i in range(n)
    )
    run = publish_pools(branch, [])
    PoolMember.objects.bulk_create(
        PoolMember(
            run=run,
            customer_id=cust.pk,
            pool="approved_undrawn",
            is_primary=True,
            potential=Decimal("100000"),
            probability=0.05,
            expected_value=Decimal(10 * n - i),
        )
        for i, cust in enumerate(made)
    )
    return [cust.pk for cust in made]
