"""The signal benchmark's snapshot: a large branch's transactions, customers, loans and payroll as the
pipeline's snapshot files (xiaodai/signals/schema.py, xiaodai/pipeline/snapshot.py), seeded and vectorised
(numpy and pyarrow, written in chunks of CHUNK rows: one Parquet row group each).

What is in it (shares of the rows; `customers` defaults to one per 67 transactions):

* the current month (the 30 days up to the data date): everyday card payments, online payments, bills, cash,
  transfers to people (here and at other banks), interest and incoming transfers; now and then a large
  scenario payment (by merchant code or a transfer to a renovation company, a dealer, a school ...), a
  repayment to another lender, a provident-fund withdrawal, money moved to the customer's account at
  another bank, a transfer to a broker, a developer or a down payment (a share of them from customers who
  just took a consumer loan: the loan-use watch);
* before it, `baseline` lighter rows over the 180 days before (the customers' usual spending);
* salaries: every payroll customer (a quarter) is paid once a month over the whole span, a few with a
  raise or a new employer in the latest month (counted in the totals above);
* bad input: about 0.1 % repeated transaction ids (a later batch delivering a row again), 0.05 % other
  currencies, 0.04 % zero or wrongly signed amounts, 0.1 % unknown merchant codes, a few rows without a
  counterparty.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from xiaodai.pipeline.snapshot import SOURCES
from xiaodai.signals.schema import TRANSACTIONS

CHUNK = 1_000_000
RECENT_DAYS = 30
BASELINE_DAYS = 180
SNAPSHOT = {s.name: s.schema for s in SOURCES}

Choice = Sequence[str | None]


@dataclass(frozen=True)
class Template:
    """One kind of transaction: its share, direction and the values its columns are drawn from."""

    name: str
    share: float  # of the current month's rows
    baseline: float  # of the baseline's rows
    out: bool
    median: float  # yuan
    sigma: float
    channels: Choice
    mccs: Choice
    names: Choice
    banks: Choice
    memos: Choice


_PEOPLE = [
    f"{s}{g}" for s in "王李张刘陈杨黄赵吴周" for g in ("伟", "芳", "娜", "敏", "静", "磊", "强", "洋")
]
_OTHER_BANKS = ("工商银行", "建设银行", "农业银行", "招商银行", "中国银行", "浙商银行")
_SHOPS = ("华润万家超市", "联华超市", "星巴克咖啡", "肯德基", "中石化加油站", "海底捞火锅", "屈臣氏",
          "优衣库", "滴滴出行", "大药房", "全家便利店", "永辉超市")  # fmt: skip

TEMPLATES: tuple[Template, ...] = (
    Template("card", 0.44, 0.55, True, 80, 1.0, ("pos",),
             ("5411", "5812", "5311", "5499", "5814", "5541", "4121", "5912", "5691"), _SHOPS,
             ("本行", "本行", "工商银行", "建设银行", None), ("消费", "POS消费", None)),
    Template("online", 0.15, 0.15, True, 60, 1.1, ("online",), ("5999", "5969", "4816", "5818"),
             ("财付通支付科技有限公司", "支付宝（中国）网络技术有限公司", "京东商城", "美团"),
             (None, "本行"), ("网上支付", "快捷支付")),
    Template("bill", 0.04, 0.05, True, 150, 0.6, ("online",), ("4900", "4814", "4899"),
             ("国家电网", "杭州水务集团", "中国移动", "中国电信"), ("本行",), ("缴费", "代扣")),
    Template("cash", 0.03, 0.03, True, 500, 0.5, ("atm",), (None,), ("ATM取现",), ("本行",), ("取现",)),
    Template("to_person", 0.10, 0.08, True, 500, 1.2, ("transfer",), (None,), (*_PEOPLE, None),
             ("本行", *_OTHER_BANKS), ("转账", "还钱", "红包", None)),
    Template("to_self_elsewhere", 0.01, 0.005, True, 30000, 1.0, ("transfer",), (None,), ("本人",),
             _OTHER_BANKS, ("转账", "理财", None)),
    Template("scenario_card", 0.004, 0.002, True, 20000, 1.0, ("pos",),
             ("5211", "5712", "5722", "5511", "8220", "8062", "8021", "5944", "4511", "7011", "4722"),
             ("居然之家", "红星美凯龙", "宜家家居", "杭州长运汽车4S店", "新东方培训学校", "浙一医院",
              "周大福珠宝", "东方航空", "携程旅行网"),
             ("本行", "工商银行", None), ("消费",)),
    Template("scenario_transfer", 0.002, 0.001, True, 40000, 0.8, ("transfer",), (None, "0000"),
             ("杭州美居装饰工程有限公司", "杭州家装建材市场", "宝马汽车销售服务有限公司",
              "杭州学而思培训学校", "杭州口腔医院", "杭州婚庆服务有限公司", "中青旅行社"),
             ("本行", "工商银行", "招商银行"), ("装修款", "定金", "学费", "转账")),
    Template("other_lender", 0.01, 0.01, True, 2500, 0.7, ("transfer", "online"), (None,),
             ("招联消费金融有限公司", "马上消费金融股份有限公司", "招商银行信用卡中心",
              "重庆小额贷款有限公司", "蚂蚁借呗"),
             ("招商银行", "工商银行", "网商银行"), ("还款", "信用卡还款", "贷款还款")),
    Template("provident_fund", 0.0005, 0.0003, False, 60000, 0.6, ("transfer",), (None,),
             ("杭州住房公积金管理中心",), ("本行",), ("公积金提取 装修", "购房提取", "公积金提取")),
    Template("watch", 0.001, 0.0005, True, 50000, 0.8, ("transfer",), (None, "6211"),
             ("华泰证券股份有限公司", "中信期货有限公司", "绿城置业有限公司", "万科房地产开发有限公司",
              "王伟"),
             _OTHER_BANKS, ("银证转账", "购房款", "首付", "转账")),
    Template("from_person", 0.12, 0.07, False, 800, 1.2, ("transfer",), (None,), (*_PEOPLE, None),
             ("本行", *_OTHER_BANKS), ("转账", "还钱", None)),
    Template("interest", 0.05, 0.03, False, 5, 1.0, ("system",), (None,), ("本行",), ("本行",), ("利息",)),
)  # fmt: skip
_LOAN_USE = 0.0005  # of the current rows: a loan customer paying a broker, a developer or a down payment
_EMPLOYERS = (
    "浙江某某科技有限公司",
    "杭州某某制造有限公司",
    "某某市第一人民医院",
    "某某区教育局",
    "阿里云计算有限公司",
)


@dataclass(frozen=True)
class Customers:
    ids: np.ndarray
    aum: np.ndarray
    no_marketing: np.ndarray
    payroll: np.ndarray  # ids of payroll customers
    salary: np.ndarray  # their monthly salary, cents
    loan_ids: np.ndarray  # customers with a recent consumer loan
    loan_on: np.ndarray  # its disbursement date (days before the data date)


def _strings(values: Choice, index: np.ndarray) -> pa.Array:
    """values[index] as a string array (None = NULL), without a Python object per row."""
    dictionary = pa.array([v if v is not None else "" for v in values], pa.string())
    nulls = np.array([v is None for v in values])
    mask = nulls[index] if nulls.any() else None
    indices = pa.array(index.astype(np.int32), mask=mask)
    return pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.string())


def _prefixed(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """prefix + the number in `width` digits, built as one buffer (Arrow's int-to-string cast is slow)."""
    size, head = len(numbers), prefix.encode()
    chars = np.empty((size, len(head) + width), np.uint8)
    chars[:, : len(head)] = np.frombuffer(head, np.uint8)
    rest = numbers.astype(np.int64)
    for i in range(len(head) + width - 1, len(head) - 1, -1):
        rest, digit = np.divmod(rest, 10)
        chars[:, i] = digit + 48
    offsets = np.arange(size + 1, dtype=np.int32) * chars.shape[1]
    return pa.StringArray.from_buffers(size, pa.py_buffer(offsets.tobytes()), pa.py_buffer(chars.tobytes()))


def _customers(rng: np.random.Generator, n: int) -> Customers:
    ids = np.arange(1, n + 1, dtype=np.int64)
    aum = np.round(np.exp(rng.normal(np.log(5_000_000), 1.5, n))).astype(np.int64)
    payroll = ids[rng.random(n) < 0.25]
    salary = np.round(np.exp(rng.normal(np.log(800_000), 0.4, len(payroll)))).astype(np.int64)
    loan_ids = ids[rng.random(n) < 0.06]
    return Customers(
        ids=ids,
        aum=aum,
        no_marketing=rng.random(n) < 0.05,
        payroll=payroll,
        salary=salary,
        loan_ids=loan_ids,
        loan_on=rng.integers(0, 120, len(loan_ids)),
    )


def _who(rng: np.random.Generator, customers: int, size: int) -> np.ndarray:
    """Customer ids, some far busier than others (u**1.6 favours low ids)."""
    return (1 + np.floor(customers * rng.random(size) ** 1.6)).astype(np.int64)


def _column(rng: np.random.Generator, kinds: np.ndarray, field: str) -> pa.Array:
    """Each row's value drawn from its template's list for `field`: one dictionary over all templates."""
    lists = [getattr(t, field) for t in TEMPLATES]
    sizes = np.array([len(v) for v in lists])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    local = np.floor(rng.random(len(kinds)) * sizes[kinds]).astype(np.int64)
    return _strings([v for values in lists for v in values], offsets[kinds] + local)


def _chunk(
    rng: np.random.Generator, c: Customers, size: int, day: dt.date, first_day: int, span: int, current: bool
) -> pa.Table:
    """`size` template rows booked `first_day` .. `first_day + span - 1` days before `day`."""
    shares = np.array([t.share if current else t.baseline for t in TEMPLATES])
    kinds = rng.choice(len(TEMPLATES), size=size, p=shares / shares.sum())
    who = _who(rng, len(c.ids), size)
    back = first_day + rng.integers(0, span, size)
    median = np.array([np.log(t.median * 100) for t in TEMPLATES])[kinds]
    sigma = np.array([t.sigma for t in TEMPLATES])[kinds]
    amount = np.maximum(1, np.round(np.exp(rng.normal(median, sigma)))).astype(np.int64)
    out = np.array([t.out for t in TEMPLATES])[kinds]
    if current:  # a share of the watch template's rows: money of a fresh consumer loan
        watch = np.flatnonzero(kinds == [t.name for t in TEMPLATES].index("watch"))
        loan_use = watch[: int(_LOAN_USE * size)]
        pick = rng.integers(0, len(c.loan_ids), len(loan_use))
        who[loan_use] = c.loan_ids[pick]
        back[loan_use] = np.maximum(0, c.loan_on[pick] - rng.integers(0, 30, len(loan_use)))
    return pa.table(
        {
            "customer_id": pa.array(who),
            "booked_on": pa.array(_days(day, back), pa.date32()),
            "amount": pa.array(np.where(out, -amount, amount)),
            "direction": _strings(("in", "out"), out.astype(np.int64)),
            "channel": _column(rng, kinds, "channels"),
            "mcc": _column(rng, kinds, "mccs"),
            "name": _column(rng, kinds, "names"),
            "bank": _column(rng, kinds, "banks"),
            "memo": _column(rng, kinds, "memos"),
        }
    )


def _days(day: dt.date, back: np.ndarray) -> np.ndarray:
    return (np.datetime64(day) - back.astype("timedelta64[D]")).astype("datetime64[D]")


def _salaries(rng: np.random.Generator, c: Customers, day: dt.date, months: int) -> pa.Table:
    """One salary a month on the 10th for every payroll customer; the latest month: 8 % a raise of 30 %,
    3 % a new employer."""
    parts = []
    employer = rng.integers(0, len(_EMPLOYERS), len(c.payroll))
    raised = rng.random(len(c.payroll)) < 0.08
    moved = rng.random(len(c.payroll)) < 0.03
    for back in range(months):
        year, month = divmod(day.year * 12 + day.month - 1 - back, 12)
        paid = dt.date(year, month + 1, 10)
        if paid > day:
            continue
        amount = np.round(c.salary * rng.normal(1.0, 0.02, len(c.payroll))).astype(np.int64)
        names = employer.copy()
        if back == (0 if day.day >= 10 else 1):
            amount = np.where(raised, amount * 13 // 10, amount)
            names = np.where(moved, (employer + 1) % len(_EMPLOYERS), employer)
        parts.append(
            pa.table(
                {
                    "customer_id": pa.array(c.payroll),
                    "booked_on": pa.array(np.full(len(c.payroll), np.datetime64(paid)), pa.date32()),
                    "amount": pa.array(amount),
                    "direction": _strings(("in",), np.zeros(len(c.payroll), dtype=np.int64)),
                    "channel": _strings(("payroll",), np.zeros(len(c.payroll), dtype=np.int64)),
                    "mcc": pa.nulls(len(c.payroll), pa.string()),
                    "name": _strings(_EMPLOYERS, names),
                    "bank": _strings(("本行",), np.zeros(len(c.payroll), dtype=np.int64)),
                    "memo": _strings(("代发工资", "工资"), rng.integers(0, 2, len(c.payroll))),
                }
            )
        )
    return pa.concat_tables(parts)


def _finish(rng: np.random.Generator, table: pa.Table, first_id: int) -> pa.Table:
    """Ids, accounts and currencies; then the bad input: zero or wrongly signed amounts, other currencies,
    unknown merchant codes, and a few rows delivered again under the same id."""
    n = table.num_rows
    amount = table["amount"].to_numpy().copy()
    bad = rng.random(n)
    amount[bad < 0.0002] = 0
    flip = (bad >= 0.0002) & (bad < 0.0004)
    amount[flip] = -amount[flip]
    currency_pick = rng.random(n)
    currency = _strings((None, "CNY", "USD", "HKD"), np.select(
        [currency_pick < 0.0003, currency_pick < 0.0005, currency_pick < 0.5], [2, 3, 1], 0))  # fmt: skip
    mcc = table["mcc"]
    unknown = (rng.random(n) < 0.001) & pc.is_valid(mcc).to_numpy(zero_copy_only=False)
    mcc = pc.if_else(pa.array(unknown), pa.scalar("0000"), mcc)
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    txn_id = _prefixed("T", ids, 15)
    out = pa.table(
        {
            "customer_id": table["customer_id"],
            "txn_id": txn_id,
            "account_no": _prefixed("DP", table["customer_id"].to_numpy(), 10),
            "booked_on": table["booked_on"],
            "amount": pa.array(amount),
            "direction": table["direction"],
            "channel": table["channel"],
            "mcc": mcc,
            "counterparty_name": table["name"],
            "counterparty_account": _prefixed("62", rng.integers(0, 10**14, n), 14),
            "counterparty_bank": table["bank"],
            "memo": table["memo"],
            "currency": currency,
        },
        schema=TRANSACTIONS,
    )
    again = np.flatnonzero(rng.random(n) < 0.001)  # the same rows again, as a later batch would
    return pa.concat_tables([out, out.take(pa.array(again))]) if len(again) else out


def generate(
    folder: Path,
    *,
    transactions: int,
    baseline: int,
    customers: int,
    day: dt.date,
    seed: int = 1,
) -> dict[str, Path]:
    """Write the snapshot; returns {name: file} like the pipeline's snapshot (customers, loans, payroll,
    transactions). Row counts are close to (not exactly) the ones asked for: the repeated rows come on top."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    c = _customers(rng, customers)
    files = {name: folder / f"{name}.parquet" for name in ("customers", "loans", "payroll", "transactions")}
    _write_people(rng, c, day, files)
    months = (RECENT_DAYS + (BASELINE_DAYS if baseline else 0)) // 30 + 1
    salaries = _salaries(rng, c, day, months)
    paid_recently = pc.greater(salaries["booked_on"], pa.scalar(day - dt.timedelta(days=RECENT_DAYS)))
    recent_salaries = salaries.filter(paid_recently)
    in_baseline = pc.greater(
        salaries["booked_on"], pa.scalar(day - dt.timedelta(days=RECENT_DAYS + BASELINE_DAYS))
    )
    older_salaries = salaries.filter(pc.and_(pc.invert(paid_recently), in_baseline))
    plan = [
        (max(0, transactions - recent_salaries.num_rows), 0, RECENT_DAYS, True, recent_salaries),
        (max(0, baseline - older_salaries.num_rows) if baseline else 0, RECENT_DAYS, BASELINE_DAYS, False,
         older_salaries if baseline else None),
    ]  # fmt: skip
    next_id = 1
    with pq.ParquetWriter(
        files["transactions"], TRANSACTIONS, compression="zstd", compression_level=1
    ) as writer:
        for rows, first_day, span, current, extra in plan:
            done = 0
            while done < rows:
                size = min(CHUNK, rows - done)
                chunk = _chunk(rng, c, size, day, first_day, span, current)
                if extra is not None and done == 0:
                    chunk = pa.concat_tables([chunk, extra])
                table = _finish(rng, chunk, next_id)
                next_id += chunk.num_rows
                writer.write_table(table, row_group_size=CHUNK * 2)
                done += size
    return files


def _write_people(rng: np.random.Generator, c: Customers, day: dt.date, files: dict[str, Path]) -> None:
    n = len(c.ids)
    customers = {
        "customer_id": c.ids,
        "customer_no": _prefixed("C", c.ids, 9),
        "branch_id": np.ones(n, dtype=np.int64),
        "sub_branch_id": 10 + c.ids % 5,
        "owner_id": pa.nulls(n, pa.int64()),
        "team_id": pa.nulls(n, pa.int64()),
        "birth_date": pa.array(np.full(n, np.datetime64("1988-04-12")), pa.date32()),
        "is_vulnerable": np.zeros(n, dtype=bool),
        "aum": c.aum,
        "monthly_income": np.full(n, 1_000_000, dtype=np.int64),
        "occupation": pa.nulls(n, pa.string()),
        "opened_on": pa.array(np.full(n, np.datetime64("2015-01-01")), pa.date32()),
        "no_personalised_marketing": c.no_marketing,
    }
    pq.write_table(pa.table(customers, schema=SNAPSHOT["customers"]), files["customers"])
    m = len(c.loan_ids)
    mortgages = c.ids[rng.random(n) < 0.05]
    kinds = np.concatenate([np.zeros(m, dtype=np.int64), np.ones(len(mortgages), dtype=np.int64)])
    amount = np.concatenate(
        [rng.choice([5_000_000, 10_000_000, 20_000_000, 30_000_000], m), np.full(len(mortgages), 100_000_000)]
    )
    disbursed = np.concatenate([c.loan_on, rng.integers(400, 3000, len(mortgages))])
    loans = {
        "customer_id": np.concatenate([c.loan_ids, mortgages]),
        "kind": _strings(("consumer", "mortgage"), kinds),
        "amount": amount,
        "balance": amount,
        "status": _strings(("normal",), np.zeros(len(kinds), dtype=np.int64)),
        "overdue_days": np.zeros(len(kinds), dtype=np.int64),
        "disbursed_on": pa.array(_days(day, disbursed), pa.date32()),
        "matures_on": pa.array(_days(day, disbursed - 1095), pa.date32()),
    }
    pq.write_table(pa.table(loans, schema=SNAPSHOT["loans"]), files["loans"])
    p = len(c.payroll)
    payroll = {
        "customer_id": c.payroll,
        "monthly_amount": c.salary,
        "last_paid_on": pa.array(np.full(p, np.datetime64(day.replace(day=10) if day.day >= 10 else day)),
                                 pa.date32()),
        "partner": np.ones(p, dtype=bool),
    }  # fmt: skip
    pq.write_table(pa.table(payroll, schema=SNAPSHOT["payroll"]), files["payroll"])
