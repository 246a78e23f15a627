from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "xiaodai.reports"
    label = "reports"
    verbose_name = "Reports"
