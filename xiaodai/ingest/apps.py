from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "xiaodai.ingest"
    label = "ingest"
    verbose_name = "Data drops"
