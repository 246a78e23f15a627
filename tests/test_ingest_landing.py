"""The landing folder and the cut-off (compliance D-11): a drop folder is taken up only once its trailer or
.ok flag is there, each folder once; an expected source's drop missing at the cut-off raises one alert."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings

from tests import drops
from tests.conftest import Cast
from tests.plans_data import at
from xiaodai.audit.models import AuditEvent
from xiaodai.ingest import landing
from xiaodai.ingest.choices import RunStatus, Trigger
from xiaodai.ingest.models import ImportRun, LandingPickup, MissedDrop

DAY = dt.date(2026, 11, 29)  # "today" is 30 November: the day before's drop is 29 November's
SOURCE = "core-dw"  # what tests.drops writes in its manifests


@pytest.fixture
def area(tmp_path: Path) -> Any:
    root = tmp_path / "landing"
    root.mkdir()
    with override_settings(XIAODAI_LANDING_DIR=root, XIAODAI_EXPECTED_SOURCES=[SOURCE]):
        yield root


def _without_manifest(folder: Path, cast: Cast) -> Path:
    """A drop delivered without its trailer (the data date comes from the folder's name)."""
    drops.basic_drop(folder, cast.branch.code, data_date=DAY.isoformat())
    (folder / "manifest.json").unlink()
    return folder


def test_a_folder_with_its_manifest_is_taken_up(area: Path, cast: Cast) -> None:
    drops.basic_drop(area / "20261129", cast.branch.code, data_date=DAY.isoformat())
    done = landing.sweep(at(DAY + dt.timedelta(1), 1))
    queued = [(r.status, r.trigger, r.data_date) for r in done.queued]
    assert queued == [(RunStatus.QUEUED, Trigger.SCHEDULE, DAY)]


def test_a_folder_without_its_trailer_or_flag_is_left_alone(area: Path, cast: Cast) -> None:
    _without_manifest(area / "20261129", cast)
    done = landing.sweep(at(DAY + dt.timedelta(1), 1))
    assert done.waiting == ["20261129"]
    assert not ImportRun.objects.exists()
    assert not LandingPickup.objects.exists()  # looked at again on the next sweep


@pytest.mark.parametrize("flag", ["_SUCCESS", ".ok"])
def test_a_flag_inside_the_folder_completes_it(area: Path, cast: Cast, flag: str) -> None:
    folder = _without_manifest(area / "20261129", cast)
    (folder / flag).write_bytes(b"")
    done = landing.sweep(at(DAY + dt.timedelta(1), 1))
    assert done.waiting == []
    assert LandingPickup.objects.count() == 1  # taken up (it then needs a branch: two are installed)


def test_a_flag_beside_the_folder_completes_it(area: Path, cast: Cast) -> None:
    _without_manifest(area / "20261129", cast)
    (area / "20261129.ok").write_bytes(b"")
    assert landing.sweep(at(DAY + dt.timedelta(1), 1)).waiting == []
    assert LandingPickup.objects.count() == 1


def test_the_flag_file_is_not_read_as_a_feed(area: Path, cast: Cast) -> None:
    folder = drops.basic_drop(area / "20261129", cast.branch.code, data_date=DAY.isoformat())
    (folder / "_SUCCESS").write_bytes(b"")
    (folder / ".ok").write_bytes(b"")
    done = landing.sweep(at(DAY + dt.timedelta(1), 1))
    assert landing.services.execute_run(done.queued[0].pk).status == RunStatus.LOADED


def test_a_folder_is_taken_up_once(area: Path, cast: Cast) -> None:
    drops.basic_drop(area / "20261129", cast.branch.code, data_date=DAY.isoformat())
    landing.sweep(at(DAY + dt.timedelta(1), 1))
    again = landing.sweep(at(DAY + dt.timedelta(1), 2))
    assert (again.queued, again.duplicates) == ([], [])
    assert ImportRun.objects.count() == 1


def test_an_unusable_folder_is_recorded_once_and_audited(area: Path, cast: Cast) -> None:
    folder = area / "20261129"
    drops.basic_drop(folder, cast.branch.code, data_date=DAY.isoformat())
    (folder / "notes.txt").write_text("not a feed", encoding="utf-8")
    done = landing.sweep(at(DAY + dt.timedelta(1), 1))
    assert done.failed == ["20261129"]
    assert LandingPickup.objects.get().error.startswith("unknown_file")
    assert AuditEvent.objects.filter(object_type="landing_folder", outcome="failure").count() == 1
    assert landing.sweep(at(DAY + dt.timedelta(1), 2)).failed == []
    assert not ImportRun.objects.exists()


def test_a_missing_drop_raises_one_alert_after_the_cutoff(area: Path, cast: Cast) -> None:
    assert landing.sweep(at(DAY + dt.timedelta(1), 7)).missed == []  # 07:00, before the 08:00 cut-off
    first = landing.sweep(at(DAY + dt.timedelta(1), 9)).missed
    assert [(a.source, a.data_date) for a in first] == [(SOURCE, DAY)]
    assert landing.sweep(at(DAY + dt.timedelta(1), 10)).missed == []
    assert AuditEvent.objects.filter(action="import.missed").count() == 1


def test_a_drop_that_arrived_raises_no_alert(area: Path, cast: Cast) -> None:
    drops.basic_drop(area / "20261129", cast.branch.code, data_date=DAY.isoformat())
    done = landing.sweep(at(DAY + dt.timedelta(1), 9))
    assert done.missed == []
    assert not MissedDrop.objects.exists()


def test_the_import_page_shows_an_open_alert_until_the_drop_comes(area: Path, cast: Cast) -> None:
    landing.sweep(at(DAY + dt.timedelta(1), 9))
    page = cast.client("ops").get("/imports/")
    assert page.content.decode().count('data-testid="missed-drop"') == 1
    drops.basic_drop(area / "20261129", cast.branch.code, data_date=DAY.isoformat())
    landing.sweep(at(DAY + dt.timedelta(1), 10))
    assert 'data-testid="missed-drop"' not in cast.client("ops").get("/imports/").content.decode()


def test_the_command_takes_up_and_loads_the_landing_folder(area: Path, cast: Cast) -> None:
    drops.basic_drop(area / "20261129", cast.branch.code, data_date=DAY.isoformat())
    out = StringIO()
    call_command("ingest", "--landing", stdout=out)
    assert ImportRun.objects.get().status == RunStatus.LOADED
    assert "core-dw 2026-11-29" in out.getvalue()


@override_settings(XIAODAI_LANDING_DIR=Path("/nonexistent/landing"))
def test_no_landing_folder_is_nothing_to_do(db: None) -> None:
    assert landing.sweep().queued == []
