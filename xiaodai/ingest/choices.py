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


# What each error code of the error report means, in the reader's language (the row's own message adds the
# detail: which values, which line it repeats, ...).
ERROR_LABELS = {
    "required": _("Value missing"),
    "formula": _("Excel formula instead of a value"),
    "column_count": _("Wrong number of cells"),
    "money_format": _("Amount not in the agreed format"),
    "rate_format": _("Rate not in the agreed format"),
    "int_format": _("Not a whole number"),
    "date_format": _("Not a date (YYYY-MM-DD)"),
    "datetime_format": _("Not a date and time"),
    "bool_format": _("Not 1 or 0"),
    "code_format": _("Code with characters not allowed"),
    "too_long": _("Text too long"),
    "choice": _("Value not in the code list"),
    "id_format": _("ID number malformed"),
    "id_checksum": _("ID number check digit wrong"),
    "id_birth_date": _("ID number birth date impossible"),
    "id_region": _("ID number region unknown"),
    "mobile_format": _("Not a valid mobile number"),
    "future_date": _("Date after the data date"),
    "negative": _("Below the allowed minimum"),
    "duplicate_key": _("Key repeated in the file"),
    "drawn_over_limit": _("Drawn amount above the limit"),
    "balance_over_amount": _("Balance above the loan amount"),
    "used_over_limit": _("Card usage above the limit"),
    "date_order": _("Dates in the wrong order"),
    "unknown_reference": _("Refers to a record that does not exist"),
    "immutable": _("Consent evidence cannot change"),
    "other_branch": _("Belongs to another branch"),
    "username_taken": _("Login name taken"),
    "credit_data": _("Credit-bureau data not accepted (C-10)"),
    "columns": _("Columns do not match the contract"),
    "control_rows": _("Row count differs from the control total"),
    "control_sums": _("Amount total differs from the control total"),
    "encoding": _("Text encoding unreadable"),
    "empty_file": _("Empty file"),
    "delimiter": _("Wrong delimiter"),
    "truncated": _("File cut off"),
    "format": _("File format problem"),
    "unreadable": _("File unreadable"),
}
