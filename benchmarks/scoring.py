"""Benchmark of the scores (issue 5): training on a history file, scoring a branch, and model quality.

    .venv/bin/python benchmarks/scoring.py --rows 1000000 --customers 1000000 --runs 3 --json /tmp/s.json
    .venv/bin/python benchmarks/scoring.py --rows 50000 --customers 50000 --runs 1          # a quick look
    XIAODAI_VAR_DIR=/tmp/xd1 .venv/bin/python benchmarks/scoring.py --parts quality --product
    .venv/bin/python benchmarks/scoring.py --parts quality --history h.csv --target converted \\
        --time-column called_at --id-column cust --exclude duration

The data (generated once with numpy, seed --seed, cached under --workdir, by default
/tmp/xiaodai-bench/scoring-<N>/; not timed):

* history.csv, N rows in the bring-your-own format (`xiaodai model train --history`): `customer_ref`, about
  N/5 distinct ids, contacted more or less often (a gamma(2) weight per id); `contacted_at`, a time between
  09:00 and 21:00 on a day of the year 2025-12-01 .. 2026-11-30; attributes of the id (`age`,
  `monthly_income` with 5 % missing, `occupation`, `region`, `has_card`, `deposit_balance` with 10 % missing)
  and of the contact (`channel`, `product`, `offer_amount`); `converted`, 0/1. The chance of conversion is a
  logistic function of the attributes with curves and interactions a linear model cannot follow exactly
  (income and age humps, product by occupation, evening calls, the season), of an unobserved propensity
  of the id (so earlier outcomes say something about later ones), and of the id's own earlier contacts,
  drawn in time order: an earlier conversion, above all a recent one, raises it; several contacts in the
  last 30 days or a call within two days of the last one lower it. About 5 % of rows are positive.
* product-<M>/, the Parquet files a pipeline run's snapshot writes and `product.INPUTS` reads, for M
  customers of one branch as of 2026-11-28, with the snapshot's own schemas (xiaodai/pipeline/snapshot.py
  SOURCES and LAKE_SOURCES: money in integer cents, dates as date32): customers (ages, occupations and
  incomes as the demo draws them, 2 % no personalised marketing), credit_lines (13 % of customers, a third
  never drawn), loans (0.29 a customer: consumer, mortgage, business), cards (0.34), applications (0.085 in
  the last year), payroll (15 %), contacts (400 days of outcomes: about a third of the customers contacted
  1 + Poisson(1.2) times; whether a contact reaches, shows interest and leads to an "applied" row within
  30 days depends on a propensity built from the holdings and income), and members.arrow, the pool step's
  members as Arrow (customer_id, pool, is_primary, blocked, potential in cents): 1-3 pools a customer, 2 %
  of customers blocked everywhere and 6 % of the other memberships blocked, so about 97 % are workable.
* model/, the model the scoring runs use: the product's model trained as `xiaodai model train` does it
  (product.training_frame on the synthetic contacts, then learn.train), written with modelfile.write into a
  private XIAODAI_MODEL_DIR and read through an unsaved ScoringModel row (kind lightgbm, the file and its
  checksum): step.score_members runs exactly as in the pipeline, no database involved. The model is
  trained again whenever xiaodai/scoring/product.py, learn.py or frame.py change.

What is timed, each part --runs times (median, min, max):

* train: `history.load_history(...)` (DuckDB reads the CSV and derives the history features) and then
  `learn.train(frame)` (time split, category codes, the matrices, LightGBM with early stopping, logistic
  regression, the four methods' holdout metrics), as `xiaodai model train --history` does minus the registry
  write; inside learn.train the time of the matrices, LightGBM, the logistic regression and the metrics is
  taken by wrapping those functions. Baseline, interleaved: a plain `lightgbm.train` with the same params,
  split and early stopping on the already-derived matrix (built once, not timed).
* score: `step.score_members(files, day, members, model)` on the M customers, split by wrapping the pieces it
  calls: feature SQL (product.scoring_frame in DuckDB), model file (read and checksum), matrix
  (frame.matrix), contributions and probabilities (explain.PathContributions), reasons JSON
  (explain.product_reasons), the rest (workable customers, flags, the result tables). Baseline, interleaved:
  a plain `booster.predict` on the same matrix. With --trees N the model is replaced by one of exactly N
  trees (same rows and params, no early stopping): the cost of contributions grows with the trees.
* reasons: on a --sample (50,000) of the scoring matrix, LightGBM's exact TreeSHAP (`pred_contrib`, through
  explain.contributions(exact=True)) against the path method (explain.PathContributions), seconds per
  million rows, and how often the leading feature and the leading reason (features grouped as the product
  words them) agree. Also checked: the path contributions add up to LightGBM's raw score.
* quality (not timed): AUC, AP and capture at 10/20/30/50 % on the time-ordered holdout for random order,
  the business rule, logistic regression and the model, on the synthetic history, on the synthetic product
  data, with --product on the demo install XIAODAI_VAR_DIR points at (services.product_training_frame
  snapshots the app database and the lake into a temporary folder, read only; nothing is registered),
  and with --history on any file.

The database is not opened unless --product: XIAODAI_VAR_DIR is then <workdir>/var (Django's settings create
it), and models go to <workdir>/models whatever XIAODAI_MODEL_DIR says. The script prints the machine, the
load average and the CPU other processes used during each run (from /proc/stat), and peak RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path("/tmp/xiaodai-bench")  # noqa: S108 (a cache of generated data, like the other benchmarks)
DAY = dt.date(2026, 11, 28)  # the synthetic branch's data date
HISTORY_START = np.datetime64("2025-12-01T00:00:00", "s")
HISTORY_COLUMNS = {"target": "converted", "time_col": "contacted_at", "id_col": "customer_ref"}
FORMAT_VERSION = 1  # bump when the generator changes: cached data of another version is rebuilt
PARTS = ("train", "score", "quality")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="history rows (N)")
    parser.add_argument("--customers", type=int, default=1_000_000, help="customers to score (M)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sample", type=int, default=50_000, help="rows for pred_contrib vs the path method")
    parser.add_argument(
        "--trees",
        type=int,
        help="score with a model of exactly this many trees (same data and params, no early stopping)",
    )
    parser.add_argument("--workdir", type=Path, help="default /tmp/xiaodai-bench/scoring-<N>")
    parser.add_argument("--parts", default=",".join(PARTS), help="any of train,score,quality")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument(
        "--product",
        action="store_true",
        help="quality of the product's model on the demo install XIAODAI_VAR_DIR points at (read only)",
    )
    parser.add_argument("--demo-db", type=Path, help="that demo install's folder (sets XIAODAI_VAR_DIR)")
    parser.add_argument("--history", type=Path, help="quality on this history file (.csv or .parquet)")
    parser.add_argument("--target", default="converted")
    parser.add_argument("--time-column", default="contacted_at")
    parser.add_argument("--id-column", default="customer_ref")
    parser.add_argument("--exclude", action="append", default=[], help="a column to leave out (repeatable)")
    args = parser.parse_args()
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    if parts - set(PARTS):
        parser.error(f"--parts: unknown {', '.join(sorted(parts - set(PARTS)))}")
    work = args.workdir or BENCH / f"scoring-{args.rows}"
    work.mkdir(parents=True, exist_ok=True)

    if args.demo_db:
        os.environ["XIAODAI_VAR_DIR"] = str(args.demo_db)
        args.product = True
    if args.product:
        var = os.environ.get("XIAODAI_VAR_DIR", "")
        database = os.environ.get("XIAODAI_DATABASE_URL") or (Path(var) / "xiaodai.sqlite3").exists()
        if not var or not database:
            parser.error("--product needs XIAODAI_VAR_DIR (or --demo-db) pointing at a demo install")
    else:
        os.environ["XIAODAI_VAR_DIR"] = str(work / "var")  # never the project's own database
    os.environ["XIAODAI_MODEL_DIR"] = str(work / "models")  # nothing is ever written next to a real model
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()

    results: dict[str, Any] = {"machine": _machine(), "args": {k: str(v) for k, v in vars(args).items()}}
    history_csv = work / "history.csv"
    if "train" in parts or "quality" in parts:
        _prepare_history(history_csv, args.rows, args.seed)
    if "quality" in parts and (work / f"product-{args.customers}.ready").exists():
        _prepare_model(work / f"product-{args.customers}")
    if "score" in parts:
        folder = work / f"product-{args.customers}"
        _prepare_product(folder, args.customers, args.seed)
        _prepare_model(folder)
        results["score"] = _bench_score(folder, args.runs, args.sample, args.trees)
    if "train" in parts:
        results["train"] = _bench_train(history_csv, args.runs)
    if "quality" in parts:
        results["quality"] = _quality(args, history_csv, results, work)
    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results["load_end"] = os.getloadavg()
    print(
        f"\npeak RSS of this process {results['peak_rss_mb']:,.0f} MB; load average now "
        f"{' '.join(f'{v:.2f}' for v in results['load_end'])}"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=_jsonable), encoding="utf-8")
        print(f"figures written to {args.json}")


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


# --- the machine and the noise ------------------------------------------------------------------------------


def _machine() -> dict[str, Any]:
    import duckdb
    import lightgbm
    import pyarrow
    import sklearn

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    ram = next(
        (
            int(line.split()[1]) / 1024 / 1024
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0.0,
    )
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)  # noqa: S607
    info = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": commit.stdout.strip(),
        "cores": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(ram, 1),
        "python": platform.python_version(),
        "lightgbm": lightgbm.__version__,
        "duckdb": duckdb.__version__,
        "pyarrow": pyarrow.__version__,
        "numpy": np.__version__,
        "sklearn": sklearn.__version__,
        "load": os.getloadavg(),
    }
    print(f"date      {info['date']} (UTC)")
    print(f"commit    {info['commit']} (plus uncommitted changes, if any)")
    print(f"machine   {info['cores']} cores, {cpu}, {info['ram_gib']} GiB RAM")
    print(
        f"software  Python {info['python']}, LightGBM {info['lightgbm']}, DuckDB {info['duckdb']}, "
        f"pyarrow {info['pyarrow']}, numpy {info['numpy']}, scikit-learn {info['sklearn']}"
    )
    print(f"load      {' '.join(f'{v:.2f}' for v in info['load'])} (1, 5, 15 min) at the start")
    return info


def _busy() -> float:
    """CPU seconds the whole machine has been busy, from /proc/stat."""
    ticks = os.sysconf("SC_CLK_TCK")
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / ticks


def _own_cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


@contextmanager
def _watch(into: dict[str, Any]) -> Iterator[None]:
    """Wall seconds, this process's CPU seconds and other processes' CPU (in cores) while the block ran."""
    busy, own, began = _busy(), _own_cpu(), time.perf_counter()
    yield
    wall = time.perf_counter() - began
    mine = _own_cpu() - own
    into["seconds"] = wall
    into["cpu"] = mine
    into["others_cores"] = max(0.0, (_busy() - busy - mine) / wall) if wall else 0.0


def _stats(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def _line(label: str, values: list[float], width: int = 44, unit: str = "s") -> str:
    s = _stats(values)
    return f"  {label:<{width}} {s['median']:8.2f} {unit}  (min {s['min']:.2f}, max {s['max']:.2f})"


class Clock:
    """Seconds spent in functions of the product, by wrapping them for the length of a block."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.kept: dict[str, Any] = {}
        self._undo: list[tuple[Any, str, Any]] = []

    def wrap(self, owner: Any, attr: str, label: str, *, keep: bool = False) -> None:
        original = getattr(owner, attr)

        def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                result = original(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - began
            if keep:
                self.kept[label] = result
            return result

        setattr(owner, attr, timed)
        self._undo.append((owner, attr, original))

    def put(self, owner: Any, attr: str, value: Any) -> None:
        self._undo.append((owner, attr, getattr(owner, attr)))
        setattr(owner, attr, value)

    def restore(self) -> None:
        while self._undo:
            owner, attr, original = self._undo.pop()
            setattr(owner, attr, original)


# --- the data -----------------------------------------------------------------------------------------------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _marker(path: Path, **params: Any) -> bool:
    """True when `path` was built with these parameters (the cache is valid)."""
    marker = path.with_name(path.name + ".ready")
    wanted = json.dumps({**params, "format": FORMAT_VERSION}, sort_keys=True)
    return path.exists() and marker.exists() and marker.read_text() == wanted


def _mark(path: Path, **params: Any) -> None:
    path.with_name(path.name + ".ready").write_text(
        json.dumps({**params, "format": FORMAT_VERSION}, sort_keys=True)
    )


OCCUPATIONS = {  # name: (weight, median monthly income in yuan, log-normal spread), as in the demo
    "企业职员": (20, 9_000, 0.35),
    "工人": (10, 7_000, 0.25),
    "销售人员": (8, 10_000, 0.45),
    "工程师": (8, 21_000, 0.40),
    "企业管理人员": (7, 28_000, 0.45),
    "个体工商户": (7, 12_000, 0.60),
    "公务员": (5, 13_000, 0.25),
    "教师": (5, 11_000, 0.25),
    "快递外卖员": (4, 8_500, 0.20),
    "自由职业者": (4, 9_000, 0.55),
    "私营企业主": (4, 45_000, 0.70),
    "金融从业人员": (3, 20_000, 0.40),
    "医生": (3, 19_000, 0.35),
    "护士": (2, 10_000, 0.25),
    "学生": (0, 1_500, 0.50),  # by age only
    "退休人员": (0, 5_500, 0.30),  # by age only
}


def _occupations(rng: np.random.Generator, age: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Occupation codes (index into OCCUPATIONS) and monthly income in yuan: students young, retirees old."""
    names = list(OCCUPATIONS)
    weights = np.array([OCCUPATIONS[n][0] for n in names], dtype=float)
    code = rng.choice(len(names), size=len(age), p=weights / weights.sum())
    code = np.where((age < 23) & (rng.random(len(age)) < 0.6), names.index("学生"), code)
    code = np.where((age >= 60) & (rng.random(len(age)) < 0.75), names.index("退休人员"), code)
    median = np.array([OCCUPATIONS[n][1] for n in names], dtype=float)[code]
    spread = np.array([OCCUPATIONS[n][2] for n in names])[code]
    income = np.round(median * np.exp(rng.normal(0.0, 1.0, len(age)) * spread), -1)
    return code, income


def _prepare_history(path: Path, rows: int, seed: int) -> None:
    if _marker(path, rows=rows, seed=seed):
        return
    print(f"generating {rows:,} history rows into {path} (not timed) ...", flush=True)
    began = time.perf_counter()
    table, rate = make_history(rows, seed)
    import pyarrow.csv as pacsv

    tmp = path.with_name(path.name + ".tmp")
    pacsv.write_csv(table, tmp)
    tmp.replace(path)
    _mark(path, rows=rows, seed=seed)
    ids = len(set(table["customer_ref"].to_pylist()))
    print(
        f"  {rows:,} rows, {ids:,} ids, {rate:.2%} positive, {path.stat().st_size / 1e6:,.0f} MB "
        f"in {time.perf_counter() - began:.1f} s",
        flush=True,
    )


def make_history(rows: int, seed: int) -> tuple[Any, float]:
    """The flat history table (see the module docstring) and its positive share."""
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    n_ids = max(1, rows // 5)
    weight = rng.gamma(2.0, 1.0, n_ids)
    ids = np.sort(rng.choice(n_ids, size=rows, p=weight / weight.sum()))
    # Attributes of each id.
    age = np.clip(rng.normal(40, 12, n_ids), 20, 75).astype(np.int64)
    occupation, income = _occupations(rng, age)
    region = rng.choice(6, size=n_ids, p=[0.3, 0.2, 0.15, 0.15, 0.1, 0.1])
    has_card = (rng.random(n_ids) < 0.35 + 0.3 * (income > 12_000)).astype(np.int64)
    deposit = np.round(np.exp(rng.normal(np.log(30_000), 1.4, n_ids)), 2)
    latent = rng.normal(0.0, 0.9, n_ids)
    # Each contact: its moment (in seconds from the start), channel, product and amount; in (id, time) order.
    day = rng.integers(0, 365, rows)
    hour = rng.choice(np.arange(9, 21), size=rows, p=np.r_[np.full(9, 0.09), np.full(3, 0.0633333333)] / 1.0)
    seconds = day * 86_400 + hour * 3_600 + rng.integers(0, 3_600, rows)
    order = np.lexsort((seconds, ids))
    seconds = seconds[order]
    channel = rng.choice(5, size=rows, p=[0.45, 0.2, 0.2, 0.1, 0.05])  # phone sms wechat app visit
    product = rng.choice(4, size=rows, p=[0.4, 0.25, 0.2, 0.15])  # consumer line card_cash car
    offer = np.round(np.exp(rng.normal(np.log(80_000), 0.6, rows)), -3)
    moment = HISTORY_START + seconds.astype("timedelta64[s]")
    month = moment.astype("datetime64[M]").astype(np.int64) % 12 + 1
    weekday = (moment.astype("datetime64[D]").astype(np.int64) + 3) % 7  # 0 = Monday
    hour_of = (seconds % 86_400) // 3_600

    # What the attributes do to the chance (a logit), before the id's own history.
    r = ids
    log_income = np.log(np.maximum(income[r], 500.0))
    static = (
        -4.05
        + np.array([0.45, -0.7, 0.15, -0.25, 0.9])[channel]
        + 0.8 * np.exp(-(((log_income - np.log(14_000)) / 0.5) ** 2))  # a hump: middle incomes borrow most
        - 0.0012 * (age[r] - 36) ** 2
        + np.where((product == 3) & np.isin(occupation[r], [0, 3, 4]), 0.7, 0.0)  # car loans for salaried
        + np.where((product == 2) & (has_card[r] == 1), 0.5, -0.2 * (product == 2))  # card cash needs a card
        + np.where(deposit[r] > 200_000, -0.6, 0.0)
        + np.array([0.2, 0.1, 0.0, -0.1, -0.2, 0.0])[region[r]]
        + np.where(hour_of >= 18, 0.35, np.where(hour_of < 10, -0.2, 0.0))
        + np.where(np.isin(month, [1, 2]), 0.35, np.where(np.isin(month, [7, 8]), -0.2, 0.0))
        + np.where(weekday >= 5, -0.15, 0.0)
        - 0.25 * (np.log(offer) - np.log(80_000))
        + latent[r]
    )
    # The id's own earlier contacts: how many in the last 30 days, and the gap to the previous one.
    key = r.astype(np.int64) * 10**9 + seconds
    recent = np.arange(rows) - np.searchsorted(key, key - 30 * 86_400, side="left")
    first = np.searchsorted(r, r, side="left")
    rank = np.arange(rows) - first
    gap = np.where(rank > 0, (seconds - np.r_[0, seconds[:-1]]) / 86_400, np.inf)
    static = static - 0.3 * np.minimum(recent, 4) - np.where(gap < 2, 0.5, 0.0)
    # Outcomes in time order within each id: an earlier conversion (above all a recent one) raises the chance.
    y = np.zeros(rows, dtype=np.int64)
    positives = np.zeros(n_ids)
    last_positive = np.full(n_ids, -1e12)
    by_rank = np.argsort(rank, kind="stable")
    bounds = np.r_[0, np.cumsum(np.bincount(rank))]
    for k in range(len(bounds) - 1):
        at = by_rank[bounds[k] : bounds[k + 1]]
        who = r[at]
        since = (seconds[at] - last_positive[who]) / 86_400
        logit = static[at] + 0.6 * np.minimum(positives[who], 2) + np.where(since < 60, 0.8, 0.0)
        hit = rng.random(len(at)) < _sigmoid(logit)
        y[at] = hit
        positives[who] += hit
        last_positive[who] = np.where(hit, seconds[at], last_positive[who])
    # A file is not sorted: shuffle the rows.
    shuffle = rng.permutation(rows)
    names = np.array(list(OCCUPATIONS), dtype=object)
    regions = np.array(["杭州", "宁波", "温州", "绍兴", "嘉兴", "金华"], dtype=object)
    income_missing = rng.random(rows) < 0.05
    deposit_missing = rng.random(rows) < 0.10
    table = pa.table(
        {
            "customer_ref": pa.array(np.char.add("K", np.char.zfill(r.astype(str), 7))[shuffle]),
            "contacted_at": pa.array(moment[shuffle], pa.timestamp("s")),
            "channel": pa.array(
                np.array(["phone", "sms", "wechat", "app", "visit"], dtype=object)[channel][shuffle]
            ),
            "product": pa.array(
                np.array(["consumer_loan", "credit_line", "card_cash", "car_loan"], dtype=object)[product][
                    shuffle
                ]
            ),
            "offer_amount": pa.array(offer.astype(np.int64)[shuffle]),
            "age": pa.array(age[r][shuffle]),
            "monthly_income": pa.array(income[r].astype(np.int64)[shuffle], mask=income_missing),
            "occupation": pa.array(names[occupation[r]][shuffle]),
            "region": pa.array(regions[region[r]][shuffle]),
            "has_card": pa.array(has_card[r][shuffle]),
            "deposit_balance": pa.array(deposit[r][shuffle], mask=deposit_missing),
            "converted": pa.array(y[shuffle]),
        }
    )
    return table, float(y.mean())


def _dates(days: np.ndarray) -> Any:
    """date32 from days before DAY (may be NaN: null)."""
    import pyarrow as pa

    missing = np.isnan(days) if days.dtype.kind == "f" else np.zeros(len(days), bool)
    values = np.datetime64(DAY, "D") - np.nan_to_num(days, nan=0).astype(np.int64).astype("timedelta64[D]")
    return pa.array(values, pa.date32(), mask=missing)


def make_product(customers: int, seed: int) -> dict[str, Any]:
    """The snapshot's tables for one branch and the pool members (see the module docstring)."""
    import pyarrow as pa

    from xiaodai.pipeline.snapshot import LAKE_SOURCES, SOURCES

    schemas = {s.name: s.schema for s in SOURCES} | {n: s for n, (_, s) in LAKE_SOURCES.items()}
    rng = np.random.default_rng(seed + 1000)
    m = customers
    cid = np.arange(1, m + 1, dtype=np.int64)

    def table(name: str, columns: dict[str, Any]) -> pa.Table:
        schema = schemas[name]
        return pa.Table.from_arrays(
            [
                pa.array(columns[f.name], f.type)
                if not isinstance(columns[f.name], pa.Array)
                else columns[f.name].cast(f.type)
                for f in schema
            ],
            schema=schema,
        )

    def pick(share: float) -> np.ndarray:
        return np.sort(rng.choice(m, size=int(m * share), replace=False))

    out: dict[str, Any] = {}
    age = np.clip(rng.normal(44, 15, m), 18, 85)
    occupation, income = _occupations(rng, age.astype(np.int64))
    names = np.array(list(OCCUPATIONS), dtype=object)
    owner = rng.integers(1, 400, m)
    out["customers"] = table(
        "customers",
        {
            "customer_id": cid,
            "customer_no": np.char.add("C", np.char.zfill(cid.astype(str), 9)),
            "branch_id": np.ones(m, np.int64),
            "sub_branch_id": 2 + cid % 8,
            "owner_id": pa.array(owner, pa.int64(), mask=rng.random(m) < 0.3),
            "team_id": pa.array(owner // 20 + 1, pa.int64(), mask=rng.random(m) < 0.3),
            "birth_date": _dates(np.floor(age * 365.25 + rng.integers(0, 365, m))),
            "is_vulnerable": rng.random(m) < 0.005,
            "aum": np.round(np.exp(rng.normal(np.log(50_000), 1.5, m)) * 100).astype(np.int64),
            "monthly_income": (income * 100).astype(np.int64),
            "occupation": names[occupation],
            "opened_on": _dates(rng.integers(30, 25 * 365, m).astype(float)),
            "no_personalised_marketing": rng.random(m) < 0.02,
        },
    )
    # Credit lines: 13 % of the customers; a third never drawn.
    who = pick(0.13)
    n = len(who)
    approved = rng.integers(30, 3 * 365, n)
    expires = approved - rng.choice([365, 730, 1095], n)  # days before DAY: negative = in the future
    never = rng.random(n) < 0.35
    limit = rng.choice([20_000, 50_000, 100_000, 200_000, 300_000], n, p=[0.2, 0.3, 0.3, 0.15, 0.05]) * 100
    drawn_ago = np.where(never, np.nan, np.floor(rng.random(n) * (approved - np.maximum(expires, 0))))
    status = np.where(expires > 0, "expired", np.where(rng.random(n) < 0.025, "frozen", "active"))
    out["credit_lines"] = table(
        "credit_lines",
        {
            "customer_id": cid[who],
            "limit": limit,
            "drawn": np.where(never, 0, np.round(limit * rng.random(n))).astype(np.int64),
            "approved_on": _dates(approved.astype(float)),
            "expires_on": _dates(expires.astype(float)),
            "last_drawn_on": _dates(np.where(never, np.nan, np.maximum(expires, 0) + drawn_ago)),
            "status": status.astype(object),
        },
    )
    line_idle = np.zeros(m, bool)
    line_idle[who] = (expires <= 0) & (
        never | (np.nan_to_num(drawn_ago + np.maximum(expires, 0), nan=1e9) >= 30)
    )
    # Loans: 0.29 a customer.
    n = int(m * 0.29)
    owner_of = np.sort(rng.integers(0, m, n))
    kind = rng.choice(3, n, p=[0.45, 0.45, 0.10])  # consumer mortgage business
    amount = np.round(np.exp(rng.normal(np.log([80_000, 1_200_000, 300_000])[kind], 0.5))) * 100
    ago = np.where(kind == 1, rng.integers(30, 15 * 365, n), rng.integers(10, 6 * 365, n))
    term = np.where(kind == 1, rng.choice([20, 25, 30], n) * 365, rng.choice([1, 2, 3], n) * 365)
    matures = ago - term
    settled = matures > 0
    overdue = ~settled & (rng.random(n) < 0.01)
    out["loans"] = table(
        "loans",
        {
            "customer_id": cid[owner_of],
            "kind": np.array(["consumer", "mortgage", "business"], dtype=object)[kind],
            "amount": amount.astype(np.int64),
            "balance": np.where(settled, 0, np.round(amount * np.clip(-matures / term, 0, 1))).astype(
                np.int64
            ),
            "status": np.where(settled, "settled", np.where(overdue, "overdue", "normal")).astype(object),
            "overdue_days": np.where(overdue, rng.integers(1, 90, n), 0),
            "disbursed_on": _dates(ago.astype(float)),
            "matures_on": _dates(matures.astype(float)),
        },
    )
    past_borrower = np.zeros(m, bool)
    past_borrower[owner_of[kind == 0]] = True
    # Cards: 0.34 a customer.
    n = int(m * 0.34)
    owner_of = np.sort(rng.integers(0, m, n))
    tier = rng.choice(4, n, p=[0.27, 0.46, 0.22, 0.05])
    limit = (np.array([10_000, 30_000, 80_000, 200_000])[tier] * np.exp(rng.normal(0, 0.3, n))).round(
        -3
    ) * 100
    out["cards"] = table(
        "cards",
        {
            "customer_id": cid[owner_of],
            "tier": np.array(["standard", "gold", "platinum", "diamond"], dtype=object)[tier],
            "limit": limit.astype(np.int64),
            "used": np.round(limit * rng.beta(1.2, 3.0, n)).astype(np.int64),
            "delinquent_cycles": np.where(rng.random(n) < 0.02, rng.integers(1, 4, n), 0),
            "opened_on": _dates(np.where(rng.random(n) < 0.03, np.nan, rng.integers(30, 15 * 365, n))),
        },
    )
    # Applications in the last year: 0.085 a customer.
    n = int(m * 0.085)
    owner_of = np.sort(rng.integers(0, m, n))
    started = rng.integers(0, 365, n)
    stage = rng.choice(8, n, p=[0.15, 0.1, 0.1, 0.1, 0.15, 0.15, 0.1, 0.15])
    stages = np.array(
        ["started", "identity", "income", "credit_auth", "submitted", "approved", "rejected", "disbursed"],
        dtype=object,
    )
    status = np.where(
        stage == 7,
        "completed",
        np.where(stage == 6, "declined", np.where(started > 30, "abandoned", "in_progress")),
    )
    out["applications"] = table(
        "applications",
        {
            "customer_id": cid[owner_of],
            "amount": (np.round(np.exp(rng.normal(np.log(100_000), 0.6, n)), -3) * 100).astype(np.int64),
            "stage": stages[stage],
            "status": status.astype(object),
            "started_on": _dates(started.astype(float)),
            "last_step_on": _dates(np.maximum(started - rng.integers(0, 20, n), 0).astype(float)),
        },
    )
    recent_app = np.zeros(m, bool)
    recent_app[owner_of[started <= 90]] = True
    # Payroll: 15 %.
    who = pick(0.15)
    payroll = np.zeros(m, bool)
    payroll[who] = True
    out["payroll"] = table(
        "payroll",
        {
            "customer_id": cid[who],
            "monthly_amount": (income[who] * 100 * rng.uniform(0.8, 1.0, len(who))).astype(np.int64),
            "last_paid_on": _dates(rng.integers(0, 40, len(who)).astype(float)),
            "partner": rng.random(len(who)) < 0.7,
        },
    )
    # Contacts over the 400 days the snapshot reads; outcomes follow a propensity of the customer.
    log_income = np.log(np.maximum(income, 500.0))
    propensity = (
        -1.2
        + 1.1 * line_idle
        + 1.4 * recent_app
        + 0.5 * payroll
        + 0.4 * past_borrower
        + 0.6 * np.exp(-(((log_income - np.log(14_000)) / 0.6) ** 2))
        - 0.001 * (age - 38) ** 2
        + rng.normal(0, 0.8, m)
    )
    contacted = rng.random(m) < _sigmoid(propensity - 0.2) * 0.9
    per = 1 + rng.poisson(1.2, int(contacted.sum()))
    who = np.repeat(np.flatnonzero(contacted), per)
    n = len(who)
    ago = rng.integers(0, 400, n)
    reached = rng.random(n) < 0.62
    keen = reached & (rng.random(n) < _sigmoid(propensity[who] - 1.6))
    outcome = np.where(
        ~reached,
        rng.choice(np.array(["no_answer", "busy", "wrong_number"], dtype=object), n, p=[0.78, 0.16, 0.06]),
        np.where(
            keen,
            rng.choice(np.array(["interested", "will_apply"], dtype=object), n, p=[0.65, 0.35]),
            rng.choice(np.array(["not_now", "refused", "do_not_call"], dtype=object), n, p=[0.6, 0.33, 0.07]),
        ),
    )
    # An "applied" row 1-30 days after some contacts: mostly after interest.
    chance = np.where(
        keen, _sigmoid(propensity[who] - 0.6) * 0.6, np.where(reached, _sigmoid(propensity[who] - 4.0), 0.0)
    )
    applied = (rng.random(n) < chance) & (ago >= 1)
    later = np.maximum(ago[applied] - rng.integers(1, 31, int(applied.sum())), 0)
    contact_who = np.r_[who, who[applied]]
    contact_ago = np.r_[ago, later]
    contact_outcome = np.r_[outcome, np.full(len(later), "applied", dtype=object)]
    order = np.lexsort((-contact_ago, contact_who))
    out["contacts"] = table(
        "contacts",
        {
            "customer_id": cid[contact_who[order]],
            "contacted_on": _dates(contact_ago[order].astype(float)),
            "outcome": contact_outcome[order],
        },
    )
    # Pool members: 1-3 pools a customer, the primary the first by priority.
    pools = np.array(
        ["unfinished_application", "approved_undrawn", "scenario_channel", "current_borrower",
         "good_past_borrower", "payroll_staff", "mortgage_holder", "premium_card", "premium_deposit"],
        dtype=object,
    )  # fmt: skip
    count = rng.choice([1, 2, 3], m, p=[0.55, 0.3, 0.15])
    member = np.repeat(np.arange(m), count)
    # Distinct pools per customer: a random permutation's first `count` entries (drawn by rank of noise).
    noise = rng.random((m, len(pools))) * np.array([4, 3, 1, 1.5, 2, 2, 2.5, 3, 3])
    ranked = np.argsort(-noise, axis=1)
    slot = np.arange(len(member)) - np.repeat(np.cumsum(count) - count, count)
    pool = ranked[member, slot]
    best = np.minimum.reduceat(pool, np.cumsum(count) - count)  # the pool list is in priority order
    blocked_all = np.repeat(rng.random(m) < 0.02, count)
    blocked = (blocked_all | (rng.random(len(member)) < 0.06) & (slot > 0)).astype(np.int64)
    out["members"] = pa.table(
        {
            "customer_id": pa.array(cid[member], pa.int64()),
            "pool": pa.array(pools[pool], pa.string()),
            "potential": pa.array(
                (np.round(np.exp(rng.normal(np.log(150_000), 0.7, len(member))), -2) * 100).astype(np.int64)
            ),
            "is_primary": pa.array(pool == np.repeat(best, count), pa.bool_()),
            "blocked": pa.array(blocked, pa.int64()),
        }
    )
    return out


def _prepare_product(folder: Path, customers: int, seed: int) -> None:
    import pyarrow.compute as pc
    import pyarrow.feather as feather
    import pyarrow.parquet as pq

    if _marker(folder, customers=customers, seed=seed):
        return
    print(f"generating the snapshot of {customers:,} customers into {folder} (not timed) ...", flush=True)
    began = time.perf_counter()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    tables = make_product(customers, seed)
    for name, table in tables.items():
        if name == "members":
            feather.write_feather(table, folder / "members.arrow")
        else:
            pq.write_table(table, folder / f"{name}.parquet")
        print(f"  {name:<13} {table.num_rows:>10,} rows", flush=True)
    members = tables["members"]
    workable = members.filter(pc.equal(members["blocked"], 0))
    print(
        f"  workable customers {len(set(workable['customer_id'].to_pylist())):,}; "
        f"{time.perf_counter() - began:.1f} s",
        flush=True,
    )
    _mark(folder, customers=customers, seed=seed)


def _code_version() -> str:
    """A digest of the product's training code: the cached model is retrained when it changes."""
    import hashlib

    digest = hashlib.sha256()
    for name in ("product", "learn", "frame"):
        digest.update((ROOT / "xiaodai" / "scoring" / f"{name}.py").read_bytes())
    return digest.hexdigest()[:16]


def _prepare_model(folder: Path) -> None:
    card = folder / "model" / "card.json"
    if _marker(card, code=_code_version()):
        return
    shutil.rmtree(folder / "model", ignore_errors=True)
    _train_product_model(folder)
    _mark(card, code=_code_version())


def _product_files(folder: Path) -> dict[str, Path]:
    from xiaodai.scoring import product

    return {name: folder / f"{name}.parquet" for name in product.INPUTS}


def _train_product_model(folder: Path) -> None:
    """The product's model on the synthetic contacts, as `xiaodai model train` builds it (not timed)."""
    import duckdb

    from xiaodai.scoring import learn, modelfile, product

    began = time.perf_counter()
    with duckdb.connect() as con:
        product.register(con, _product_files(folder))
        frame = product.training_frame(con, DAY)
    derived = time.perf_counter() - began
    trained = learn.train(frame)
    path = folder / "model" / "propensity" / "v1.json"
    checksum = modelfile.write(
        path, trained.booster, trained.features, trained.categories, {"name": "propensity", "version": 1}
    )
    card = {
        "checksum": checksum,
        "rows": trained.rows,
        "trees": trained.booster.num_trees(),
        "evaluation": trained.evaluation,
        "frame_seconds": derived,
        "train_seconds": time.perf_counter() - began - derived,
    }
    (folder / "model" / "card.json").write_text(json.dumps(card, indent=1))
    print(
        f"  product model: {len(frame):,} training rows ({derived:.1f} s to derive), "
        f"{card['trees']} trees, holdout AUC {trained.evaluation['model']['auc']:.3f}",
        flush=True,
    )


# --- training -----------------------------------------------------------------------------------------------


def _bench_train(csv: Path, runs: int) -> dict[str, Any]:
    print(f"\n== train: load_history + learn.train on {csv} ==", flush=True)
    product_runs: list[dict[str, Any]] = []
    baseline_runs: list[dict[str, Any]] = []
    prepared: dict[str, Any] = {}
    evaluation: dict[str, Any] = {}
    for n in range(runs):
        for which in (("product", "baseline"), ("baseline", "product"))[n % 2]:  # interleaved
            if which == "baseline":
                baseline_runs.append(_train_baseline(prepared, n))
                continue
            row, frame, trained = _train_product(csv, n)
            product_runs.append(row)
            evaluation = {"evaluation": trained.evaluation, "rows": trained.rows, "window": trained.window}
            if not prepared:  # the first run (product first) builds the baseline's matrix, not timed
                prepared.update(_baseline_inputs(frame))
            del frame, trained
    rows = product_runs[0]["rows"]
    total = [r["seconds"] for r in product_runs]
    summary = {
        "rows": rows,
        "product": product_runs,
        "baseline": baseline_runs,
        "quality": evaluation,
        "total": _stats(total),
        "rows_per_second": rows / statistics.median(total),
    }
    print(f"\ntrain on {rows:,} rows, {len(product_runs)} runs (target: <= 60 s)")
    print(_line("load_history (read CSV + derive, DuckDB)", [r["load"] for r in product_runs]))
    print(_line("learn.train", [r["train"] for r in product_runs]))
    for part in ("lightgbm", "logistic", "matrix", "categories", "metrics", "other"):
        print(_line(f"  · {part}", [r.get(f"train.{part}", 0.0) for r in product_runs]))
    print(_line("total", total) + f"   {rows / statistics.median(total):,.0f} rows/s")
    print(_line("  CPU seconds (this process)", [r["cpu"] for r in product_runs]))
    print(_line("baseline: lightgbm.train on the ready matrix", [r["seconds"] for r in baseline_runs]))
    print(_line("  CPU seconds", [r["cpu"] for r in baseline_runs]))
    ratio = statistics.median(total) / statistics.median([r["seconds"] for r in baseline_runs])
    print(
        f"  total / baseline (medians) {ratio:.1f}x; other processes used "
        f"{max(r['others_cores'] for r in product_runs + baseline_runs):.2f} cores at most"
    )
    summary["ratio"] = ratio
    return summary


def _train_product(csv: Path, n: int) -> tuple[dict[str, Any], Any, Any]:
    import lightgbm

    from xiaodai.scoring import history, learn

    clock = Clock()
    clock.wrap(learn, "matrix", "matrix")
    clock.wrap(learn, "learn_categories", "categories")
    clock.wrap(lightgbm, "train", "lightgbm")
    clock.wrap(learn, "metrics", "metrics")
    original = learn._logistic

    def logistic(features: Any) -> Any:
        pipeline = original(features)
        for method in ("fit", "predict_proba"):
            _wrap_instance(pipeline, method, "logistic", clock)
        return pipeline

    clock.put(learn, "_logistic", logistic)
    row: dict[str, Any] = {}
    try:
        with _watch(row):
            began = time.perf_counter()
            frame, _ = history.load_history(csv, **HISTORY_COLUMNS)
            row["load"] = time.perf_counter() - began
            trained = learn.train(frame)
            row["train"] = time.perf_counter() - began - row["load"]
    finally:
        clock.restore()
    row.update({f"train.{k}": v for k, v in clock.seconds.items()})
    row["train.other"] = row["train"] - sum(clock.seconds.values())
    row["rows"] = len(frame)
    row["trees"] = trained.booster.num_trees()
    print(
        f"run {n + 1} product: load+derive {row['load']:.2f} s, learn.train {row['train']:.2f} s "
        f"(LightGBM {row.get('train.lightgbm', 0):.2f}, logistic {row.get('train.logistic', 0):.2f}, "
        f"matrices {row.get('train.matrix', 0):.2f}, metrics {row.get('train.metrics', 0):.2f}), "
        f"total {row['seconds']:.2f} s ({row['cpu']:.1f} CPU s); {row['trees']} trees; other processes "
        f"{row['others_cores']:.2f} cores",
        flush=True,
    )
    return row, frame, trained


def _wrap_instance(obj: Any, method: str, label: str, clock: Clock) -> None:
    original = getattr(obj, method)

    def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            clock.seconds[label] += time.perf_counter() - began

    setattr(obj, method, timed)


def _baseline_inputs(frame: Any) -> dict[str, Any]:
    """learn.train's split and matrices, built once: the baseline starts from the derived matrix."""
    from xiaodai.scoring import learn

    fit_idx, _ = learn.time_split(frame, learn.HOLDOUT_SHARE)
    fit = frame.take(fit_idx)
    learn_idx, valid_idx = learn.time_split(fit, learn.VALID_SHARE)
    assert fit.y is not None
    assert int(fit.y[valid_idx].sum()) >= learn.MIN_VALID_POSITIVES, "the baseline assumes early stopping"
    cats = learn.learn_categories(fit)
    x = learn.matrix(fit, frame.features, cats)
    return {
        "x_learn": x[learn_idx],
        "y_learn": fit.y[learn_idx],
        "x_valid": x[valid_idx],
        "y_valid": fit.y[valid_idx],
        "names": [f.name for f in frame.features],
        "cat_cols": [j for j, f in enumerate(frame.features) if f.kind == "category"],
    }


def _train_baseline(p: dict[str, Any], n: int) -> dict[str, Any]:
    import lightgbm as lgb

    from xiaodai.scoring import learn

    row: dict[str, Any] = {}
    with _watch(row):
        data = lgb.Dataset(
            p["x_learn"],
            p["y_learn"],
            feature_name=p["names"],
            categorical_feature=p["cat_cols"],
            free_raw_data=False,
        )
        valid = data.create_valid(p["x_valid"], p["y_valid"])
        booster = lgb.train(
            {**learn.PARAMS, "seed": 7, "metric": "auc"},
            data,
            learn.MAX_ROUNDS,
            valid_sets=[valid],
            callbacks=[lgb.early_stopping(learn.EARLY_STOP, verbose=False)],
        )
    row["trees"] = booster.best_iteration
    print(
        f"run {n + 1} baseline: lightgbm.train {row['seconds']:.2f} s ({row['cpu']:.1f} CPU s, "
        f"{row['trees']} trees kept); "
        f"other processes {row['others_cores']:.2f} cores",
        flush=True,
    )
    return row


# --- scoring ------------------------------------------------------------------------------------------------


def _bench_score(folder: Path, runs: int, sample: int, trees: int | None = None) -> dict[str, Any]:
    import pyarrow.feather as feather

    from xiaodai.scoring import explain, modelfile, product, services, step
    from xiaodai.scoring.choices import ModelKind, ModelStatus
    from xiaodai.scoring.models import ScoringModel

    root = Path(os.environ["XIAODAI_MODEL_DIR"])
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(folder / "model" / "propensity", root / "propensity")
    card = json.loads((folder / "model" / "card.json").read_text())
    version = 1
    if trees:
        version = trees + 1000
        card = {**card, "checksum": _fixed_model(folder, trees, root / "propensity" / f"v{version}.json")}
    model = ScoringModel(
        id=1,
        name="propensity",
        version=version,
        kind=ModelKind.LIGHTGBM,
        status=ModelStatus.ACTIVE,
        file=f"propensity/v{version}.json",
        checksum=card["checksum"],
    )  # never saved: score_members reads only these fields and the file
    loaded = modelfile.read(modelfile.model_root() / model.file, expected_checksum=model.checksum)
    files = _product_files(folder)
    members = feather.read_table(folder / "members.arrow")
    customers = len(set(members["customer_id"].to_pylist()))
    print(
        f"\n== score: step.score_members on {customers:,} customers ({members.num_rows:,} pool members), "
        f"a {loaded.booster.num_trees()}-tree model ==",
        flush=True,
    )
    product_runs: list[dict[str, Any]] = []
    baseline_runs: list[dict[str, Any]] = []
    reasons_runs: list[dict[str, Any]] = []
    x: np.ndarray | None = None
    for n in range(runs):
        for which in (("product", "baseline"), ("baseline", "product"))[n % 2]:
            if which == "baseline" and x is None:
                continue
            if which == "baseline":
                assert x is not None
                baseline_runs.append(_predict_baseline(loaded.booster, x, n))
                continue
            clock = Clock()
            clock.wrap(product, "register", "feature SQL")
            clock.wrap(product, "scoring_frame", "feature SQL")
            clock.wrap(services, "load", "model file")
            clock.wrap(step, "matrix", "matrix", keep=True)
            clock.wrap(explain, "product_reasons", "reasons JSON")
            clock.put(explain, "PathContributions", _timed_explainer(explain.PathContributions, clock))
            row: dict[str, Any] = {}
            try:
                with _watch(row):
                    scored = step.score_members(files, DAY, members, model)
            finally:
                clock.restore()
            row.update(clock.seconds)
            row["other"] = row["seconds"] - sum(clock.seconds.values())
            row["scored"] = scored.scores.num_rows
            row["personalised"] = scored.scores.num_rows - scored.non_personalised
            product_runs.append(row)
            print(
                f"run {n + 1} product: {row['seconds']:.2f} s for {row['scored']:,} customers "
                f"({row['personalised']:,} through the model): "
                + ", ".join(f"{k} {v:.2f}" for k, v in clock.seconds.items())
                + f", other {row['other']:.2f} ({row['cpu']:.1f} CPU s); other processes "
                f"{row['others_cores']:.2f} cores",
                flush=True,
            )
            if n == 0:
                x = clock.kept["matrix"]
                _check_scores(scored, loaded, x)
            del scored
            clock.kept.clear()
        assert x is not None
        reasons_runs.append(_reasons(loaded, x, sample, seed=n))
    scored_n = product_runs[0]["scored"]
    total = [r["seconds"] for r in product_runs]
    print(f"\nscore {scored_n:,} customers, {len(product_runs)} runs (target: 1,000,000 in <= 20 s)")
    for part in ("feature SQL", "model file", "matrix", "contributions", "reasons JSON", "other"):
        print(_line(part, [r.get(part, 0.0) for r in product_runs]))
    per_million = statistics.median(total) / scored_n * 1e6
    print(
        _line("total (step.score_members)", total)
        + f"   {scored_n / statistics.median(total):,.0f} customers/s"
        f"; {per_million:.1f} s per million"
    )
    print(_line("  CPU seconds (this process)", [r["cpu"] for r in product_runs]))
    print(_line("baseline: booster.predict on the same matrix", [r["seconds"] for r in baseline_runs]))
    print(_line("  CPU seconds", [r["cpu"] for r in baseline_runs]))
    others = max(r["others_cores"] for r in product_runs + baseline_runs)
    print(f"  other processes used {others:.2f} cores at most")
    print(f"\nreasons on {sample:,} rows of that matrix, per million rows ({len(reasons_runs)} runs)")
    for key, label in (
        ("exact_per_million", "exact TreeSHAP (pred_contrib)"),
        ("path_per_million", "path method (PathContributions, incl. set-up)"),
        ("path_setup", "· path method set-up (dump_model, tables), once"),
    ):
        print(_line(label, [r[key] for r in reasons_runs]))
    last = reasons_runs[-1]
    ratio = statistics.median([r["exact_per_million"] / r["path_per_million"] for r in reasons_runs])
    print(
        f"  exact / path {ratio:.1f}x; leading feature agrees on {last['top_feature_agree']:.1%} of rows, "
        f"leading reason on {last['top_reason_agree']:.1%}, the same three reasons (any order) on "
        f"{last['top3_reasons_same']:.1%}, the path method's leading reason among the exact three on "
        f"{last['top_reason_in_other_top3']:.1%}; {last['trees']} trees"
    )
    print(f"  path contributions + base vs LightGBM's raw score: max |difference| {last['sum_error']:.2e}")
    return {
        "customers": customers,
        "scored": scored_n,
        "trees": loaded.booster.num_trees(),
        "model_card": card,
        "product": product_runs,
        "baseline": baseline_runs,
        "reasons": reasons_runs,
        "total": _stats(total),
        "customers_per_second": scored_n / statistics.median(total),
        "seconds_per_million": per_million,
    }


def _fixed_model(folder: Path, trees: int, path: Path) -> str:
    """The product's model with exactly `trees` trees: learn.train's params and training rows, no early
    stopping (how scoring cost grows with the model; learn.MAX_ROUNDS is the most the product trains)."""
    import duckdb
    import lightgbm as lgb

    from xiaodai.scoring import learn, modelfile, product

    with duckdb.connect() as con:
        product.register(con, _product_files(folder))
        frame = product.training_frame(con, DAY)
    fit_idx, _ = learn.time_split(frame, learn.HOLDOUT_SHARE)
    fit = frame.take(fit_idx)
    assert fit.y is not None
    cats = learn.learn_categories(fit)
    cat_cols = [j for j, f in enumerate(frame.features) if f.kind == "category"]
    data = lgb.Dataset(
        learn.matrix(fit, frame.features, cats),
        fit.y,
        feature_name=[f.name for f in frame.features],
        categorical_feature=cat_cols,
    )
    booster = lgb.train({**learn.PARAMS, "seed": 7}, data, trees)
    print(f"  a {booster.num_trees()}-tree model for the scoring runs (not timed)", flush=True)
    return modelfile.write(path, booster, frame.features, cats, {"name": "propensity", "trees": trees})


def _timed_explainer(original: type, clock: Clock) -> type:
    """explain.PathContributions, its set-up and its calls timed into `clock`."""

    class Timed(original):  # type: ignore[misc, valid-type]
        def __init__(self, booster: Any) -> None:
            began = time.perf_counter()
            super().__init__(booster)
            clock.seconds["contributions"] += time.perf_counter() - began

        def __call__(self, x: np.ndarray) -> np.ndarray:
            began = time.perf_counter()
            try:
                return super().__call__(x)
            finally:
                clock.seconds["contributions"] += time.perf_counter() - began

    return Timed


def _predict_baseline(booster: Any, x: np.ndarray, n: int) -> dict[str, Any]:
    row: dict[str, Any] = {}
    with _watch(row):
        booster.predict(x, num_threads=2)
    print(
        f"run {n + 1} baseline: booster.predict {row['seconds']:.2f} s on {len(x):,} rows; "
        f"other processes {row['others_cores']:.2f} cores",
        flush=True,
    )
    return row


def _check_scores(scored: Any, loaded: Any, x: np.ndarray) -> None:
    """The probabilities score_members computes from the contributions are LightGBM's own."""
    p = np.asarray(scored.scores["probability"].to_numpy())
    personal = np.asarray(scored.scores["personalised"].to_numpy(zero_copy_only=False))
    mine = np.sort(p[personal])
    theirs = np.sort(loaded.booster.predict(x, num_threads=2))
    assert len(mine) == len(theirs), (len(mine), len(theirs))
    error = float(np.max(np.abs(mine - theirs))) if len(mine) else 0.0
    print(f"       checked: {len(mine):,} model probabilities match booster.predict (max |diff| {error:.1e})")
    assert error < 1e-9, error


def _reasons(loaded: Any, x: np.ndarray, sample: int, seed: int) -> dict[str, Any]:
    from xiaodai.scoring import explain

    rng = np.random.default_rng(seed)
    rows = x[np.sort(rng.choice(len(x), size=min(sample, len(x)), replace=False))]
    booster = loaded.booster
    began = time.perf_counter()
    exact = explain.contributions(booster, rows, exact=True)
    exact_s = time.perf_counter() - began
    began = time.perf_counter()
    explainer = explain.PathContributions(booster)
    setup = time.perf_counter() - began
    path = explainer(rows)
    path_s = time.perf_counter() - began
    raw = booster.predict(rows, raw_score=True, num_threads=2)
    sum_error = float(np.max(np.abs(explainer.base + path.sum(axis=1) - raw)))
    features = loaded.features
    codes = list(dict.fromkeys(explain.GROUP[f.name] for f in features if f.name in explain.GROUP))
    member = np.zeros((len(features), len(codes)))
    for j, f in enumerate(features):
        if f.name in explain.GROUP:
            member[j, codes.index(explain.GROUP[f.name])] = 1.0
    top_exact, top_path = explain.top_features(exact), explain.top_features(path)
    why_exact, why_path = explain.top_features(exact @ member), explain.top_features(path @ member)
    same3 = np.mean([set(a) == set(b) for a, b in zip(why_exact.tolist(), why_path.tolist(), strict=True)])
    in3 = np.mean([a[0] in b for a, b in zip(why_path.tolist(), why_exact.tolist(), strict=True)])
    scale = 1e6 / len(rows)
    return {
        "rows": len(rows),
        "trees": booster.num_trees(),
        "exact_seconds": exact_s,
        "path_seconds": path_s,
        "path_setup": setup,
        "exact_per_million": exact_s * scale,
        "path_per_million": (path_s - setup) * scale + setup,
        "top_feature_agree": float(np.mean(top_exact[:, 0] == top_path[:, 0])),
        "top_reason_agree": float(np.mean(why_exact[:, 0] == why_path[:, 0])),
        "top3_reasons_same": float(same3),
        "top_reason_in_other_top3": float(in3),
        "sum_error": sum_error,
    }


# --- quality ------------------------------------------------------------------------------------------------


def _quality(args: argparse.Namespace, csv: Path, results: dict[str, Any], work: Path) -> dict[str, Any]:
    from xiaodai.scoring import history, learn

    out: dict[str, Any] = {}
    print("\n== quality on the time-ordered holdout (the latest 20 % of rows) ==")
    if "train" in results:
        out["synthetic history"] = results["train"]["quality"]
    else:
        frame, _ = history.load_history(csv, **HISTORY_COLUMNS)
        trained = learn.train(frame)
        out["synthetic history"] = {
            "evaluation": trained.evaluation,
            "rows": trained.rows,
            "window": trained.window,
        }
    card_path = work / f"product-{args.customers}" / "model" / "card.json"
    if card_path.exists() and _marker(card_path, code=_code_version()):
        card = json.loads(card_path.read_text())
        out["synthetic product data"] = {"evaluation": card["evaluation"], "rows": card["rows"]}
    if args.product:
        out["demo (product model)"] = _quality_product(work)
    if args.history:
        frame, info = history.load_history(
            args.history,
            target=args.target,
            time_col=args.time_column,
            id_col=args.id_column,
            exclude=args.exclude,
        )
        trained = learn.train(frame)
        out[f"history file {args.history.name}"] = {
            "evaluation": trained.evaluation,
            "rows": trained.rows,
            "window": trained.window,
            "info": info,
        }
    for name, block in out.items():
        _print_quality(name, block)
    return out


def _quality_product(work: Path) -> dict[str, Any]:
    from django.conf import settings

    from xiaodai.customers.models import Customer
    from xiaodai.pipeline.services import latest_data_date
    from xiaodai.scoring import learn, services

    day = latest_data_date()
    assert day is not None, "the demo install has no applied drop"
    folder = Path(tempfile.mkdtemp(prefix="xiaodai-bench-train-", dir=work))
    began = time.perf_counter()
    try:  # the snapshot holds the demo's personal data: removed as soon as the frame is built
        frame = services.product_training_frame(day, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    derived = time.perf_counter() - began
    trained = learn.train(frame)
    print(
        f"demo at {settings.VAR_DIR}: {Customer.objects.count():,} customers, data date {day}; "
        f"{len(frame):,} training rows in {derived:.1f} s, "
        f"trained in {time.perf_counter() - began - derived:.1f} s, "
        f"{trained.booster.num_trees()} trees (nothing registered)"
    )
    return {
        "evaluation": trained.evaluation,
        "rows": trained.rows,
        "window": trained.window,
        "trees": trained.booster.num_trees(),
        "data_date": day.isoformat(),
        "var_dir": str(settings.VAR_DIR),
    }


def _print_quality(name: str, block: dict[str, Any]) -> None:
    from xiaodai.scoring import learn

    rows = block["rows"]
    window = block.get("window", {})
    print(
        f"\n{name}: train {rows['train']:,} rows ({rows['train_positive']:,} positive), holdout "
        f"{rows['holdout']:,} ({rows['holdout_positive']:,} positive)"
        + (f", holdout {window['holdout_from']} .. {window['holdout_to']}" if window else "")
    )
    print(
        f"  {'method':<22} {'AUC':>6} {'± 95 %':>7} {'AP':>6} "
        + " ".join(f"{'cap@' + str(p) + '%':>8}" for p in learn.CAPTURE_AT)
    )
    labels = {
        "random": "random order",
        "rule": "business rule",
        "logistic": "logistic regression",
        "model": "model (LightGBM)",
    }
    positives, negatives = rows["holdout_positive"], rows["holdout"] - rows["holdout_positive"]
    for method in learn.METHODS:
        m = block["evaluation"][method]
        print(
            f"  {labels[method]:<22} {m['auc']:6.3f} {1.96 * _auc_se(m['auc'], positives, negatives):7.3f} "
            f"{m['ap']:6.3f} " + " ".join(f"{m['capture'][str(p)]:8.1%}" for p in learn.CAPTURE_AT)
        )


def _auc_se(auc: float, positives: int, negatives: int) -> float:
    """Hanley and McNeil's standard error of an AUC: how far a holdout this size lets the figure wander."""
    if not positives or not negatives:
        return float("nan")
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    var = auc * (1 - auc) + (positives - 1) * (q1 - auc**2) + (negatives - 1) * (q2 - auc**2)
    return float(np.sqrt(max(var, 0.0) / (positives * negatives)))


if __name__ == "__main__":
    main()
