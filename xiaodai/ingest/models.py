"""Import runs of daily data drops, per-file figures, the per-feed bad-row policy, and what rollback needs."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xiaodai.ingest.choices import BadRowMode, RunStatus, Trigger
from xiaodai.ingest.contract import FEEDS
from xiaodai.org.models import Branch, Staff


class ImportRun(models.Model):
    """One attempt to load one drop (source + data date). At most one runs per (source, data date)."""

    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    source = models.CharField(_("source"), max_length=50)
    data_date = models.DateField(_("data date"))
    contract_version = models.CharField(max_length=10)
    fingerprint = models.CharField(max_length=64, help_text="sha256 over the drop's files")
    status = models.CharField(_("status"), max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    trigger = models.CharField(_("started from"), max_length=16, choices=Trigger.choices)
    started_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    folder = models.CharField(max_length=500, help_text="where the drop's files were read from")
    message = models.TextField(blank=True)
    progress_done = models.PositiveBigIntegerField(default=0)
    progress_total = models.PositiveBigIntegerField(default=0)
    progress_step = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)
    rolled_back_at = models.DateTimeField(null=True, blank=True)
    rolled_back_by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # The lock behind "one run per (source, data date) at a time", on SQLite and PostgreSQL alike.
            models.UniqueConstraint(
                fields=["source", "data_date"],
                condition=Q(status__in=["queued", "running"]),
                name="ingest_one_active_run_per_source_date",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.source} {self.data_date}"

    @property
    def percent(self) -> int:
        if not self.progress_total:
            return 0
        return min(100, int(self.progress_done * 100 / self.progress_total))


class ImportFile(models.Model):
    """One file of a run, with its figures: read = loaded + updated + unchanged + rejected."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="files")
    feed = models.CharField(_("feed"), max_length=32)
    filename = models.CharField(_("file"), max_length=200)
    file_format = models.CharField(max_length=10)
    encoding = models.CharField(max_length=20, blank=True)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveBigIntegerField(default=0)
    mode = models.CharField(max_length=16, choices=BadRowMode.choices)
    rows_read = models.PositiveBigIntegerField(default=0)
    rows_loaded = models.PositiveBigIntegerField(default=0)  # new rows
    rows_updated = models.PositiveBigIntegerField(default=0)
    rows_unchanged = models.PositiveBigIntegerField(default=0)
    rows_rejected = models.PositiveBigIntegerField(default=0)
    sums_in = models.JSONField(default=dict)  # column -> total of the file's valid rows, as a string
    sums_out = models.JSONField(default=dict)  # column -> total of what the database/lake holds for them
    control = models.JSONField(default=dict)  # what the manifest declared: rows and sums
    reconciled = models.BooleanField(default=False)
    accepted = models.BooleanField(default=False)  # False: the whole file was refused
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename

    @property
    def feed_label(self) -> str:
        """The feed's title in the reader's language (its name when the contract no longer has it)."""
        feed = FEEDS.get(self.feed)
        return feed.label if feed else self.feed


class RowError(models.Model):
    """One line of a run's error report. Values are stored masked: the report is downloadable."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="errors")
    filename = models.CharField(max_length=200)
    line = models.PositiveBigIntegerField(null=True, blank=True)  # 1 = header line; None = the whole file
    field = models.CharField(max_length=100, blank=True)
    code = models.CharField(max_length=40)
    message = models.CharField(max_length=500)
    value = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]


class FeedSetting(models.Model):
    """The operations admin's choice per feed: refuse a file with any bad row, or quarantine bad rows."""

    feed = models.CharField(max_length=32, unique=True)
    mode = models.CharField(max_length=16, choices=BadRowMode.choices, default=BadRowMode.REJECT_FILE)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    def __str__(self) -> str:
        return f"{self.feed}: {self.mode}"


class RowVersion(models.Model):
    """What a run did to one row, so the run can be rolled back: the row's values before (None when the run
    inserted it). Only changed and inserted rows are kept; unchanged rows cost nothing."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="+")
    table = models.CharField(max_length=64)
    row_id = models.BigIntegerField()
    before = models.JSONField(null=True)

    class Meta:
        indexes = [models.Index(fields=["run", "table"])]


class LandingPickup(models.Model):
    """A folder of the landing area the sweep has taken up (each once, landing.py): the run it became, or
    why it could not become one."""

    folder = models.CharField(max_length=500, unique=True)
    run = models.ForeignKey(ImportRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    error = models.TextField(blank=True)
    taken_at = models.DateTimeField(auto_now_add=True)


class MissedDrop(models.Model):
    """An expected source's drop not delivered by the cut-off (compliance D-11), raised once per source and
    data date; it stays on the import pages until a run of that drop exists."""

    source = models.CharField(_("source"), max_length=50)
    data_date = models.DateField(_("data date"))
    raised_at = models.DateTimeField(_("raised at"), auto_now_add=True)

    class Meta:
        ordering = ["-data_date", "source"]
        constraints = [
            models.UniqueConstraint(fields=["source", "data_date"], name="ingest_one_missed_alert"),
        ]
