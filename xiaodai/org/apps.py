from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "xiaodai.org"
    label = "org"
    verbose_name = "Organisation"
