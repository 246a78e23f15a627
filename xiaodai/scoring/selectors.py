"""Reads behind the model pages: the registry list, the training runs, and a model's card.

The registry is the bank's, not a branch's (the product's model learns from every branch's outcomes), and
holds no personal data: only the ops admin sees it (Perm.MANAGE_MODELS), so nothing here is branch-scoped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, QuerySet
from django.db.models.expressions import OrderBy
from django.http import QueryDict
from django.utils.translation import gettext as _

from xiaodai.pools.rules import BY_CODE
from xiaodai.scoring import prior
from xiaodai.scoring.choices import ModelKind, ModelStatus, TrainingStatus
from xiaodai.scoring.methods import GAINS_STEP, METHODS, method_label, note_text
from xiaodai.scoring.models import ScoringModel, TrainingRun

RUNS_SHOWN = 10
ACTIVE_RUN = (TrainingStatus.QUEUED, TrainingStatus.RUNNING)
CAPTURE_AT = ("10", "20", "30", "50")
GAINS_AT = list(range(GAINS_STEP, 101, GAINS_STEP))  # share of the list, in %


def _by(expr: str, desc: bool = False) -> OrderBy:
    # Rules models have no metrics: they sort last either way, on SQLite and PostgreSQL alike.
    return F(expr).desc(nulls_last=True) if desc else F(expr).asc(nulls_last=True)


SORTS: dict[str, tuple[Any, ...]] = {
    "name": ("name", "-version"),
    "-name": ("-name", "-version"),
    "status": ("status", "name", "-version"),
    "-status": ("-status", "name", "-version"),
    "trained": ("trained_at", "id"),
    "-trained": ("-trained_at", "-id"),
    "auc": (_by("metrics__model__auc"), "-id"),
    "-auc": (_by("metrics__model__auc", desc=True), "-id"),
}
DEFAULT_SORT = "-trained"  # newest first


@dataclass(frozen=True)
class ModelFilter:
    name: str
    status: str
    sort: str


def model_list(params: QueryDict) -> tuple[QuerySet[ScoringModel], ModelFilter]:
    """Every registered version, filtered by name and status, sorted. Unknown values are ignored."""
    models = ScoringModel.objects.select_related("trained_by")
    # NUL is dropped: PostgreSQL refuses it in a query parameter, which would turn a typo into a 500.
    name = params.get("name", "").replace("\x00", "").strip()[:64]
    if name:
        models = models.filter(name=name)
    status = params.get("status", "")
    if status in ModelStatus.values:
        models = models.filter(status=status)
    else:
        status = ""
    sort = params.get("sort", DEFAULT_SORT)
    if sort not in SORTS:
        sort = DEFAULT_SORT
    return models.order_by(*SORTS[sort]), ModelFilter(name=name, status=status, sort=sort)


def model_names() -> list[str]:
    """The names in the registry, for the filter."""
    return sorted(set(ScoringModel.objects.order_by().values_list("name", flat=True).distinct()))


@dataclass(frozen=True)
class Summary:
    """The figures of a model on its own holdout that the list shows; None where it has none (rules)."""

    auc: float | None
    ap: float | None
    capture20: float | None  # % of the conversions found in the top 20 % of the list
    active_auc: float | None  # the then-active model on the same holdout
    active_version: int | None


def summary(model: ScoringModel) -> Summary:
    mine = (model.metrics or {}).get("model") or {}
    theirs = (model.metrics or {}).get("active") or {}
    capture20 = (mine.get("capture") or {}).get("20")
    return Summary(
        auc=mine.get("auc"),
        ap=mine.get("ap"),
        capture20=None if capture20 is None else capture20 * 100,
        active_auc=theirs.get("auc"),
        active_version=theirs.get("version"),
    )


def recent_runs() -> list[TrainingRun]:
    return list(
        TrainingRun.objects.select_related("requested_by", "model").order_by("-created_at", "-id")[
            :RUNS_SHOWN
        ]
    )


def any_active(runs: list[TrainingRun]) -> bool:
    return any(run.status in ACTIVE_RUN for run in runs)


# --- the model card -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Method:
    key: str
    label: str


@dataclass(frozen=True)
class Cell:
    text: str
    best: bool = False


@dataclass(frozen=True)
class MetricRow:
    """One metric across the methods, formatted; the best method's cell is marked (none when all tie)."""

    label: str
    cells: list[Cell]


@dataclass(frozen=True)
class Line:
    label: str
    value: Any


@dataclass(frozen=True)
class FeatureRow:
    name: str
    kind: str
    origin: str
    description: str


@dataclass
class Card:
    model: ScoringModel
    methods: list[Method]
    features: list[FeatureRow]
    table: list[MetricRow]
    chart: dict[str, Any] | None
    notes: list[str]
    rows: list[Line]
    info: list[Line]
    params: list[Line]
    prior_table: list[Line] = field(default_factory=list)  # rules models: the base rate of each pool
    prior_factors: list[Line] = field(default_factory=list)


def _methods(metrics: dict[str, Any]) -> list[Method]:
    out = []
    for key in (*METHODS, "active"):
        if key not in metrics:
            continue
        label = method_label(key)
        if key == "active" and metrics[key].get("version") is not None:
            label = _("%(label)s (v%(version)s)") % {"label": label, "version": metrics[key]["version"]}
        out.append(Method(key, label))
    return out


def _metric_row(label: str, values: list[float | None], percent: bool) -> MetricRow:
    known = [v for v in values if v is not None]
    best = max(known) if known and len(set(known)) > 1 else None

    def text(v: float | None) -> str:
        if v is None:
            return "—"
        return f"{v:.1%}" if percent else f"{v:.3f}"

    return MetricRow(label, [Cell(text(v), v is not None and v == best) for v in values])


def _table(metrics: dict[str, Any], methods: list[Method]) -> list[MetricRow]:
    def get(method: str, metric: str) -> float | None:
        entry = metrics.get(method) or {}
        if metric in ("auc", "ap"):
            return entry.get(metric)
        return (entry.get("capture") or {}).get(metric)

    rows = [
        _metric_row("AUC", [get(m.key, "auc") for m in methods], percent=False),
        _metric_row(_("Average precision (AP)"), [get(m.key, "ap") for m in methods], percent=False),
    ]
    for p in CAPTURE_AT:
        label = _("Capture in the top %(p)s%%") % {"p": p}
        rows.append(_metric_row(label, [get(m.key, p) for m in methods], percent=True))
    return rows


def gains_chart(metrics: dict[str, Any], methods: list[Method]) -> dict[str, Any] | None:
    """ECharts option: the share of conversions found (y) against the share of the list worked (x), one line
    per method, and the diagonal a list in no order would follow."""
    series: list[dict[str, Any]] = []
    for m in methods:
        gains = (metrics.get(m.key) or {}).get("gains") or []
        if len(gains) != len(GAINS_AT):
            continue
        line: dict[str, Any] = {
            "name": m.label,
            "type": "line",
            "data": [round(g * 100, 1) for g in gains],
            "symbol": "none",
        }
        if m.key == "model":
            line["lineStyle"] = {"width": 3}
        series.append(line)
    if not series:
        return None
    series.append(
        {
            "name": _("Diagonal (no ranking)"),
            "type": "line",
            "data": GAINS_AT,
            "symbol": "none",
            "lineStyle": {"type": "dashed", "color": "#999"},
            "itemStyle": {"color": "#999"},
        }
    )
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 8, "right": 24, "top": 40, "bottom": 28, "containLabel": True},
        "xAxis": {
            "type": "category",
            "boundaryGap": False,
            "name": _("Share of the list"),
            "nameLocation": "middle",
            "nameGap": 28,
            "data": [f"{p}%" for p in GAINS_AT],
        },
        "yAxis": {
            "type": "value",
            "min": 0,
            "max": 100,
            "name": _("Conversions found (%)"),
            "nameTextStyle": {"align": "left"},  # centred, the name would run off the left edge
            "axisLabel": {"formatter": "{value}%"},
        },
        "series": series,
    }


def _share(part: Any, whole: Any) -> str:
    try:
        return f"{int(part) / int(whole):.1%}" if int(whole) else "—"
    except (TypeError, ValueError):
        return "—"


def _count(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else _plain(value)


def _rows(model: ScoringModel) -> list[Line]:
    rows = model.rows or {}
    if not rows:
        return []
    return [
        Line(_("Training rows"), _count(rows.get("train"))),
        Line(_("Positives in training"), _count(rows.get("train_positive"))),
        Line(_("Positive rate in training"), _share(rows.get("train_positive"), rows.get("train"))),
        Line(_("Holdout rows"), _count(rows.get("holdout"))),
        Line(_("Positives in the holdout"), _count(rows.get("holdout_positive"))),
        Line(_("Positive rate in the holdout"), _share(rows.get("holdout_positive"), rows.get("holdout"))),
    ]


def _info_labels() -> dict[str, str]:
    return {
        "file": _("History file"),
        "rows_in_file": _("Rows in the file"),
        "target": _("Target column"),
        "time_column": _("Time column"),
        "id_column": _("ID column"),
        "excluded": _("Columns excluded"),
        "sensitive_left_out": _("Sensitive columns left out"),
        "until": _("Only rows before"),
        "data_date": _("Data date"),
        "label": _("Outcome learned"),
    }


def _plain(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def _info(model: ScoringModel) -> list[Line]:
    labels = _info_labels()
    info = model.info or {}
    known = [Line(label, _count(info[key])) for key, label in labels.items() if key in info]
    return known + [Line(key, _plain(value)) for key, value in sorted(info.items()) if key not in labels]


def _prior() -> tuple[list[Line], list[Line]]:
    """The rules v1 table (scoring/prior.py, stated in docs/scoring.md), so the card shows the whole rule."""
    table = [
        Line(str(BY_CODE[code].name) if code in BY_CODE else code, f"{p:.1%}")
        for code, p in sorted(prior.POOL_PRIOR.items(), key=lambda item: -item[1])
    ]
    table.append(Line(_("In no pool"), f"{prior.OTHER:.1%}"))
    factors = [
        Line(
            _("Showed interest within %(days)s days") % {"days": prior.KEEN_DAYS}, f"×{prior.KEEN_FACTOR:g}"
        ),
        Line(_("Refused within %(days)s days") % {"days": prior.REFUSED_DAYS}, f"×{prior.REFUSED_FACTOR:g}"),
        Line(
            _("%(n)s or more contacts in 90 days") % {"n": prior.BUSY_CONTACTS},
            f"×{prior.BUSY_FACTOR:g}",
        ),
    ]
    return table, factors


def _features(model: ScoringModel) -> list[FeatureRow]:
    kinds = {"number": _("Number"), "category": _("Category")}
    origins = {"attribute": _("Attribute"), "derived": _("Derived"), "time": _("From the contact time")}
    out = []
    for f in model.features or []:
        kind, origin = str(f.get("kind", "")), str(f.get("origin", ""))
        out.append(
            FeatureRow(
                name=str(f.get("name", "")),
                kind=kinds.get(kind, kind),
                origin=origins.get(origin, origin),
                # Descriptions are stored in English (gettext_noop msgids): shown in the reader's language.
                description=_(str(f.get("description", ""))) if f.get("description") else "",
            )
        )
    return out


def card(model: ScoringModel) -> Card:
    metrics = model.metrics or {}
    methods = _methods(metrics)
    result = Card(
        model=model,
        methods=methods,
        features=_features(model),
        table=_table(metrics, methods) if methods else [],
        chart=gains_chart(metrics, methods),
        notes=[note_text(note) for note in model.notes or []],
        rows=_rows(model),
        info=_info(model),
        params=[Line(str(k), _plain(v)) for k, v in sorted((model.params or {}).items())],
    )
    if model.kind == ModelKind.RULES:
        result.prior_table, result.prior_factors = _prior()
    return result
