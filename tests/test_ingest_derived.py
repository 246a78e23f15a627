"""Values the merge works out rather than copies: a customer's AUM from the drop's deposits, a consent's
collecting sub-branch from its collector. Both are written in the rows' own insert (no later UPDATE)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests import drops
from tests.conftest import Cast
from xiaodai.customers.models import Consent, Customer
from xiaodai.ingest import services
from xiaodai.ingest.choices import RunStatus, Trigger
from xiaodai.ingest.models import ImportRun
from xiaodai.org.models import Staff


def _ingest(folder: Path) -> ImportRun:
    run = services.run_ingest(folder, trigger=Trigger.CLI)
    assert run.status == RunStatus.LOADED, list(run.errors.values_list("filename", "line", "code"))[:5]
    return run


def _quarantined(drop: Path, cast: Cast, *deposits: tuple[str, str, str]) -> None:
    """Load the drop with these deposits, the deposits feed quarantining bad rows: some are."""
    services.set_feed_mode("deposits", "quarantine", by=cast.staff["ops"])
    drops.write_csv(drop, "deposits", drops.deposits(*deposits))
    run = services.run_ingest(drop, trigger=Trigger.CLI)
    assert run.status == RunStatus.PARTIAL


@pytest.fixture
def drop(tmp_path: Path, cast: Cast) -> Path:
    folder = drops.basic_drop(tmp_path / "20261128", cast.branch.code)
    drops.write_csv(
        folder,
        "deposits",
        drops.deposits(
            ("C9000000001", "DP1", "1000.10"),
            ("C9000000001", "DP2", "200.05"),
            ("C9000000002", "DP3", "30.00"),
        ),
    )
    return folder


def test_a_new_customers_aum_is_the_sum_of_their_deposits_in_the_drop(drop: Path) -> None:
    _ingest(drop)
    aum = dict(Customer.objects.filter(customer_no__startswith="C9").values_list("customer_no", "aum"))
    assert aum == {
        "C9000000001": Decimal("1200.15"),
        "C9000000002": Decimal("30.00"),
        "C9000000003": Decimal("0.00"),
    }


def _next_day_deposits(drop: Path, tmp_path: Path, cast: Cast, *deposits: tuple[str, str, str]) -> None:
    """Load the drop, then the next day's drop holding only these deposits."""
    _ingest(drop)
    later = tmp_path / "20261129"
    drops.write_manifest(later, source="core-dw", data_date="2026-11-29", branch_code=cast.branch.code)
    drops.write_csv(later, "deposits", drops.deposits(*deposits))
    _ingest(later)


def test_a_deposits_only_drop_updates_the_aum_of_existing_customers(
    drop: Path, tmp_path: Path, cast: Cast
) -> None:
    _next_day_deposits(drop, tmp_path, cast, ("C9000000002", "DP3", "45.50"))
    assert Customer.objects.get(customer_no="C9000000002").aum == Decimal("45.50")
    assert Customer.objects.get(customer_no="C9000000001").aum == Decimal("1200.15")


def test_an_account_moved_to_another_customer_leaves_its_former_owners_aum(
    drop: Path, tmp_path: Path, cast: Cast
) -> None:
    _next_day_deposits(drop, tmp_path, cast, ("C9000000003", "DP2", "200.05"))  # DP2 was C9000000001's
    assert Customer.objects.get(customer_no="C9000000003").aum == Decimal("200.05")
    assert Customer.objects.get(customer_no="C9000000001").aum == Decimal("1000.10")


def test_a_repeated_deposit_key_does_not_count_twice_in_the_aum(drop: Path, cast: Cast) -> None:
    """The second row of a repeated key is quarantined; the AUM is what the deposits table holds."""
    _quarantined(drop, cast, ("C9000000001", "DP1", "1000.10"), ("C9000000001", "DP1", "999.00"))
    assert Customer.objects.get(customer_no="C9000000001").aum == Decimal("1000.10")


def test_a_consent_records_its_collectors_sub_branch(drop: Path, cast: Cast) -> None:
    drops.write_csv(drop, "teams", [drops.row("teams")])
    drops.write_csv(drop, "staff", [drops.row("staff")])
    drops.write_csv(drop, "consents", [drops.row("consents", customer_no="C9000000001")])
    _ingest(drop)
    consent = Consent.objects.get(customer__customer_no="C9000000001")
    collector = Staff.objects.get(employee_no="E00012")
    assert (consent.collector_id, consent.collector_branch_id) == (collector.pk, collector.sub_branch_id)
    assert consent.collector_branch_id is not None


def test_a_customers_tags_are_linked_and_a_redelivery_replaces_them(
    drop: Path, tmp_path: Path, cast: Cast
) -> None:
    drops.write_csv(
        drop,
        "tags",
        [drops.row("tags", code="PAYROLL", name="代发"), drops.row("tags", code="HOUSE", name="有房")],
    )
    people = drops.customers(3)
    people[0]["tags"] = "PAYROLL|HOUSE"
    people[1]["tags"] = "HOUSE"
    drops.write_csv(drop, "customers", people)
    _ingest(drop)

    def tags(no: str) -> set[str]:
        return set(Customer.objects.get(customer_no=no).tags.values_list("code", flat=True))

    assert (tags("C9000000001"), tags("C9000000002"), tags("C9000000003")) == (
        {"PAYROLL", "HOUSE"},
        {"HOUSE"},
        set(),
    )
    later = tmp_path / "20261129"
    drops.write_manifest(later, source="core-dw", data_date="2026-11-29", branch_code=cast.branch.code)
    people[0]["tags"] = "HOUSE"
    drops.write_csv(later, "customers", people)
    _ingest(later)
    assert (tags("C9000000001"), tags("C9000000002")) == ({"HOUSE"}, {"HOUSE"})


def test_a_quarantined_deposit_of_another_customer_leaves_that_customers_aum(drop: Path, cast: Cast) -> None:
    """The repeated key's second row names another new customer: it is dropped, and so is its balance."""
    _quarantined(drop, cast, ("C9000000001", "DP1", "1000.10"), ("C9000000002", "DP1", "999.00"))
    assert Customer.objects.get(customer_no="C9000000002").aum == Decimal("0.00")
