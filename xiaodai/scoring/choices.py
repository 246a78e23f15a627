from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ModelKind(models.TextChoices):
    RULES = "rules", _("Rule prior")
    LIGHTGBM = "lightgbm", _("LightGBM")


class ModelSource(models.TextChoices):
    PRODUCT = "product", _("The bank's own outcomes")
    HISTORY = "history", _("A history file")


class ModelStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    KEPT = "kept", _("Kept (did not beat the active model)")
    RETIRED = "retired", _("Retired (replaced by a better one)")


class TrainingStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("training", "Queued")
    RUNNING = "running", pgettext_lazy("training", "Running")
    DONE = "done", pgettext_lazy("training", "Done")
    FAILED = "failed", pgettext_lazy("training", "Failed")


class Trigger(models.TextChoices):
    MANUAL = "manual", _("On demand")
    SCHEDULE = "schedule", _("Schedule")
    CLI = "cli", _("Command line")
    DEMO = "demo", _("Demo set-up")
    SYSTEM = "system", _("Built in")
