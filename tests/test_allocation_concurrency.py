"""Two people claim the same customer at the same moment: exactly one wins, on SQLite and on PostgreSQL.

Real threads, each with its own database connection (closed at the end), released together by a barrier,
against committed data (transaction=True). On PostgreSQL both read the customer as free and race to insert:
the partial unique index (one active assignment per customer) makes the second insert fail, and the claim
reports "taken". On SQLite the second writer waits for (or, in the test's shared-cache database, retries
after) the first one's transaction, then finds the customer taken.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from tests.conftest import Cast
from tests.factories_allocation import claim_scene
from xiaodai.allocation import choices as c
from xiaodai.allocation import services
from xiaodai.allocation.models import Assignment
from xiaodai.allocation.services import ClaimResult, claim_customers
from xiaodai.audit.choices import Action
from xiaodai.audit.models import AuditEvent
from xiaodai.customers.models import Customer
from xiaodai.org.models import Staff


def _race(
    people: list[Staff], customer_ids: list[int]
) -> tuple[list[list[ClaimResult]], list[BaseException]]:
    barrier = threading.Barrier(len(people))
    results: list[list[ClaimResult]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def claim(staff: Staff) -> None:
        try:
            barrier.wait(timeout=10)
            outcome = claim_customers(staff, customer_ids)
            with lock:
                results.append(outcome)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=claim, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return results, errors


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_people_claiming_one_customer_at_once_exactly_one_wins(cast: Cast, attempt: int) -> None:
    customer, *_ = claim_scene(cast, n=1)
    people = [cast.staff["mgr"], cast.staff["tele"]]
    results, errors = _race(people, [customer.pk])
    assert errors == []
    outcomes = sorted((r[0].ok, r[0].code) for r in results)
    assert outcomes == [(False, "taken"), (True, "claimed")]
    active = Assignment.objects.filter(customer=customer, status=c.Status.ACTIVE)
    assert active.count() == 1
    winner = active.get().staff_id
    assert Customer.objects.get(pk=customer.pk).worker_id == winner
    assert AuditEvent.objects.filter(action=Action.CLAIM).count() == 2  # one per call, winner or not


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite lets one writer in at a time")
@pytest.mark.django_db(transaction=True)
def test_when_both_read_the_customer_as_free_the_unique_index_picks_one(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forced interleaving: both claims have read the customer as free before either writes; the second
    insert waits for the first transaction, then fails on the index and is reported taken."""
    customer, *_ = claim_scene(cast, n=1)
    both_read = threading.Barrier(2)
    checked = services._refusal
    integrity_errors: list[bool] = []
    create = Assignment.objects.create

    def refusal_then_wait(*args: object) -> str | None:
        code = checked(*args)  # type: ignore[arg-type]
        both_read.wait(timeout=10)
        return code

    def create_noting_failures(**kwargs: object) -> Assignment:
        try:
            return create(**kwargs)
        except Exception:
            integrity_errors.append(True)
            raise

    monkeypatch.setattr(services, "_refusal", refusal_then_wait)
    monkeypatch.setattr(Assignment.objects, "create", create_noting_failures)
    results, errors = _race([cast.staff["mgr"], cast.staff["tele"]], [customer.pk])
    assert errors == []
    assert sorted((r[0].ok, r[0].code) for r in results) == [(False, "taken"), (True, "claimed")]
    assert integrity_errors == [True]
    assert Assignment.objects.filter(customer=customer, status=c.Status.ACTIVE).count() == 1
    assert not transaction.get_connection().in_atomic_block


@pytest.mark.django_db(transaction=True)
def test_overlapping_claims_at_once_split_the_customers_without_deadlock(cast: Cast) -> None:
    customers = claim_scene(cast, n=6)
    ids = [cust.pk for cust in customers]
    people = [cast.staff["mgr"], cast.staff["tele"], cast.staff["lead"]]
    results, errors = _race(people, ids[::-1] if connection.vendor == "postgresql" else ids)
    assert errors == []
    won = [r.customer_id for outcome in results for r in outcome if r.ok]
    assert sorted(won) == sorted(ids)  # every customer exactly once
    assert Assignment.objects.filter(status=c.Status.ACTIVE).count() == len(ids)
    workers = dict(Customer.objects.filter(pk__in=ids).values_list("pk", "worker_id"))
    owners = dict(Assignment.objects.filter(status=c.Status.ACTIVE).values_list("customer_id", "staff_id"))
    assert workers == owners
