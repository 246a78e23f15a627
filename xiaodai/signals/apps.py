from django.apps import AppConfig


class SignalsConfig(AppConfig):
    name = "xiaodai.signals"
    label = "signals"
    verbose_name = "Capital flow"
