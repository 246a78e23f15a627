from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "xiaodai.core"
    label = "core"
    verbose_name = "Core"
