"""The daily report pages: the report for the morning meeting and its Excel export. Thin: the report is
built by daily.py, the workbook by daily_excel.py."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from xiaodai.audit.choices import Action
from xiaodai.audit.services import record
from xiaodai.core.access import require_perm
from xiaodai.core.roles import Perm
from xiaodai.plans.rollup import local_today
from xiaodai.reports import daily, daily_excel


@require_GET
@require_perm(Perm.VIEW_PERFORMANCE)
def daily_report(request: HttpRequest) -> HttpResponse:
    """Each level the viewer sees: the day and the month so far against the month's targets."""
    day, error = daily.parse_day(request.GET, local_today())
    if error:
        messages.warning(request, error)
    report = daily.build_report(request.user, day, daily.parse_sort(request.GET))
    context = {
        "nav": "performance",
        "tab": "daily",
        "report": report,
        "refreshed": report.refreshed,
        "max_day": local_today().isoformat(),
    }
    return render(request, "reports/daily.html", context)


@require_GET
@require_perm(Perm.VIEW_PERFORMANCE)  # type: ignore[arg-type]  # require_perm is typed for HttpResponse
def daily_export(request: HttpRequest) -> FileResponse:
    """The same report as .xlsx, one sheet per level; audited (the day only: the URL and the audit trail
    carry no personal data)."""
    day, _error = daily.parse_day(request.GET, local_today())
    report = daily.build_report(request.user, day, daily.parse_sort(request.GET))
    workbook = daily_excel.write_report(report)
    record(
        Action.EXPORT,
        request=request,
        object_type="report",
        object_id="daily",
        detail={
            "report": "daily",
            "day": day.isoformat(),
            "format": "xlsx",
            "levels": [level.scope for level in report.levels],
            "rows": sum(len(level.rows) for level in report.levels),
        },
    )
    filename = f"daily-report-{day:%Y%m%d}.xlsx"
    return FileResponse(
        workbook, as_attachment=True, filename=filename, content_type=daily_excel.CONTENT_TYPE
    )
