"""The signal step gives identical outputs on DuckDB and on Spark (local mode), and the hand-written DuckDB
baseline of the benchmark (handsql.py) gives the same as the step: it does the same work. A seeded random
snapshot exercises every rule, tie and NULL path, and every kind of bad input."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from xiaodai.pipeline.engines import connect, spark_problem
from xiaodai.signals import handsql
from xiaodai.signals.compute import StepResult, compute
from xiaodai.signals.tests import inputs as i
from xiaodai.signals.tests.inputs import DAY, customer, loan, payroll, txn

NAMES = [None, "", "  ", "张三", "超市", "居然之家", "杭州美居装饰工程有限公司", "家具装修城",
         "宝马汽车销售服务有限公司", "浙一医院", "招联消费金融有限公司", "招商银行信用卡中心", "蚂蚁借呗",
         "杭州住房公积金管理中心", "华泰证券股份有限公司", "中信期货有限公司", "绿城置业有限公司", "本人",
         "某(科技)有限公司", "旅行社.com"]  # fmt: skip
MEMOS = [
    None,
    "",
    "转账",
    "贷款还款",
    "信用卡还款",
    "公积金提取 装修",
    "购房提取",
    "首付",
    "购房款",
    "代发工资",
    "消费",
]
BANKS = [None, "", "本行", "本行", "工商银行", "招商银行"]
MCCS = [None, None, None, "", "0000", "5411", "5211", "5712", "5511", "8062", "4511", "6211", "3000", "9999"]
AMOUNTS = [0.01, 100, 499.99, 500, 1000, 2000, 5000, 9999.99, 10000, 20000, 50000, 60000, 150000]


def _day(r: random.Random, back: int) -> dt.date:
    return DAY - dt.timedelta(days=r.randint(0, back))


def _salaries(r: random.Random, cid: int) -> list[dict[str, Any]]:
    base = r.choice([800_000, 1_000_000, 1_200_000])
    payer = r.choice(["甲公司", "乙公司"])
    rows = []
    for back in range(7):
        if r.random() < 0.1:
            continue  # a month without salary
        year, month = divmod(DAY.year * 12 + DAY.month - 1 - back, 12)
        amount = base * r.choice([100, 100, 105, 112, 130]) // 100 if back == 0 else base
        name = r.choice([payer, payer, payer, "丙公司", None]) if back == 0 else payer
        paid = dt.date(year, month + 1, r.choice([10, 10, 25]))
        if paid <= DAY:
            rows.append(
                txn(
                    cid,
                    amount / 100,
                    booked_on=paid,
                    counterparty_name=name,
                    memo=r.choice(["代发工资", "工资"]),
                )
            )
            if r.random() < 0.1:  # paid in two parts
                rows.append(txn(cid, amount / 200, booked_on=paid, counterparty_name="丙公司", memo="工资"))
    return rows


def snapshot(n: int = 240, seed: int = 11) -> dict[str, list[dict[str, Any]]]:
    r = random.Random(seed)
    t: dict[str, list[dict[str, Any]]] = {"transactions": [], "customers": [], "loans": [], "payroll": []}
    for cid in range(1, n + 1):
        t["customers"].append(
            customer(
                cid,
                aum=r.choice([0, 5_000_000, 50_000_000, 500_000_000]),
                no_personalised_marketing=r.random() < 0.08,
            )
        )
        rows: list[dict[str, Any]] = []
        for _ in range(r.randint(0, 40)):
            yuan = r.choice(AMOUNTS)
            out = r.random() < 0.8
            rows.append(
                txn(
                    cid,
                    -yuan if out else yuan,
                    booked_on=_day(r, 240),
                    mcc=r.choice(MCCS),
                    counterparty_name=r.choice(NAMES),
                    counterparty_bank=r.choice(BANKS),
                    memo=r.choice(MEMOS),
                    currency=r.choice([None, None, None, "", "CNY", "USD"]),
                )
            )
        for row in list(rows):
            pick = r.random()
            if pick < 0.03:
                row["amount"] = -row["amount"]  # signed against its direction
            elif pick < 0.05:
                row["amount"] = 0
            elif pick < 0.1:  # delivered again, as is or differing
                rows.append(
                    {
                        **row,
                        "booked_on": r.choice([row["booked_on"], _day(r, 240)]),
                        "currency": r.choice([row["currency"], "USD"]),
                    }
                )
        if r.random() < 0.15:  # repaying another lender, monthly, the same amount (ties) or not
            yuan = r.choice([500, 2000])
            for back in range(0, r.choice([40, 70, 130]), 30):
                rows.append(
                    txn(
                        cid,
                        -r.choice([yuan, yuan, 3000]),
                        booked_on=DAY - dt.timedelta(days=back + r.randint(0, 5)),
                        counterparty_name=r.choice(NAMES[10:13]),
                        counterparty_bank=r.choice(BANKS[4:]),
                        memo=r.choice(MEMOS[3:5]),
                    )
                )
        if r.random() < 0.3:
            rows += _salaries(r, cid)
            if r.random() < 0.8:
                t["payroll"].append(payroll(cid))
        for _ in range(r.choice([0, 0, 1, 2])):
            t["loans"].append(
                loan(
                    cid,
                    kind=r.choice(["consumer", "consumer", "mortgage"]),
                    disbursed_on=_day(r, 120),
                    amount=r.choice([1_000_000, 5_000_000, 5_000_000]),
                )
            )
        t["transactions"] += rows
    return t


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return i.write(tmp_path_factory.mktemp("snapshot"), False, **snapshot())


def _tables(result: StepResult) -> dict[str, pa.Table]:
    return {name: getattr(result, name) for name in ("events", "signals", "alerts", "quality")}


def _check_rich(result: StepResult) -> None:
    """The snapshot reaches every kind, every alert and every kind of bad input."""
    kinds = {
        (s["kind"], s["detail"] if s["kind"] == "salary_change" else "") for s in result.signals.to_pylist()
    }
    assert {k for k, _ in kinds} == {
        "scenario",
        "other_lender",
        "provident_fund",
        "salary_change",
        "deposit_outflow",
    }
    assert ("salary_change", "raise") in kinds
    assert ("salary_change", "new_employer") in kinds
    assert {a["kind"] for a in result.alerts.to_pylist()} == {"securities", "developer", "down_payment"}
    [q] = result.quality.to_pylist()
    assert all(q[k] > 0 for k in q), q
    assert q["read"] == q["used"] + q["duplicates"] + q["foreign_currency"] + q["bad_amount"]


def test_handsql_and_the_step_give_identical_outputs(files: dict[str, Path]) -> None:
    with connect("duckdb") as con:
        step = compute(con, files, DAY, i.config(), prefix="parity")
    _check_rich(step)
    hand = handsql.run(duckdb.connect(), files, DAY, i.config())
    for name, table in _tables(step).items():
        assert table.to_pylist() == _tables(hand)[name].to_pylist(), name


@pytest.fixture
def few_partitions() -> Iterator[None]:
    """A small snapshot in 8 shuffle partitions spends most of its time scheduling tasks: 2 halve the test."""
    from xiaodai.pipeline.engines import spark_session

    spark = spark_session()
    before = spark.conf.get("spark.sql.shuffle.partitions")
    spark.conf.set("spark.sql.shuffle.partitions", "2")
    yield
    spark.conf.set("spark.sql.shuffle.partitions", before)


@pytest.mark.skipif(bool(spark_problem()), reason=spark_problem() or "spark available")
def test_duckdb_and_spark_give_identical_outputs(files: dict[str, Path], few_partitions: None) -> None:
    results = {}
    for engine in ("duckdb", "spark"):
        with connect(engine) as con:
            results[engine] = _tables(compute(con, files, DAY, i.config(), prefix=f"parity_{engine}"))
    for name, table in results["duckdb"].items():
        assert table.schema == results["spark"][name].schema, name
        assert table.to_pylist() == results["spark"][name].to_pylist(), name
