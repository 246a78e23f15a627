"""`xiaodai model train|score|retrain|list`: bring-your-own history, the product's retraining, the
registry."""

from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from xiaodai.scoring import services
from xiaodai.scoring.choices import Trigger
from xiaodai.scoring.exceptions import ScoringError
from xiaodai.scoring.models import ScoringModel


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--until takes a date like 2026-06-30, not {value!r}") from exc


class Command(BaseCommand):
    help = (
        "Train and use propensity models: from a history file, or the product's own on the bank's outcomes."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        train = sub.add_parser(
            "train", help="train a model on a flat history file (one row per past contact)"
        )
        train.add_argument("--history", required=True, type=Path, help="CSV (UTF-8) or Parquet file")
        train.add_argument("--target", required=True, help="the 0/1 or yes/no outcome column")
        train.add_argument("--time-column", required=True, help="when the contact happened")
        train.add_argument("--id-column", required=True, help="who was contacted")
        train.add_argument("--exclude", default="", help="columns to leave out, comma-separated")
        train.add_argument("--until", help="train only on rows before this date (YYYY-MM-DD)")
        train.add_argument("--name", required=True, help="the model's name in the registry")
        score = sub.add_parser("score", help="score a file with the active version of a model")
        score.add_argument("--model", required=True)
        score.add_argument("--input", required=True, type=Path)
        score.add_argument("--id-column", required=True)
        score.add_argument("--output", required=True, type=Path)
        sub.add_parser("retrain", help="retrain the product's model on the bank's own outcomes now")
        sub.add_parser("list", help="the registry")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            getattr(self, f"_{opts['action']}")(opts)
        except ScoringError as exc:
            raise CommandError(str(exc)) from exc

    def _report(self, model: ScoringModel) -> None:
        m = model.metrics
        self.stdout.write(
            f"{model.name} v{model.version}: {model.status}; rows {model.rows.get('train', 0):,} train / "
            f"{model.rows.get('holdout', 0):,} holdout ({model.window.get('holdout_from')} .. "
            f"{model.window.get('holdout_to')})"
        )
        self.stdout.write(
            f"{'':10} {'AUC':>7} {'AP':>7} {'top10%':>7} {'top20%':>7} {'top30%':>7} {'top50%':>7}"
        )
        for method in ("random", "rule", "logistic", "model", "active"):
            if method not in m:
                continue
            e, cap = m[method], m[method]["capture"]
            self.stdout.write(
                f"{method:10} {e['auc']:7.3f} {e['ap']:7.3f} "
                + " ".join(f"{cap[p]:7.1%}" for p in ("10", "20", "30", "50"))
            )
        for note in model.notes:
            from xiaodai.scoring.methods import note_text

            self.stdout.write(f"note: {note_text(note)}")

    def _train(self, opts: dict[str, Any]) -> None:
        model = services.train_history(
            opts["history"],
            name=opts["name"],
            target=opts["target"],
            time_col=opts["time_column"],
            id_col=opts["id_column"],
            exclude=[c.strip() for c in opts["exclude"].split(",") if c.strip()],
            until=_day(opts["until"]) if opts["until"] else None,
        )
        self._report(model)

    def _score(self, opts: dict[str, Any]) -> None:
        rows = services.score_history_file(
            opts["model"], opts["input"], id_col=opts["id_column"], output=opts["output"]
        )
        self.stdout.write(f"{rows:,} rows scored into {opts['output']}")

    def _retrain(self, opts: dict[str, Any]) -> None:
        self._report(services.train_product(trigger=Trigger.CLI))

    def _list(self, opts: dict[str, Any]) -> None:
        for model in ScoringModel.objects.all():
            auc = model.metrics.get("model", {}).get("auc")
            shown = f"AUC {auc:.3f}" if auc is not None else "rule prior"
            self.stdout.write(f"{model.name:20} v{model.version:<4} {model.kind:9} {model.status:8} {shown}")
