"""/performance/: the dashboard, the funnel and its drill-down, the daily report (page and Excel)."""

from xiaodai.reports import daily_urls, dashboard_urls

app_name = "reports"
urlpatterns = [*dashboard_urls.urlpatterns, *daily_urls.urlpatterns]
