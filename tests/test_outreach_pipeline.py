"""Contacts recorded in the workbench reach the batch pipeline: the snapshot's contacts (which the pools'
coverage and funnel and the model's features read) hold them, one per contact after corrections."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import Cast
from tests.outreach_data import NOW, call, workable_customer
from xiaodai.pipeline import snapshot


def test_workbench_outcomes_are_snapshot_contacts(
    cast: Cast, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XIAODAI_LAKE_DIR", str(tmp_path / "lake"))
    tele = cast.staff["tele"]
    customer = workable_customer(tele)
    first = call(tele, customer, "busy")
    call(tele, customer, "interested", corrects=first)
    files = snapshot.take(
        0,
        cast.branch.pk,
        NOW.date(),
        lake_days=30,
        progress=lambda name, rows: None,
        folder=tmp_path / "snap",
    )
    contacts = pq.read_table(files["contacts"]).to_pylist()
    assert contacts == [{"customer_id": customer.pk, "contacted_on": NOW.date(), "outcome": "interested"}]
