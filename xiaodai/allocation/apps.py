from django.apps import AppConfig


class AllocationConfig(AppConfig):
    name = "xiaodai.allocation"
    label = "allocation"
    verbose_name = "Claims and allocation"
