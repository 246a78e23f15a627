from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "xiaodai.audit"
    label = "audit"
    verbose_name = "Audit"

    def ready(self) -> None:
        from xiaodai.audit import receivers  # noqa: F401  (login/logout events come only as auth signals)
