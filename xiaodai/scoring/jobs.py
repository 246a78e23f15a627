"""Retraining as a job: queue a run (from the model page or the weekly schedule), then execute it in a worker.

One training at a time, whatever started it: two trainings at once would both compare themselves with the same
active model and race to register the next version. A run is never left queued or running by a failure; a run
whose worker died (killed, machine restarted) counts as abandoned after STALE_AFTER and stops blocking.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from xiaodai.audit.choices import Action, Outcome
from xiaodai.audit.services import record
from xiaodai.org.models import Staff
from xiaodai.scoring.choices import ModelStatus, TrainingStatus, Trigger
from xiaodai.scoring.exceptions import ScoringError
from xiaodai.scoring.models import TrainingRun

log = logging.getLogger(__name__)
ACTIVE = (TrainingStatus.QUEUED, TrainingStatus.RUNNING)
STALE_AFTER = dt.timedelta(hours=6)  # training takes minutes; hours mean the worker is gone


def active_run() -> TrainingRun | None:
    return TrainingRun.objects.filter(status__in=ACTIVE).order_by("created_at", "id").first()


def _abandon_stale() -> None:
    """Mark runs that have sat queued or running far too long as failed, so a dead worker blocks nothing."""
    cutoff = timezone.now() - STALE_AFTER
    TrainingRun.objects.filter(status__in=ACTIVE, created_at__lt=cutoff).update(
        status=TrainingStatus.FAILED,
        message=_("Abandoned: no result after %(hours)s hours (the job worker stopped?).")
        % {"hours": int(STALE_AFTER.total_seconds() // 3600)},
        finished_at=timezone.now(),
    )


def _busy() -> str:
    return _("A model training is already queued or running; wait for it to finish.")


def _queue(trigger: str, by: Staff | None, request: HttpRequest | None) -> TrainingRun:
    """Create the queued run and its audit event in one transaction; refused while another is active."""
    with transaction.atomic():
        _abandon_stale()
        if active_run() is not None:
            raise ScoringError(_busy())
        try:
            with transaction.atomic():  # a savepoint: the caller's transaction survives a lost race
                run = TrainingRun.objects.create(trigger=trigger, requested_by=by)
        except IntegrityError:  # the partial unique constraint: another request queued one just now
            raise ScoringError(_busy()) from None
        record(
            Action.MODEL_RETRAIN_QUEUE,
            request=request,
            user=by.user if by and request is None else None,
            username="" if by else f"scoring:{trigger}",
            obj=run,
            detail={"trigger": trigger},
        )
    return run


def queue_retrain(by: Staff | None, request: HttpRequest | None = None) -> TrainingRun:
    """Queue an on-demand retraining of the product's model; ScoringError says why not. The job is sent once
    the run row is committed, or the worker could look for it too early."""
    from xiaodai.scoring.tasks import retrain  # tasks imports this module: import at call time

    with transaction.atomic():
        run = _queue(Trigger.MANUAL, by, request)
        transaction.on_commit(lambda: retrain(run.pk))
    return run


def run_scheduled() -> TrainingRun | None:
    """The weekly retraining, run in the worker itself; skipped (None) while another training is active."""
    try:
        run = _queue(Trigger.SCHEDULE, None, None)
    except ScoringError:
        log.info("scheduled retraining skipped: a training is already queued or running")
        return None
    return execute_training(run.pk)


def execute_training(run_id: int) -> TrainingRun:
    """Run a queued training to its end: done with the model it produced, or failed with the reason."""
    with translation.override(settings.LANGUAGE_CODE):  # stored messages in the installation's language
        return _execute(run_id)


def _execute(run_id: int) -> TrainingRun:
    # A conditional update claims the run: a job sent twice, or a run abandoned meanwhile, trains nothing.
    claimed = TrainingRun.objects.filter(pk=run_id, status=TrainingStatus.QUEUED).update(
        status=TrainingStatus.RUNNING
    )
    run = TrainingRun.objects.select_related("requested_by__user").get(pk=run_id)
    if not claimed:
        return run
    from xiaodai.scoring import services  # LightGBM loads in the worker that trains, not in every web process

    try:
        model = services.train_product(trigger=run.trigger, by=run.requested_by)
    except ScoringError as exc:
        _finish_failed(run, str(exc))
    except BaseException as exc:  # even a worker shutdown ends the run visibly failed; the trace is logged
        _finish_failed(run, _("The training failed: %(error)s") % {"error": type(exc).__name__})
        raise
    else:
        run.status, run.model = TrainingStatus.DONE, model
        if model.status == ModelStatus.ACTIVE:
            run.message = _("Trained %(model)s; it is now the active model.") % {"model": model}
        else:
            kept = _("Trained %(model)s; kept, as it did not beat the active model.")
            run.message = kept % {"model": model}
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "model", "message", "finished_at"])
    return run


def _finish_failed(run: TrainingRun, message: str) -> None:
    run.status, run.message, run.finished_at = TrainingStatus.FAILED, message, timezone.now()
    run.save(update_fields=["status", "message", "finished_at"])
    by = run.requested_by
    record(
        Action.MODEL_TRAIN,
        user=by.user if by else None,
        username="" if by else f"scoring:{run.trigger}",
        obj=run,
        outcome=Outcome.FAILURE,
        detail={"trigger": run.trigger},  # the reason stays on the run: it may quote a value of the data
    )
