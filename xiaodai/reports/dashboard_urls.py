"""Routes of the dashboard, the funnel and the drill-down (composed into /performance/ by urls.py)."""

from django.urls import URLPattern, path

from xiaodai.reports import dashboard_views as views

urlpatterns: list[URLPattern] = [
    path("", views.dashboard, name="dashboard"),
    path("funnel/", views.funnel, name="funnel"),
    path("records/", views.records, name="records"),
]
