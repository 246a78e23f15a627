"""Runs of the daily batch pipeline and their steps (timings, row counts), one run at a time."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xiaodai.org.models import Branch, Staff
from xiaodai.pipeline.choices import Engine, RunStatus, StepStatus, Trigger


class PipelineRun(models.Model):
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    data_date = models.DateField(_("data date"))
    engine = models.CharField(_("engine"), max_length=16, choices=Engine.choices)
    status = models.CharField(_("status"), max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    trigger = models.CharField(_("started from"), max_length=16, choices=Trigger.choices)
    started_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    message = models.TextField(blank=True)
    rule_versions = models.JSONField(default=dict)  # {rule code: version} the run used (explainability)
    is_published = models.BooleanField(default=False)  # its results are the ones the pages show
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One run at a time per branch: two runs would race to publish.
            models.UniqueConstraint(
                fields=["branch"],
                condition=Q(status__in=["queued", "running"]),
                name="pipeline_one_active_run",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.data_date} {self.engine}"

    @property
    def seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    @property
    def percent(self) -> int:
        steps = list(self.steps.all())
        if not steps:
            return 0
        finished = sum(1 for s in steps if s.status in (StepStatus.DONE, StepStatus.SKIPPED))
        return int(finished * 100 / len(steps))


class PipelineStep(models.Model):
    run = models.ForeignKey(PipelineRun, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=StepStatus.choices, default=StepStatus.WAITING)
    rows = models.PositiveBigIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "position"]

    @property
    def seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None
