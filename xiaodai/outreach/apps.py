from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "xiaodai.outreach"
    label = "outreach"
    verbose_name = "Calls, visits and scripts"
