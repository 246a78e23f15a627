"""The daily report (日报): the page for the morning meeting and its Excel export."""

from django.urls import URLPattern, path

from xiaodai.reports import daily_views

urlpatterns: list[URLPattern] = [
    path("daily/", daily_views.daily_report, name="daily"),
    path("daily.xlsx", daily_views.daily_export, name="daily_export"),
]
