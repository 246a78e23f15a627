from django.db import models
from django.utils.translation import gettext_lazy as _


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    LOADED = "loaded", _("Loaded")
    PARTIAL = "partial", _("Loaded with rows quarantined")
    REJECTED = "rejected", _("Rejected, nothing changed")
    DUPLICATE = "duplicate", _("Duplicate, nothing changed")
    FAILED = "failed", _("Failed, nothing changed")
    ROLLED_BACK = "rolled_back", _("Rolled back")
    SUPERSEDED = "superseded", _("Replaced by a re-delivery")


class BadRowMode(models.TextChoices):
    REJECT_FILE = "reject_file", _("Reject the whole file on any bad row")
    QUARANTINE = "quarantine", _("Load good rows, quarantine bad ones")


class Trigger(models.TextChoices):
    CLI = "cli", _("Command line")
    UPLOAD = "upload", _("Web upload")
    DEMO = "demo", _("Demo generator")
    SCHEDULE = "schedule", _("Schedule")


# Statuses after which a run changed the database and can be rolled back.
APPLIED = (RunStatus.LOADED, RunStatus.PARTIAL)
FINISHED = (
    *APPLIED,
    RunStatus.REJECTED,
    RunStatus.DUPLICATE,
    RunStatus.FAILED,
    RunStatus.ROLLED_BACK,
    RunStatus.SUPERSEDED,
)
