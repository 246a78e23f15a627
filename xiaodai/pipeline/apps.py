from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "xiaodai.pipeline"
    label = "pipeline"
    verbose_name = "Batch pipeline"
