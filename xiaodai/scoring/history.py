"""Bring-your-own history: a flat table of past contacts (one row each) from a CSV or Parquet file.

Every column other than the id, time and target (and those excluded) is an attribute: numbers stay numbers,
anything else is a category. From the id and time columns the trainer derives what a contact history says
(recency, frequency, earlier outcomes, how contacts of the last 30 days converted), always from rows strictly
before the row's own moment: no feature may use information from the future of the row it describes. An
earlier row's outcome is taken as known by the time of a later row.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from xiaodai.scoring.exceptions import ScoringError
from xiaodai.scoring.frame import Feature, Frame

TRUE = ("1", "yes", "y", "true", "t", "是")
FALSE = ("0", "no", "n", "false", "f", "否")
# Sensitive personal information (PIPL Art. 28) never becomes a feature, whatever the file carries.
SENSITIVE = re.compile(r"ethnic|race|religio|faith|health|medical|disease|民族|宗教|信仰|健康|病", re.I)
# Known only once the call is over: a model trained on them could not be used before the call.
POST_CALL = re.compile(r"duration|talk_?time|call_?length|hang_?up|通话时长|时长|挂断", re.I)
_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
            "UBIGINT", "FLOAT", "DOUBLE", "BOOLEAN")  # fmt: skip

DERIVED: tuple[Feature, ...] = (
    Feature("h_prev_n", "number", "derived", gettext_noop("earlier contacts of this id")),
    Feature("h_prev_n_90", "number", "derived", gettext_noop("contacts of this id in the 90 days before")),
    Feature("h_days_since_prev", "number", "derived", gettext_noop("days since this id's previous contact")),
    Feature("h_prev_pos", "number", "derived", gettext_noop("earlier successful contacts of this id")),
    Feature("h_prev_rate", "number", "derived", gettext_noop("this id's earlier success rate")),
    Feature("h_days_since_pos", "number", "derived", gettext_noop("days since this id's last success")),
    Feature(
        "g_rate_30", "number", "derived", gettext_noop("success rate of all contacts of the 30 days before")
    ),
    Feature("t_hour", "number", "time", gettext_noop("hour of the contact")),
    Feature("t_weekday", "number", "time", gettext_noop("day of the week (1 = Monday)")),
    Feature("t_month", "number", "time", gettext_noop("month of the year")),
)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _relation(con: duckdb.DuckDBPyConnection, path: Path) -> duckdb.DuckDBPyRelation:
    if not path.is_file():
        raise ScoringError(_("File %(path)s does not exist.") % {"path": path})
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return con.read_parquet(str(path))
        if suffix in (".csv", ".txt"):
            return con.read_csv(str(path), header=True, sample_size=-1)
    except duckdb.Error as exc:
        raise ScoringError(_("File %(path)s cannot be read: %(err)s") % {"path": path, "err": exc}) from exc
    raise ScoringError(_("A history file is .csv (UTF-8) or .parquet, not %(suffix)s.") % {"suffix": suffix})


def _require(columns: list[str], wanted: dict[str, str]) -> None:
    for role, name in wanted.items():
        if name not in columns:
            raise ScoringError(
                _("The %(role)s column %(name)s is not in the file (its columns: %(cols)s).")
                % {"role": role, "name": name, "cols": ", ".join(columns)}
            )


def attributes(
    rel: duckdb.DuckDBPyRelation, id_col: str, time_col: str, target: str | None, exclude: list[str]
) -> tuple[list[Feature], list[str]]:
    """The file's attribute features, and the columns left out as sensitive."""
    used = {id_col, time_col, target, *exclude}
    features, sensitive = [], []
    for name, kind in zip(rel.columns, rel.types, strict=True):
        if name in used:
            continue
        if SENSITIVE.search(name):
            sensitive.append(name)
            continue
        if POST_CALL.search(name):
            raise ScoringError(
                _(
                    "Column %(name)s looks known only after the call; a model cannot use it to decide whom "
                    "to call. Leave it out with --exclude %(name)s."
                )
                % {"name": name}
            )
        numeric = str(kind).split("(")[0] in _NUMERIC or str(kind).startswith("DECIMAL")
        features.append(Feature(name, "number" if numeric else "category", "attribute"))
    return features, sensitive


def _target_sql(target: str) -> str:
    low = f"lower(trim(CAST({_quote(target)} AS VARCHAR)))"
    yes = ", ".join(f"'{v}'" for v in TRUE)
    no = ", ".join(f"'{v}'" for v in FALSE)
    return f"CASE WHEN {low} IN ({yes}) THEN 1 WHEN {low} IN ({no}) THEN 0 END"


def _check_values(
    con: duckdb.DuckDBPyConnection, time_col: str, target: str | None, *, blank_target: bool = False
) -> None:
    t = _quote(time_col)
    bad = con.sql(
        f"SELECT {t} FROM src WHERE {t} IS NULL OR TRY_CAST({t} AS TIMESTAMP) IS NULL LIMIT 1"
    ).fetchall()
    if bad:
        raise ScoringError(
            _("The time column %(col)s holds %(value)s, which is not a date or time.")
            % {"col": time_col, "value": repr(bad[0][0])}
        )
    if target is None:
        return
    col = _quote(target)
    blank = f" AND {col} IS NOT NULL AND trim(CAST({col} AS VARCHAR)) <> ''" if blank_target else ""
    bad = con.sql(f"SELECT {col} FROM src WHERE ({_target_sql(target)}) IS NULL{blank} LIMIT 1").fetchall()
    if bad:
        raise ScoringError(
            _("The target column %(col)s holds %(value)s; a target is 0/1 or yes/no.")
            % {"col": target, "value": repr(bad[0][0])}
        )


def derive_sql(attrs: list[Feature], id_col: str, time_col: str, target_sql: str | None) -> str:
    """The history features of every row, from strictly earlier rows of the same id (and of all ids)."""
    cols = ", ".join(f"{_quote(f.name)}" for f in attrs)
    y = target_sql or "NULL"
    before = "AND INTERVAL 1 MICROSECOND PRECEDING"  # strictly earlier: never the row itself or a later one
    earlier = f"PARTITION BY _id ORDER BY _t RANGE BETWEEN UNBOUNDED PRECEDING {before}"
    recent = f"PARTITION BY _id ORDER BY _t RANGE BETWEEN INTERVAL 90 DAY PRECEDING {before}"
    attrs_sql = ", " + cols if cols else ""
    return f"""
    WITH base AS (
        SELECT row_number() OVER () AS _row, CAST({_quote(id_col)} AS VARCHAR) AS _id,
               CAST({_quote(time_col)} AS TIMESTAMP) AS _t, CAST({y} AS INTEGER) AS _y{attrs_sql}
        FROM src
    ), days AS (
        SELECT CAST(_t AS DATE) AS _d, count(*) AS n, count(_y) AS known, sum(_y) AS pos FROM base GROUP BY 1
    ), rates AS (
        SELECT _d, sum(pos) OVER w / NULLIF(sum(known) OVER w, 0) AS g_rate_30 FROM days
        WINDOW w AS (ORDER BY _d RANGE BETWEEN INTERVAL 30 DAY PRECEDING AND INTERVAL 1 DAY PRECEDING)
    ), derived AS (
        SELECT b.*,
            count(*) OVER e AS h_prev_n,
            count(*) OVER r AS h_prev_n_90,
            date_diff('second', max(_t) OVER e, _t) / 86400.0 AS h_days_since_prev,
            coalesce(sum(_y) OVER e, 0) AS h_prev_pos,
            sum(_y) OVER e / NULLIF(count(_y) OVER e, 0) AS h_prev_rate,
            date_diff('second', max(CASE WHEN _y = 1 THEN _t END) OVER e, _t) / 86400.0 AS h_days_since_pos
        FROM base b
        WINDOW e AS ({earlier}), r AS ({recent})
    )
    SELECT d.*, r.g_rate_30, hour(d._t) AS t_hour, isodow(d._t) AS t_weekday, month(d._t) AS t_month
    FROM derived d LEFT JOIN rates r ON r._d = CAST(d._t AS DATE)
    ORDER BY d._t, d._row
    """


def to_frame(table: pa.Table, features: list[Feature], *, with_target: bool) -> Frame:
    ids = np.asarray(table["_id"].to_numpy(zero_copy_only=False), dtype=object)
    times = np.asarray(table["_t"].cast(pa.timestamp("us")).to_numpy(zero_copy_only=False))
    y = None
    if with_target:
        y = np.asarray(table["_y"].to_numpy(zero_copy_only=False), dtype=np.int8)
    keep = [f.name for f in features]
    return Frame(ids, times, features, table.select(keep), y)


def load_history(
    path: Path,
    *,
    target: str,
    time_col: str,
    id_col: str,
    exclude: list[str] | None = None,
    until: dt.date | None = None,
) -> tuple[Frame, dict[str, Any]]:
    """The training frame of a history file; errors name the column or value at fault."""
    exclude = [c for c in (exclude or []) if c]
    with duckdb.connect() as con:
        rel = _relation(con, path)
        columns = list(rel.columns)
        _require(columns, {_("target"): target, _("time"): time_col, _("id"): id_col})
        for name in exclude:
            if name not in columns:
                raise ScoringError(
                    _("--exclude names %(name)s, which is not a column of the file (its columns: %(cols)s).")
                    % {"name": name, "cols": ", ".join(columns)}
                )
        con.register("src", rel)
        _check_values(con, time_col, target)
        attrs, sensitive = attributes(rel, id_col, time_col, target, exclude)
        table = con.sql(derive_sql(attrs, id_col, time_col, _target_sql(target))).to_arrow_table()
    total = table.num_rows
    if until is not None:
        cutoff = pa.scalar(dt.datetime.combine(until, dt.time()), pa.timestamp("us"))
        table = table.filter(pa.compute.less(table["_t"], cutoff))
        if not table.num_rows:
            raise ScoringError(_("No history row is before %(day)s.") % {"day": until})
    features = [*attrs, *DERIVED]
    info = {
        "file": path.name,
        "rows_in_file": total,
        "target": target,
        "time_column": time_col,
        "id_column": id_col,
        "excluded": exclude,
        "sensitive_left_out": sensitive,
        "until": until.isoformat() if until else None,
    }
    return to_frame(table, features, with_target=True), info


def load_for_scoring(
    path: Path, *, features: list[Feature], id_col: str, time_col: str, target: str | None
) -> Frame:
    """Rows to score; the history features come from the file's own earlier rows (and their outcomes when the
    target column is there). Missing columns the model needs are named in the error."""
    with duckdb.connect() as con:
        rel = _relation(con, path)
        columns = list(rel.columns)
        attrs = [f for f in features if f.origin == "attribute"]
        missing = [f.name for f in attrs if f.name not in columns]
        for role, name in ((_("id"), id_col), (_("time"), time_col)):
            if name not in columns:
                missing.insert(0, f"{name} ({role})")
        if missing:
            raise ScoringError(
                _("The file lacks columns the model needs: %(cols)s.") % {"cols": ", ".join(missing)}
            )
        con.register("src", rel)
        has_target = bool(target) and target in columns
        _check_values(con, time_col, target if has_target else None, blank_target=True)
        target_sql = _target_sql(target) if has_target and target else None
        table = con.sql(derive_sql(attrs, id_col, time_col, target_sql)).to_arrow_table()
    return to_frame(table, features, with_target=False)


def contract_markdown() -> str:
    """The history file's section of docs/data-contract.md, from the definitions above (one source)."""
    derived = "\n".join(f"| `{f.name}` | {f.description} |" for f in DERIVED)
    yes, no = ", ".join(f"`{v}`" for v in TRUE), ", ".join(f"`{v}`" for v in FALSE)
    return f"""
## Bring-your-own contact history (`xiaodai model train`)

A bank migrating to xiaodai brings years of past campaigns as one flat table: **one row per past contact**,
CSV (UTF-8, header line) or Parquet. Not a daily feed: it goes to the trainer, never into the database.

```
xiaodai model train --history FILE --target COL --time-column COL --id-column COL \\
    [--exclude COL,...] [--until DATE] --name NAME
xiaodai model score --model NAME --input FILE --id-column COL --output FILE
```

| column | required | meaning |
|---|---|---|
| id column | yes | who was contacted (any text; the same person keeps the same id) |
| time column | yes | when: a date or date-time every row has (`2025-03-01`, `2025-03-01 10:15:00`) |
| target column | yes (train) | the outcome: {yes} for success, {no} otherwise |
| any other column | no | an attribute: numbers stay numbers, anything else is a category (top 50 values) |

- **Known before the call only.** Columns known only after the call (call duration, talk time, hang-up
  reason) would let a model "predict" what it cannot know when choosing whom to call: a column whose name
  matches `{POST_CALL.pattern}` is refused until it is left out with `--exclude`. Leave out any other
  after-the-fact column the same way.
- **Sensitive data is never a feature** (PIPL Art. 28): a column whose name matches
  `{SENSITIVE.pattern}` is dropped and listed in the model card.
- **Derived from the history itself**, always from rows strictly before the row's own moment (an earlier
  row's outcome is taken as known by the time of a later row; nothing from the row's future is used):

| derived feature | meaning |
|---|---|
{derived}

- **Evaluation** is time-ordered: the latest fifth of the rows (by time) is the holdout, the model learns
  from the rows before it. `--until DATE` trains only on rows before that date.
- **Scoring a file** derives the same history features from the file's own earlier rows (and from their
  outcomes when the target column is present, empty for the rows to be scored); the file must carry the
  id, time and every attribute column the model uses, or the error names the missing ones. The output
  CSV has the id column, the time column, `score` (probability) and `reasons` (the three largest
  contributions).
"""
