"""Training, registering and activating models; the only writers of the registry.

A new version becomes active only if it beats the active version of its name on the new holdout (the active
model scores the same later-period rows); otherwise it is kept and marked. Training runs outside any
transaction (it takes minutes); the registry rows and the audit events are then written in one.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaodai.audit.choices import Action
from xiaodai.audit.services import record
from xiaodai.org.models import Branch, Staff
from xiaodai.scoring import learn, modelfile, prior, product
from xiaodai.scoring.choices import ModelKind, ModelSource, ModelStatus, Trigger
from xiaodai.scoring.exceptions import ModelFileError, ScoringError
from xiaodai.scoring.frame import Frame
from xiaodai.scoring.models import PRODUCT_MODEL, ScoringModel

log = logging.getLogger(__name__)
HISTORY_DAYS = 400  # the product learns from the contacts of the last year (and a margin)


def active_model(name: str = PRODUCT_MODEL) -> ScoringModel | None:
    return ScoringModel.objects.filter(name=name, status=ModelStatus.ACTIVE).first()


def load(model: ScoringModel) -> modelfile.Loaded:
    """The model's file, checked against the checksum the registry holds."""
    if model.kind != ModelKind.LIGHTGBM:
        raise ModelFileError(_("%(model)s is a rule model and has no file.") % {"model": model})
    return modelfile.read(modelfile.model_root() / model.file, expected_checksum=model.checksum)


def _active_scores(active: ScoringModel, holdout: Frame) -> np.ndarray | None:
    """The active model's scores of the new holdout, or None when it cannot read these rows."""
    if active.kind == ModelKind.RULES:
        if {f.name for f in holdout.features} >= {"line_limit", "h_days_since_keen"}:
            return prior.score(holdout)[0]
        return None
    try:
        loaded = load(active)
    except ModelFileError:
        log.warning("active model %s cannot be loaded; the new version is compared with nothing", active)
        return None
    available = {f.name for f in holdout.features}
    if not {f.name for f in loaded.features} <= available:
        return None
    return learn.predict(loaded.booster, holdout, loaded.features, loaded.categories)


def register(
    trained: learn.Trained,
    *,
    name: str,
    source: str,
    info: dict[str, Any],
    trigger: str,
    by: Staff | None,
) -> ScoringModel:
    """Write the model file, add the version to the registry, activate it if it beats the active one."""
    modelfile.check_name(name)
    active = active_model(name)
    metrics = dict(trained.evaluation)
    beats: bool | None = None
    if active is not None and trained.holdout is not None and trained.holdout.y is not None:
        theirs = _active_scores(active, trained.holdout)
        if theirs is not None:
            metrics["active"] = {**learn.metrics(trained.holdout.y, theirs), "version": active.version}
            beats = metrics["model"]["auc"] > metrics["active"]["auc"]
    with transaction.atomic():
        version = (ScoringModel.objects.filter(name=name).aggregate(v=Max("version"))["v"] or 0) + 1
        relative = Path(name) / f"v{version}.json"
        path = modelfile.model_root() / relative
        meta = {"name": name, "version": version, "trained_at": timezone.now().isoformat()}
        checksum = modelfile.write(path, trained.booster, trained.features, trained.categories, meta)
        try:
            activate = active is None or bool(beats)
            model = ScoringModel.objects.create(
                name=name,
                version=version,
                kind=ModelKind.LIGHTGBM,
                source=source,
                status=ModelStatus.KEPT,
                features=[f.as_dict() for f in trained.features],
                window=trained.window,
                rows=trained.rows,
                metrics=metrics,
                notes=trained.notes,
                params=trained.params,
                info=info,
                beats_active=beats,
                file=str(relative),
                checksum=checksum,
                trigger=trigger,
                trained_by=by,
            )
            record(
                Action.MODEL_TRAIN,
                user=by.user if by else None,
                username=trigger,
                obj=model,
                detail={
                    "name": name,
                    "version": version,
                    "auc": round(metrics["model"]["auc"], 4),
                    "beats": beats,
                },
            )
            if activate:
                _activate(model, active, by, trigger)
        except BaseException:
            path.unlink(missing_ok=True)  # no registry row: no file either
            raise
    return model


def _activate(model: ScoringModel, previous: ScoringModel | None, by: Staff | None, trigger: str) -> None:
    if previous is not None:
        ScoringModel.objects.filter(pk=previous.pk).update(status=ModelStatus.RETIRED)
    model.status, model.activated_at = ModelStatus.ACTIVE, timezone.now()
    model.save(update_fields=["status", "activated_at"])
    record(
        Action.MODEL_ACTIVATE,
        user=by.user if by else None,
        username=trigger,
        obj=model,
        detail={
            "name": model.name,
            "version": model.version,
            "replaces": previous.version if previous else None,
        },
    )


# --- bring-your-own history ------------------------------------------------------------------------------


def train_history(
    path: Path,
    *,
    name: str,
    target: str,
    time_col: str,
    id_col: str,
    exclude: list[str] | None = None,
    until: dt.date | None = None,
    by: Staff | None = None,
) -> ScoringModel:
    from xiaodai.scoring import history

    modelfile.check_name(name)
    if name == PRODUCT_MODEL:
        raise ScoringError(_("%(name)s is the product's own model; choose another name.") % {"name": name})
    frame, info = history.load_history(
        path, target=target, time_col=time_col, id_col=id_col, exclude=exclude, until=until
    )
    trained = learn.train(frame)
    return register(trained, name=name, source=ModelSource.HISTORY, info=info, trigger=Trigger.CLI, by=by)


def score_history_file(name: str, path: Path, *, id_col: str, output: Path) -> int:
    """Score a file with a model of the registry (its active version); writes id, score, reasons as CSV."""
    from xiaodai.scoring import explain, history

    model = active_model(name)
    if model is None:
        raise ScoringError(_("No active model is called %(name)s.") % {"name": name})
    loaded = load(model)
    time_col = str(model.info.get("time_column", ""))
    target = model.info.get("target")
    frame = history.load_for_scoring(
        path, features=loaded.features, id_col=id_col, time_col=time_col, target=target
    )
    from xiaodai.scoring.frame import matrix

    x = matrix(frame, loaded.features, loaded.categories)
    scores = loaded.booster.predict(x, num_threads=2) if len(frame) else np.empty(0)
    contrib = explain.contributions(loaded.booster, x) if len(frame) else np.empty((0, len(loaded.features)))
    reasons = explain.plain_reasons(frame, loaded.features, contrib, explain.top_features(contrib))
    import pyarrow as pa
    import pyarrow.csv as pacsv

    # With the time column: one id may have several rows, each scored as of its own moment.
    table = pa.table(
        {
            id_col: pa.array(frame.ids.tolist(), pa.string()),
            time_col: pa.array(frame.times, pa.timestamp("us")),
            "score": scores,
            "reasons": reasons,
        }
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.tmp")
    pacsv.write_csv(table, tmp)
    tmp.replace(output)
    return len(frame)


# --- the product's own model -------------------------------------------------------------------------------


def product_training_frame(day: dt.date, folder: Path) -> Frame:
    """Every branch's snapshot (holdings, a year of contacts) under `folder`, then the training frame."""
    import pyarrow.parquet as pq

    from xiaodai.pipeline import engines, snapshot
    from xiaodai.pipeline.choices import Engine
    from xiaodai.signals.compute import compute as signals
    from xiaodai.signals.services import current_config

    config = current_config()
    for branch in Branch.objects.order_by("pk"):
        files = snapshot.take(
            0,
            branch.pk,
            day,
            lake_days=HISTORY_DAYS,
            progress=lambda *_: None,
            folder=folder / f"b{branch.pk}",
            transaction_days=HISTORY_DAYS + config.window_days(),
        )
        # The capital-flow events of the whole year: a past contact's features see the ones before it.
        with engines.connect(Engine.DUCKDB) as engine:
            events = signals(engine, files, day, config, prefix=f"train{branch.pk}").events
        pq.write_table(events, folder / f"b{branch.pk}" / "signal_events.parquet")
    with duckdb.connect() as con:
        for name in product.INPUTS:
            con.register(name, con.read_parquet(str(folder / "*" / f"{name}.parquet"), union_by_name=True))
        product.register_events(con, str(folder / "*" / "signal_events.parquet"))
        return product.training_frame(con, day)


def train_product(
    *, trigger: str = Trigger.MANUAL, by: Staff | None = None, day: dt.date | None = None
) -> ScoringModel:
    """Retrain the product's model on the bank's own outcomes (a job: minutes on a large bank)."""
    from xiaodai.pipeline.services import latest_data_date

    day = day or latest_data_date() or timezone.localdate()
    folder = Path(tempfile.mkdtemp(prefix="xiaodai-train-"))
    try:  # the snapshot holds personal data: it goes as soon as the frame is built (P-03)
        frame = product_training_frame(day, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if not len(frame):
        raise ScoringError(_("There is no contact history with a closed 30-day outcome window yet."))
    trained = learn.train(frame)
    info = {"data_date": day.isoformat(), "label": _("applied within 30 days of the contact")}
    return register(
        trained, name=PRODUCT_MODEL, source=ModelSource.PRODUCT, info=info, trigger=trigger, by=by
    )
