from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "xiaodai.scoring"
    label = "scoring"
    verbose_name = "Scores and models"
