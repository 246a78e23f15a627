"""Reads behind the pipeline pages. A run belongs to its branch: people see their own branch's runs only, and
another branch's run answers 404 like one that does not exist (compliance A-02)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from xiaodai.core.access import actor_of
from xiaodai.core.roles import Perm
from xiaodai.pipeline.choices import ACTIVE
from xiaodai.pipeline.models import PipelineRun


def runs_for(user: Any) -> QuerySet[PipelineRun]:
    actor = actor_of(user)
    if not actor.has(Perm.VIEW_PIPELINE) or actor.branch_id is None:
        return PipelineRun.objects.none()
    return PipelineRun.objects.filter(branch_id=actor.branch_id).select_related("started_by")


def run_list(user: Any) -> QuerySet[PipelineRun]:
    """Newest first, steps prefetched (the progress of an active run needs them)."""
    return runs_for(user).prefetch_related("steps").order_by("-created_at", "-id")


def is_active(run: PipelineRun) -> bool:
    return run.status in ACTIVE


def current_step(run: PipelineRun) -> str:
    """The step a running run is at (the first not finished), for the progress line."""
    for step in run.steps.all():
        if step.status in ("running", "waiting"):
            return step.name
    return ""
