"""The data-drop pages: run list and run page (scoped to the branch, live progress), the error report, the
web upload through the job queue, rollback, feed settings, and the job worker beside `xiaodai serve`."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.conftest import Cast
from xiaodai.audit.choices import Action
from xiaodai.audit.models import AuditEvent
from xiaodai.ingest import forms as ingest_forms
from xiaodai.ingest.choices import BadRowMode, RunStatus, Trigger
from xiaodai.ingest.models import FeedSetting, ImportFile, ImportRun, RowError
from xiaodai.org.models import Branch, Staff

DAY = date(2026, 11, 28)


def make_run(
    branch: Branch | None,
    *,
    status: str = RunStatus.LOADED,
    source: str = "dw",
    data_date: date = DAY,
    started_by: Staff | None = None,
    **extra: Any,
) -> ImportRun:
    return ImportRun.objects.create(
        branch=branch,
        source=source,
        data_date=data_date,
        contract_version="1.0",
        fingerprint="ab" * 32,
        status=status,
        trigger=Trigger.CLI,
        started_by=started_by,
        folder="/tmp/drop",  # noqa: S108 - never read by these pages
        **extra,
    )


def make_file(run: ImportRun, feed: str = "customers", **extra: Any) -> ImportFile:
    values: dict[str, Any] = {
        "feed": feed,
        "filename": f"{feed}.csv",
        "file_format": "csv",
        "encoding": "utf-8",
        "sha256": "cd" * 32,
        "mode": BadRowMode.QUARANTINE,
        "rows_read": 10,
        "rows_loaded": 6,
        "rows_updated": 2,
        "rows_unchanged": 1,
        "rows_rejected": 1,
        "accepted": True,
        "reconciled": True,
        **extra,
    }
    return ImportFile.objects.create(run=run, **values)


def _csv(response: Any) -> tuple[str, list[list[str]]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    return text, list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


@pytest.fixture
def var_dir(settings: Any, tmp_path: Path) -> Path:
    """Uploads and progress files go to a temporary folder, never the developer's var/."""
    settings.VAR_DIR = tmp_path
    return tmp_path


def _uploads(var_dir: Path) -> list[Path]:
    folder = var_dir / "ingest" / "uploads"
    return list(folder.iterdir()) if folder.exists() else []


# --- the list ---


def test_list_shows_own_branch_runs_only(cast: Cast) -> None:
    own = make_run(cast.branch)
    other = make_run(cast.branch_b, source="other")
    response = cast.client("head").get("/imports/")
    assert response.status_code == 200
    shown = {run.pk for run, _live in response.context["rows"]}
    assert shown == {own.pk}
    assert other.pk not in shown
    assert f'href="/imports/{own.pk}/"' in response.content.decode()


def test_list_shows_totals_per_run(cast: Cast) -> None:
    run = make_run(cast.branch)
    make_file(run, "customers")
    make_file(run, "loans", rows_read=5, rows_loaded=5, rows_updated=0, rows_unchanged=0, rows_rejected=0)
    response = cast.client("ops").get("/imports/")
    (shown, _live), *_ = response.context["rows"]
    assert (shown.file_count, shown.total_rows_read, shown.total_rows_loaded, shown.total_rows_rejected) == (
        2,
        15,
        11,
        1,
    )


def test_list_filters_by_status_and_source(cast: Cast) -> None:
    loaded = make_run(cast.branch, source="dw")
    make_run(cast.branch, source="dw", status=RunStatus.REJECTED, data_date=date(2026, 11, 27))
    make_run(cast.branch, source="payroll", data_date=date(2026, 11, 26))
    client = cast.client("head")
    by_status = client.get("/imports/", {"status": "loaded", "source": "dw"})
    assert [run.pk for run, _live in by_status.context["rows"]] == [loaded.pk]
    # Unknown values are ignored, not errors.
    assert len(client.get("/imports/", {"status": "nonsense\x00"}).context["rows"]) == 3
    assert client.get("/imports/").context["sources"] == ["dw", "payroll"]


def test_list_sorts_by_data_date(cast: Cast) -> None:
    late = make_run(cast.branch, data_date=date(2026, 11, 28))
    early = make_run(cast.branch, data_date=date(2026, 11, 1), source="b")
    client = cast.client("head")
    assert [r.pk for r, _ in client.get("/imports/", {"sort": "date"}).context["rows"]] == [early.pk, late.pk]
    assert [r.pk for r, _ in client.get("/imports/", {"sort": "-date"}).context["rows"]] == [
        late.pk,
        early.pk,
    ]
    # Default: newest run first.
    assert [r.pk for r, _ in client.get("/imports/").context["rows"]] == [early.pk, late.pk]


def test_list_is_paginated_by_25(cast: Cast) -> None:
    for day in range(1, 31):
        make_run(cast.branch, data_date=date(2026, 10, day))
    response = cast.client("head").get("/imports/", {"page": 2})
    assert len(response.context["rows"]) == 5


def test_list_query_count_is_pinned(cast: Cast, django_assert_max_num_queries: Any) -> None:
    for day in range(1, 26):
        run = make_run(cast.branch, data_date=date(2026, 10, day), started_by=cast.staff["ops"])
        make_file(run, "customers")
        make_file(run, "loans")
    make_run(cast.branch, status=RunStatus.RUNNING, source="live")
    client = cast.client("head")
    client.get("/imports/")  # warm the session
    with django_assert_max_num_queries(12):  # session, user, staff, count, page, sources, alerts, nav, save
        response = client.get("/imports/")
    assert len(response.context["rows"]) == 25


def test_running_run_row_polls_and_finished_row_does_not(cast: Cast) -> None:
    running = make_run(cast.branch, status=RunStatus.RUNNING, progress_total=100, progress_done=40)
    done = make_run(cast.branch, source="done")
    html = cast.client("ops").get("/imports/").content.decode()
    assert f'hx-get="/imports/{running.pk}/progress/?row=1" hx-trigger="every 1s"' in html
    assert f"/imports/{done.pk}/progress/" not in html
    assert 'class="progress' in html


# --- scoping ---


@pytest.mark.parametrize("suffix", ["", "progress/", "errors.csv"])
@pytest.mark.parametrize("who", ["head", "ops"])
def test_other_branch_run_is_404(cast: Cast, who: str, suffix: str) -> None:
    other = make_run(cast.branch_b)
    assert cast.client(who).get(f"/imports/{other.pk}/{suffix}").status_code == 404


def test_other_branch_run_cannot_be_rolled_back(cast: Cast) -> None:
    other = make_run(cast.branch_b)
    assert cast.client("ops").post(f"/imports/{other.pk}/rollback/").status_code == 404
    other.refresh_from_db()
    assert other.status == RunStatus.LOADED


def test_other_branch_head_sees_nothing_of_ours(cast: Cast) -> None:
    own = make_run(cast.branch)
    assert cast.client("head_b").get(f"/imports/{own.pk}/").status_code == 404
    assert cast.client("head_b").get("/imports/").context["rows"] == []


def test_run_without_a_branch_is_shown_to_ops_admins_while_active(cast: Cast) -> None:
    queued = make_run(None, status=RunStatus.QUEUED)
    assert cast.client("ops").get(f"/imports/{queued.pk}/").status_code == 200
    assert cast.client("head").get(f"/imports/{queued.pk}/").status_code == 404
    queued.status = RunStatus.FAILED
    queued.save()
    assert cast.client("ops").get(f"/imports/{queued.pk}/").status_code == 404


def test_run_without_a_branch_is_shown_to_the_starters_branch(cast: Cast) -> None:
    failed = make_run(None, status=RunStatus.FAILED, started_by=cast.staff["ops"])
    assert cast.client("head").get(f"/imports/{failed.pk}/").status_code == 200
    assert cast.client("head_b").get(f"/imports/{failed.pk}/").status_code == 404


@pytest.mark.parametrize("who", ["mgr", "tele", "lead", "auditor"])
@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", ""),
        ("get", "{pk}/"),
        ("get", "{pk}/progress/"),
        ("get", "{pk}/errors.csv"),
        ("post", "{pk}/rollback/"),
        ("get", "upload/"),
        ("post", "upload/"),
        ("get", "feeds/"),
        ("post", "feeds/"),
    ],
)
def test_roles_without_imports_get_403(cast: Cast, who: str, method: str, suffix: str) -> None:
    run = make_run(cast.branch)
    url = "/imports/" + suffix.format(pk=run.pk)
    response = getattr(cast.client(who), method)(url)
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", ""),
        ("get", "{pk}/"),
        ("get", "{pk}/errors.csv"),
        ("post", "{pk}/rollback/"),
        ("get", "upload/"),
    ],
)
def test_anonymous_goes_to_login(cast: Cast, method: str, suffix: str) -> None:
    run = make_run(cast.branch)
    response = getattr(Client(), method)("/imports/" + suffix.format(pk=run.pk))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("who", "shown"), [("head", True), ("ops", True), ("mgr", False), ("auditor", False)]
)
def test_nav_item_follows_the_permission(cast: Cast, who: str, shown: bool) -> None:
    html = cast.client(who).get("/").content.decode()
    assert ('href="/imports/"' in html) is shown


# --- the run page ---


def test_detail_shows_files_reconciliation_and_errors(cast: Cast) -> None:
    run = make_run(cast.branch, status=RunStatus.PARTIAL, message="a note", started_by=cast.staff["ops"])
    make_file(
        run,
        "loans",
        sums_in={"amount": "100.00"},
        sums_out={"amount": "100.00"},
        control={"rows": 10, "sums": {"amount": "100.00"}},
    )
    make_file(run, "customers", accepted=False, reconciled=False, message="bad header")
    RowError.objects.create(
        run=run,
        filename="customers.csv",
        line=7,
        field="mobile",
        code="mobile_format",
        message="m",
        value="138****0000",
    )
    response = cast.client("head").get(f"/imports/{run.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "loans.csv" in html
    assert 'data-testid="reconciled"' in html
    assert "bad header" in html
    assert "138****0000" in html
    assert "mobile_format" in html
    assert f"/imports/{run.pk}/errors.csv" in html
    assert "abababababab" in html  # the fingerprint, short
    assert 'hx-trigger="every 1s"' not in html  # finished: no polling


def test_detail_sums_the_files_in_the_readers_language(cast: Cast) -> None:
    run = make_run(cast.branch, status=RunStatus.PARTIAL)
    make_file(run, "customers")
    make_file(run, "loans", rows_read=5, rows_loaded=5, rows_updated=0, rows_unchanged=0, rows_rejected=0)
    client = cast.client("head")
    chinese = client.get(f"/imports/{run.pk}/").content.decode()
    english = client.get(f"/imports/{run.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "2 个文件：读取 15 行，新增 11 行，更新 2 行，未变化 1 行，隔离 1 行。" in chinese
    assert "2 files: 15 rows read, 11 new, 2 updated, 1 unchanged, 1 quarantined." in english


def test_detail_names_feeds_by_their_title_in_the_readers_language(cast: Cast) -> None:
    run = make_run(cast.branch)
    make_file(run, "credit_lines")
    client = cast.client("head")
    assert '<td title="credit_lines">消费贷授信</td>' in client.get(f"/imports/{run.pk}/").content.decode()
    english = client.get(f"/imports/{run.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<td title="credit_lines">Consumer credit lines (授信)</td>' in english


def test_detail_groups_the_control_totals_digits(cast: Cast) -> None:
    run = make_run(cast.branch)
    sums = {"amount": "1234567.80"}
    make_file(
        run, "loans", sums_in=sums, sums_out=sums, control={"rows": 12000, "sums": {"amount": "not a sum"}}
    )
    html = cast.client("head").get(f"/imports/{run.pk}/").content.decode()
    assert "not a sum / 1,234,567.80 / 1,234,567.80" in html
    assert "12,000 / 10 / 9" in html  # declared rows / read / valid


def test_detail_of_a_refused_run_shows_no_figures(cast: Cast) -> None:
    run = make_run(cast.branch, status=RunStatus.REJECTED, message="Refused: customers.csv.")
    make_file(run, "customers", accepted=False, rows_loaded=0, rows_updated=0, rows_unchanged=0)
    response = cast.client("head").get(f"/imports/{run.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.context["totals"] is None
    assert "Refused: customers.csv." in response.content.decode()


def test_a_good_file_of_a_refused_drop_reads_not_loaded(cast: Cast) -> None:
    run = make_run(cast.branch, status=RunStatus.REJECTED, message="Refused: customers.csv.")
    make_file(
        run, "loans", rows_loaded=0, rows_updated=0, rows_unchanged=0, rows_rejected=0, reconciled=False
    )
    make_file(run, "customers", accepted=False, rows_loaded=0, rows_updated=0, rows_unchanged=0)
    html = cast.client("head").get(f"/imports/{run.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert html.count('data-testid="not-loaded"') == 1
    assert 'data-testid="not-reconciled"' not in html  # nothing was stored to reconcile with


def test_detail_shows_at_most_200_errors(cast: Cast) -> None:
    run = make_run(cast.branch, status=RunStatus.PARTIAL)
    RowError.objects.bulk_create(
        RowError(run=run, filename="customers.csv", line=i, code="x", message="m") for i in range(250)
    )
    response = cast.client("head").get(f"/imports/{run.pk}/")
    assert len(response.context["errors"]) == 200
    assert response.context["error_count"] == 250


@pytest.mark.parametrize(
    ("who", "status", "shown"),
    [
        ("ops", RunStatus.LOADED, True),
        ("ops", RunStatus.PARTIAL, True),
        ("ops", RunStatus.REJECTED, False),
        ("ops", RunStatus.ROLLED_BACK, False),
        ("head", RunStatus.LOADED, False),
    ],
)
def test_rollback_button_only_for_ops_on_applied_runs(cast: Cast, who: str, status: str, shown: bool) -> None:
    run = make_run(cast.branch, status=status)
    html = cast.client(who).get(f"/imports/{run.pk}/").content.decode()
    assert (f"/imports/{run.pk}/rollback/" in html) is shown
    if shown:
        assert "data-confirm=" in html


def test_progress_partial_polls_while_running_and_stops_after(cast: Cast) -> None:
    run = make_run(cast.branch, status=RunStatus.RUNNING, progress_done=25, progress_total=100)
    client = cast.client("ops")
    running = client.get(f"/imports/{run.pk}/progress/").content.decode()
    assert 'hx-trigger="every 1s"' in running
    assert f'hx-get="/imports/{run.pk}/progress/"' in running
    assert "width: 25%" in running
    run.status = RunStatus.LOADED
    run.save()
    finished = client.get(f"/imports/{run.pk}/progress/", headers={"HX-Request": "true"})
    assert "hx-trigger" not in finished.content.decode()
    assert finished["HX-Refresh"] == "true"  # the run page reloads to show the files and errors


def test_progress_partial_polls_while_queued(cast: Cast) -> None:
    run = make_run(cast.branch, status=RunStatus.QUEUED)
    html = cast.client("head").get(f"/imports/{run.pk}/progress/").content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert "progress-bar-indeterminate" in html


def test_progress_reads_the_live_progress_file(cast: Cast, var_dir: Path) -> None:
    from xiaodai.ingest.progress import write_progress

    run = make_run(cast.branch, status=RunStatus.RUNNING)
    write_progress(run.pk, 30, 120, "customers.csv")
    html = cast.client("head").get(f"/imports/{run.pk}/progress/").content.decode()
    assert "width: 25%" in html
    assert "customers.csv" in html


def test_progress_warns_when_a_running_load_stops_moving(cast: Cast, var_dir: Path) -> None:
    import os
    import time

    from xiaodai.ingest.progress import _path, write_progress

    run = make_run(cast.branch, status=RunStatus.RUNNING)
    write_progress(run.pk, 30, 120, "customers.csv")
    client = cast.client("head")
    assert 'data-testid="stale"' not in client.get(f"/imports/{run.pk}/progress/").content.decode()
    old = time.time() - 3600
    os.utime(_path(run.pk), (old, old))
    assert 'data-testid="stale"' in client.get(f"/imports/{run.pk}/progress/").content.decode()


def test_progress_row_partial_for_the_list(cast: Cast) -> None:
    run = make_run(cast.branch, status=RunStatus.RUNNING, progress_done=1, progress_total=2)
    html = cast.client("head").get(f"/imports/{run.pk}/progress/", {"row": "1"}).content.decode()
    assert html.lstrip().startswith("<tr")
    assert 'hx-trigger="every 1s"' in html


# --- the error report ---


def test_errors_csv_has_bom_all_rows_and_is_audited(cast: Cast) -> None:
    run = make_run(cast.branch, status=RunStatus.PARTIAL)
    RowError.objects.bulk_create(
        RowError(run=run, filename="客户.csv", line=i + 2, field="name", code="required", message="缺少姓名")
        for i in range(250)
    )
    response = cast.client("head").get(f"/imports/{run.pk}/errors.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f"import-{run.pk}-errors.csv" in response["Content-Disposition"]
    text, rows = _csv(response)
    assert text.startswith("\ufeff")
    assert len(rows) == 251
    assert rows[0][4] == "含义"  # headers and meanings in the reader's language
    assert rows[1] == ["客户.csv", "2", "name", "required", "缺少值", "缺少姓名", ""]
    event = AuditEvent.objects.get(action=Action.EXPORT)
    assert (event.object_type, event.object_id, event.detail) == ("import_run", str(run.pk), {"rows": 250})
    assert event.username == "head"


@pytest.mark.parametrize("payload", ['=HYPERLINK("x")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_errors_csv_neutralises_formulas(cast: Cast, payload: str) -> None:
    run = make_run(cast.branch, status=RunStatus.PARTIAL)
    RowError.objects.create(
        run=run, filename="loans.csv", line=3, field=payload, code="c", message=payload, value=payload
    )
    _text, rows = _csv(cast.client("ops").get(f"/imports/{run.pk}/errors.csv"))
    field, message, value = rows[1][2], rows[1][5], rows[1][6]
    assert field == message == value == "'" + payload


def test_errors_csv_leaves_plain_text_alone(cast: Cast) -> None:
    run = make_run(cast.branch, status=RunStatus.PARTIAL)
    RowError.objects.create(
        run=run, filename="loans.csv", line=None, code="header", message="expected 1,234.50"
    )
    _text, rows = _csv(cast.client("ops").get(f"/imports/{run.pk}/errors.csv"))
    assert rows[1] == ["loans.csv", "", "", "header", "", "expected 1,234.50", ""]


# --- upload ---


def _post_upload(client: Client, files: list[tuple[str, bytes]], **fields: str) -> Any:
    data: dict[str, Any] = {"source": "", "data_date": "", "encoding": "", **fields}
    data["drop"] = [SimpleUploadedFile(name, content) for name, content in files]
    # English, so the assertions can read the messages; the Chinese catalogue is checked in test_i18n.
    return client.post("/imports/upload/", data, HTTP_ACCEPT_LANGUAGE="en")


def test_upload_page_explains_the_size_limit(cast: Cast) -> None:
    html = cast.client("ops").get("/imports/upload/").content.decode()
    assert 'type="file"' in html
    assert "multiple" in html
    assert 'enctype="multipart/form-data"' in html
    assert "50" in html
    assert "xiaodai ingest" in html


@pytest.mark.parametrize(
    "name", ["customer.csv", "customers.txt", "manifest.json.csv", "loans.csv.exe", "x.json"]
)
def test_upload_refuses_bad_file_names(cast: Cast, var_dir: Path, name: str) -> None:
    response = _post_upload(cast.client("ops"), [(name, b"a,b\n")], data_date="2026-11-28")
    assert response.status_code == 200
    assert "not a file a drop may hold" in response.content.decode()
    assert not ImportRun.objects.exists()
    assert _uploads(var_dir) == []


def test_upload_refuses_two_files_for_one_feed(cast: Cast, var_dir: Path) -> None:
    response = _post_upload(
        cast.client("ops"), [("loans.csv", b"a"), ("loans.xlsx", b"b")], data_date="2026-11-28"
    )
    assert "same feed" in response.content.decode()
    assert not ImportRun.objects.exists()


def test_upload_needs_a_date_without_manifest(cast: Cast, var_dir: Path) -> None:
    response = _post_upload(cast.client("ops"), [("sub_branches.csv", b"code,name\n")])
    assert response.context["form"].errors["data_date"]
    assert not ImportRun.objects.exists()


def test_upload_needs_a_date_when_the_manifest_has_none(cast: Cast, var_dir: Path) -> None:
    manifest = json.dumps({"branch_code": cast.branch.code}).encode()
    response = _post_upload(
        cast.client("ops"), [("sub_branches.csv", b"code,name\n"), ("manifest.json", manifest)]
    )
    assert response.context["form"].errors["data_date"]


def test_upload_refuses_more_than_the_limit(
    cast: Cast, var_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_forms, "MAX_UPLOAD_BYTES", 10)
    response = _post_upload(cast.client("ops"), [("sub_branches.csv", b"x" * 11)], data_date="2026-11-28")
    assert "xiaodai ingest FOLDER" in response.content.decode()
    assert not ImportRun.objects.exists()


SUB_BRANCHES = "code,name,district\nHZ09,滨江支行,滨江区\n".encode()


def _manifest(cast: Cast, branch: Branch | None = None, **extra: Any) -> bytes:
    data = {"branch_code": (branch or cast.branch).code, "data_date": "2026-11-28", **extra}
    return json.dumps(data).encode()


def test_upload_service_error_is_a_form_error_and_leaves_nothing(cast: Cast, var_dir: Path) -> None:
    manifest = json.dumps({"branch_code": "NOSUCH", "data_date": "2026-11-28"}).encode()
    response = _post_upload(
        cast.client("ops"), [("sub_branches.csv", SUB_BRANCHES), ("manifest.json", manifest)]
    )
    assert response.status_code == 200
    assert "NOSUCH" in response.content.decode()
    assert not ImportRun.objects.exists()
    assert _uploads(var_dir) == []
    assert not AuditEvent.objects.filter(action=Action.IMPORT_QUEUE).exists()


def test_upload_for_another_branch_is_refused(cast: Cast, var_dir: Path) -> None:
    manifest = _manifest(cast, cast.branch_b)
    response = _post_upload(
        cast.client("ops"), [("sub_branches.csv", SUB_BRANCHES), ("manifest.json", manifest)]
    )
    assert "another branch" in response.content.decode()
    assert not ImportRun.objects.exists()
    assert _uploads(var_dir) == []


def test_upload_queues_and_runs_the_drop(
    cast: Cast, var_dir: Path, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _post_upload(
            cast.client("ops"),
            [("Sub_Branches.csv", SUB_BRANCHES), ("manifest.json", _manifest(cast))],
            source="web",
        )
    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/imports/{run.pk}/"
    assert len(callbacks) == 1  # the job is queued after the run row commits
    run.refresh_from_db()
    assert run.status == RunStatus.LOADED, run.message
    assert (run.branch_id, run.source, run.data_date, run.trigger) == (
        cast.branch.pk,
        "web",
        DAY,
        Trigger.UPLOAD,
    )
    assert run.started_by == cast.staff["ops"]
    assert Path(run.folder).parent == var_dir / "ingest" / "uploads"
    assert run.files.get().filename == "sub_branches.csv"
    # P-13: the uploaded copy holds personal data; it is gone once the job has loaded it.
    assert not Path(run.folder).exists()
    queued = AuditEvent.objects.get(action=Action.IMPORT_QUEUE)
    assert (queued.object_id, queued.username) == (str(run.pk), "ops")
    assert run.files.get().rows_read == 1


def test_upload_of_an_identical_drop_is_a_duplicate(
    cast: Cast, var_dir: Path, django_capture_on_commit_callbacks: Any
) -> None:
    files = [("sub_branches.csv", SUB_BRANCHES), ("manifest.json", _manifest(cast))]
    with django_capture_on_commit_callbacks(execute=True):
        _post_upload(cast.client("ops"), files, source="web")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _post_upload(cast.client("ops"), files, source="web")
    second = ImportRun.objects.order_by("-id").first()
    assert second is not None
    assert second.status == RunStatus.DUPLICATE
    assert response["Location"] == f"/imports/{second.pk}/"
    assert callbacks == []  # nothing to queue
    assert _uploads(var_dir) == []  # neither copy is kept: the first was loaded, the duplicate never queued


# --- rollback ---


def test_rollback_by_ops_admin_rolls_the_run_back(
    cast: Cast, var_dir: Path, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _post_upload(
            cast.client("ops"), [("sub_branches.csv", SUB_BRANCHES), ("manifest.json", _manifest(cast))]
        )
    run = ImportRun.objects.get()
    assert run.status == RunStatus.LOADED, run.message
    response = cast.client("ops").post(f"/imports/{run.pk}/rollback/")
    assert response.status_code == 302
    assert response["Location"] == f"/imports/{run.pk}/"
    run.refresh_from_db()
    assert run.status == RunStatus.ROLLED_BACK
    assert run.rolled_back_by == cast.staff["ops"]
    assert AuditEvent.objects.filter(action=Action.IMPORT_ROLLBACK, object_id=str(run.pk)).exists()


def test_rollback_refused_by_the_service_is_a_message(cast: Cast) -> None:
    run = make_run(cast.branch, status=RunStatus.REJECTED)
    response = cast.client("ops").post(f"/imports/{run.pk}/rollback/", follow=True)
    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    run.refresh_from_db()
    assert run.status == RunStatus.REJECTED


def test_rollback_is_post_only(cast: Cast) -> None:
    run = make_run(cast.branch)
    assert cast.client("ops").get(f"/imports/{run.pk}/rollback/").status_code == 405


# --- feeds ---


def test_feeds_page_lists_every_feed_with_its_mode(cast: Cast) -> None:
    from xiaodai.ingest.contract import FEEDS

    FeedSetting.objects.create(feed="loans", mode=BadRowMode.QUARANTINE)
    response = cast.client("head").get("/imports/feeds/")
    rows = {row.feed.name: row.mode for row in response.context["rows"]}
    assert set(rows) == set(FEEDS)
    assert rows["loans"] == BadRowMode.QUARANTINE
    assert rows["customers"] == BadRowMode.REJECT_FILE
    assert 'name="mode"' not in response.content.decode()  # the branch head reads, does not change


def test_feed_mode_change_is_saved_and_audited(cast: Cast) -> None:
    client = cast.client("ops")
    assert 'name="mode"' in client.get("/imports/feeds/").content.decode()
    response = client.post("/imports/feeds/", {"feed": "customers", "mode": BadRowMode.QUARANTINE})
    assert response.status_code == 302
    setting = FeedSetting.objects.get(feed="customers")
    assert (setting.mode, setting.updated_by) == (BadRowMode.QUARANTINE, cast.staff["ops"])
    event = AuditEvent.objects.get(action=Action.FEED_SETTING)
    assert (event.object_id, event.username) == ("customers", "ops")


def test_feed_mode_change_refuses_unknown_values(cast: Cast) -> None:
    response = cast.client("ops").post("/imports/feeds/", {"feed": "nope", "mode": "yolo"}, follow=True)
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert not FeedSetting.objects.exists()


def test_branch_head_cannot_change_a_feed_mode(cast: Cast) -> None:
    response = cast.client("head").post(
        "/imports/feeds/", {"feed": "customers", "mode": BadRowMode.QUARANTINE}
    )
    assert response.status_code == 403
    assert not FeedSetting.objects.exists()


# --- the job queue ---


def test_tests_run_jobs_inline(settings: Any) -> None:
    from huey.contrib.djhuey import HUEY

    assert HUEY.immediate
    assert settings.HUEY["huey_class"] == "huey.SqliteHuey"


def test_run_import_job_executes_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    from xiaodai.ingest import services, tasks

    seen: list[int] = []
    monkeypatch.setattr(services, "execute_run", seen.append)
    tasks.run_import(42)
    assert seen == [42]


class _FakeProc:
    pid = 4242

    def __init__(self, cmd: list[str], env: dict[str, str]) -> None:
        self.cmd, self.env, self.terminated = cmd, env, False

    def poll(self) -> int | None:
        return 0 if self.terminated else None

    def terminate(self) -> None:
        self.terminated = True

    def wait(self, timeout: float | None = None) -> int:
        return 0


@pytest.fixture
def fake_serve(monkeypatch: pytest.MonkeyPatch) -> list[_FakeProc]:
    import signal
    import subprocess

    import waitress

    from xiaodai.core.management.commands import serve

    started: list[_FakeProc] = []

    def popen(cmd: list[str], env: dict[str, str]) -> _FakeProc:
        started.append(_FakeProc(cmd, env))
        return started[-1]

    monkeypatch.setattr(subprocess, "Popen", popen)
    monkeypatch.setattr(waitress, "serve", lambda *a, **k: None)
    monkeypatch.setattr(serve, "call_command", lambda *a, **k: None)
    monkeypatch.setattr(serve.atexit, "register", lambda *a, **k: None)
    monkeypatch.setattr(signal, "signal", lambda *a, **k: None)
    return started


def test_serve_starts_and_stops_the_job_worker(settings: Any, fake_serve: list[_FakeProc]) -> None:
    from django.core.management import call_command

    settings.HUEY = {**settings.HUEY, "immediate": False}
    call_command("serve", stdout=io.StringIO())
    (proc,) = fake_serve
    assert proc.cmd[-1] == "run_huey"
    assert proc.cmd[1:3] == ["-m", "xiaodai.cli"]
    assert proc.env["DJANGO_SETTINGS_MODULE"] == settings.SETTINGS_MODULE
    assert proc.terminated  # the worker goes when the server does


def test_a_dead_worker_is_restarted_until_the_server_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time

    from xiaodai.core.management.commands import serve

    class Proc:
        pid = 1

        def __init__(self, dies: bool) -> None:
            self.dies, self.ended = dies, threading.Event()

        def wait(self, timeout: float | None = None) -> int:
            if not self.dies:
                self.ended.wait(timeout)
            return 1

        def poll(self) -> int | None:
            return 1 if self.dies or self.ended.is_set() else None

        def terminate(self) -> None:
            self.ended.set()

    procs: list[Proc] = []

    def start() -> Proc:
        procs.append(Proc(dies=not procs))  # the first one crashes at once
        return procs[-1]

    monkeypatch.setattr(serve, "start_worker", start)
    logs: list[str] = []
    worker = serve.Worker(log=logs.append)
    worker.RESTART_DELAY = 0
    worker.start()
    deadline = time.monotonic() + 5
    while len(procs) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.stop()
    assert len(procs) == 2
    assert procs[1].ended.is_set()
    assert logs == ["job worker exited (1); restarting"]


@pytest.mark.parametrize(("args", "immediate"), [(["--no-worker"], False), ([], True)])
def test_serve_without_a_worker(
    settings: Any, fake_serve: list[_FakeProc], args: list[str], immediate: bool
) -> None:
    from django.core.management import call_command

    settings.HUEY = {**settings.HUEY, "immediate": immediate}
    call_command("serve", *args, stdout=io.StringIO())
    assert fake_serve == []


def test_upload_with_a_bad_row_is_rejected_and_reported(
    cast: Cast, var_dir: Path, django_capture_on_commit_callbacks: Any
) -> None:
    bad = "code,name,district\nHZ 09,滨江支行,滨江区\n".encode()  # a space is not allowed in a code
    with django_capture_on_commit_callbacks(execute=True):
        _post_upload(cast.client("ops"), [("sub_branches.csv", bad), ("manifest.json", _manifest(cast))])
    run = ImportRun.objects.get()
    assert run.status == RunStatus.REJECTED, run.message
    html = cast.client("ops").get(f"/imports/{run.pk}/").content.decode()
    assert 'data-testid="errors-csv"' in html
    assert "sub_branches.csv" in html
    _text, rows = _csv(cast.client("ops").get(f"/imports/{run.pk}/errors.csv"))
    assert rows[1][:3] == ["sub_branches.csv", "2", "code"]


def test_migration_takes_the_english_figures_out_of_stored_messages(cast: Cast) -> None:
    from importlib import import_module

    from django.apps import apps

    migration = import_module("xiaodai.ingest.migrations.0003_summary_out_of_message")
    figures = "6 files: 16 rows read, 16 new, 0 updated, 0 unchanged, 0 quarantined"
    plain = make_run(cast.branch, message=figures)
    noted = make_run(
        cast.branch,
        data_date=date(2026, 11, 27),
        message="2 files: 9 rows read, 3 new, 0 updated, 5 unchanged, 1 quarantined Check: fewer rows.",
    )
    other = make_run(cast.branch, data_date=date(2026, 11, 26), message="Refused: customers.csv.")
    migration.strip_summaries(apps, None)
    messages = [ImportRun.objects.get(pk=r.pk).message for r in (plain, noted, other)]
    assert messages == ["", "Check: fewer rows.", "Refused: customers.csv."]
