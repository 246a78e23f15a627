from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "xiaodai.plans"
    label = "plans"
    verbose_name = "Targets and PDCA"
