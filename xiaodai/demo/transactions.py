"""A year of the demo customers' transactions (feed `transactions`, 资金流), chunk by chunk, as Arrow tables.

Drawn from what each chunk's customers hold, so the story hangs together:
- everyday card and QuickPass payments (supermarkets, restaurants, fast food, fuel for car owners, ...), bills
  (electricity and mobile monthly, water and gas every two months) and ATM cash, drawn in bulk with numpy;
- salaries of payroll customers on their employer's pay day (a few raises and new employers in the last two
  months) and year-end bonuses, instalments of loans with us, repayments to other lenders, provident-fund
  withdrawals, deposits moved to other institutions, trips abroad paid in USD or JPY;
- large scenario payments (renovation, furniture, car, education, medical, wedding, travel) far above the
  customer's usual: now and then for anyone, far more often 10-45 days before an application or an
  interested or applying contact, so the signals precede conversions;
- consumer-loan money: the disbursement, then its spending at merchants, about half of whom bank with us (the
  closed loop); a few loans reach a securities account within three days, rarer ones a developer or a down
  payment (C-17). The first three such loans of the drop are forced, so every demo has them.
A little honest mess the signal step must count: unknown merchant codes, payments without a counterparty
name, foreign currencies. Amounts are negative for money out; booked_at is Beijing time within the year
before the data date, never on it (a T+1 drop). Own random streams: the other feeds of a seed do not change.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from xiaodai.customers import choices as c
from xiaodai.demo import reference as ref
from xiaodai.demo.payroll import Payroll
from xiaodai.demo.rows import CustomerChunk, CustomerRow, LoanRow, PayrollRow
from xiaodai.signals.mcc import known_codes

if TYPE_CHECKING:
    from xiaodai.demo.generator import Drop

Ints = npt.NDArray[np.int64]
# Texts repeat (merchants, banks, memos): each chunk encodes them once, a dictionary per column. The Parquet
# file reads as plain text (store_schema=False), and the writer does not hash millions of strings again.
TEXT_TYPE = pa.dictionary(pa.int32(), pa.string())
SCHEMA = pa.schema(
    [
        ("txn_id", pa.string()),
        ("customer_no", TEXT_TYPE),
        ("account_no", TEXT_TYPE),
        ("booked_at", pa.timestamp("s")),  # Beijing time, as the contract reads a datetime without offset
        ("amount", pa.decimal128(16, 2)),
        *((name, TEXT_TYPE) for name in ("direction", "channel", "mcc", "counterparty_name",
                                         "counterparty_account", "counterparty_bank", "memo", "currency")),
    ]
)  # fmt: skip
DAYS = 365
OWN_BANK = "本行"
US = f"{ref.BANK_NAME}{ref.BRANCH_NAME}"  # our bank as the counterparty of disbursements and instalments
OTHER_BANKS = ("工商银行", "建设银行", "农业银行", "中国银行", "招商银行", "杭州银行", "浙商银行", "交通银行")
EVERYDAY_PER_YEAR = 26.0  # card and QuickPass payments of a customer of average activity
OURS_SHARE = 0.3  # everyday merchants banking with us
LINKED_ODDS, NEED_ODDS = 0.6, 0.07  # a scenario before a conversion; one at any time
PROVIDENT_ODDS, LENDER_ODDS, OUTFLOW_ODDS = 0.01, 0.08, 0.045
SECURITIES_ODDS, DEVELOPER_ODDS, DOWN_PAYMENT_ODDS = 0.005, 0.001, 0.001  # of consumer loans disbursed
KEEN = frozenset({c.ContactOutcome.APPLIED, c.ContactOutcome.INTERESTED, c.ContactOutcome.WILL_APPLY})

# Everyday merchant kinds: mcc, share of payments, median yuan, log-normal sigma, share online, hours, names
EVERYDAY: tuple[tuple[str, int, int, float, float, str, tuple[str, ...]], ...] = (
    ("5411", 26, 85, 0.7, 0.2, "day", ("{h}超市({r}店)", "{h}生鲜({r}店)")),
    ("5812", 18, 120, 0.6, 0.1, "meal", ("{h}面馆", "{h}小厨", "{h}酒家", "{h}火锅({r}店)", "{h}杭帮菜")),
    ("5814", 20, 32, 0.5, 0.5, "meal", ("{h}快餐", "{h}包子铺", "{h}奶茶({r}店)", "{h}咖啡")),
    ("5499", 9, 22, 0.6, 0.0, "day", ("{h}便利店({r}店)",)),
    ("5541", 7, 300, 0.3, 0.0, "day", ("中国石化{r}加油站", "中国石油{r}加油站")),  # car owners only
    ("5311", 4, 260, 0.8, 0.3, "day", ("{h}百货({r}店)",)),
    ("5912", 4, 60, 0.7, 0.2, "day", ("{h}大药房({r}店)",)),
    ("4121", 5, 28, 0.5, 1.0, "day", ("{h}出行",)),
    ("5651", 4, 320, 0.7, 0.6, "day", ("{h}服饰",)),
    ("5977", 2, 220, 0.6, 0.6, "day", ("{h}美妆",)),
    ("7832", 1, 80, 0.4, 0.7, "day", ("{h}影城",)),
)  # fmt: skip
FUEL = 4
# Bills: mcc, payees (one per customer), its bank, memo, every n months, share of customers, median yuan
BILLS: tuple[tuple[str, tuple[str, ...], str, str, int, float, int], ...] = (
    ("4900", ("国网浙江省电力有限公司杭州供电公司",), "工商银行", "电费", 1, 0.62, 160),
    ("4900", ("杭州市水务集团有限公司",), OWN_BANK, "水费", 2, 0.45, 55),
    ("4900", ("杭州市燃气集团有限公司",), "建设银行", "燃气费", 2, 0.4, 60),
    ("4814", ("中国移动通信集团浙江有限公司", "中国联合网络通信有限公司杭州市分公司",
              "中国电信股份有限公司杭州分公司"), "中国银行", "话费", 1, 0.75, 88),
)  # fmt: skip
SEASON = np.array([1.4, 1.4, 1.1, 0.9, 0.9, 1.1, 1.7, 1.8, 1.2, 0.9, 1.0, 1.2])  # bills by calendar month
HOURS: dict[str, list[float]] = {  # weights of the hour of day (Beijing time)
    "day": [0, 0, 0, 0, 0, 0, 0.2, 0.5, 1, 1.2, 1.3, 1.4, 1.3, 1.2, 1.2, 1.3, 1.4, 1.5, 1.7, 1.8, 1.6, 1.2,
            0.6, 0.3],
    "meal": [0, 0, 0, 0, 0, 0, 0.3, 1.5, 1.2, 0.4, 0.5, 2.5, 3, 1, 0.4, 0.4, 0.5, 1.5, 2.5, 2.2, 1.2, 0.6,
             0.3, 0.2],
    "night": [0, 1, 1, 1, 1, 1, *[0] * 18],  # auto-debit batches
}  # fmt: skip
# Scenario: merchants (mcc, name), total in months of income (low, high), at least (yuan), most payments,
# the memo of a plain transfer. Every name holds a word the scenario rule matches when the payment has no mcc.
SCENARIOS: dict[str, tuple[tuple[tuple[str, str], ...], float, float, int, int, str]] = {
    "renovation": ((("1520", "杭州{h}装饰工程有限公司"), ("5211", "{h}建材({r}店)"),
                    ("5231", "{h}墙纸装饰({r}店)")), 3, 12, 20_000, 3, "装修款"),
    "furniture": ((("5712", "{h}家具({r}店)"), ("5712", "{h}家居馆"), ("5722", "{h}家电({r}店)")),
                  0.8, 4, 6_000, 2, "家具款"),
    "car": ((("5511", "杭州{h}汽车销售服务有限公司"),), 3, 12, 30_000, 1, "购车款"),
    "education": ((("8299", "杭州{h}教育培训有限公司"), ("8299", "{h}教育培训")), 0.8, 4, 6_000, 1, "学费"),
    "medical": ((("8062", "杭州{h}医院"), ("8062", "浙江{h}医院")), 0.8, 5, 5_000, 2, "医疗费"),
    "wedding": ((("7221", "{h}婚纱摄影"), ("5944", "{h}珠宝({r}店)")), 1.5, 6, 10_000, 2, "婚庆费用"),
    "travel": ((("4722", "杭州{h}旅行社有限公司"), ("4511", "中国东方航空股份有限公司"),
                ("7011", "{h}大酒店")), 0.6, 3, 5_000, 2, "旅游费"),
}  # fmt: skip
LENDERS = (  # other lenders: name, its bank, memo (the rule matches lender words and 还款)
    ("招联消费金融有限公司", "招商银行", "贷款还款"), ("马上消费金融股份有限公司", "重庆银行", "贷款还款"),
    ("重庆蚂蚁消费金融有限公司", "网商银行", "借呗还款"),
    ("深圳前海微众银行股份有限公司", "微众银行", "微粒贷还款"),
    ("招商银行信用卡中心", "招商银行", "信用卡还款"), ("中信银行信用卡中心", "中信银行", "信用卡还款"),
    ("杭州银行股份有限公司", "杭州银行", "贷款还款"), ("宁波银行股份有限公司", "宁波银行", "贷款还款"),
)  # fmt: skip
SECURITIES = ("华泰证券", "中信证券", "国泰君安证券", "浙商证券", "财通证券")
ABROAD = {  # currency: (merchant, mcc, median in the currency)
    "JPY": (("LAWSON", "5411", 1500), ("FAMILYMART", "5499", 800), ("UNIQLO GINZA", "5651", 6000),
            ("TOKYO METRO", "4111", 300), ("ICHIRAN RAMEN", "5812", 2500), ("HOTEL GRACERY", "7011", 22000),
            ("DON QUIJOTE", "5311", 9000)),
    "USD": (("STARBUCKS", "5814", 9), ("WALGREENS", "5912", 25), ("MACY'S", "5311", 120),
            ("MARRIOTT HOTELS", "7011", 260), ("MTA NYC", "4111", 3), ("WHOLE FOODS", "5411", 60)),
}  # fmt: skip
MISUSE = ("securities", "developer", "down_payment")  # C-17 alert kinds, in the order of their odds
PROVIDENT = "杭州住房公积金管理中心"
ESCROW = "杭州市存量房交易资金监管中心"


TEXT = [SCHEMA.names[2], *SCHEMA.names[6:]]  # the text columns rows keep, in this order
Party = tuple[str | None, str | None, str | None]  # counterparty name, its bank, its account


def _cents(value: Decimal) -> int:
    return int(value * 100)


def _month(day: date) -> int:
    return day.year * 12 + day.month - 1


def _pay_day(month: int, day_of_month: int) -> date:
    """An employer's salary day of `month`; a weekend pays on the Friday before (as xiaodai.demo.payroll)."""
    day = date(month // 12, month % 12 + 1, day_of_month)
    return day - timedelta(days=max(0, day.weekday() - 4))


def _encoded(indices: Ints, values: pa.Array) -> pa.Array:
    """A dictionary column from indices into `values` (which hold no empty cell); -1 is an empty cell."""
    valid = pa.py_buffer(np.packbits(indices >= 0, bitorder="little"))
    codes = pa.Array.from_buffers(
        pa.int32(), len(indices), [valid, pa.py_buffer(np.maximum(indices, 0).astype(np.int32))]
    )
    return pa.DictionaryArray.from_arrays(codes, values)


def decimals(cents: Ints) -> pa.Array:
    """Exact DECIMAL(16,2) yuan from integer cents: the 128-bit words written directly, never via float."""
    words = np.empty((len(cents), 2), dtype="<i8")
    words[:, 0] = cents
    words[:, 1] = np.where(cents < 0, -1, 0)
    return pa.Array.from_buffers(pa.decimal128(16, 2), len(cents), [None, pa.py_buffer(words)])


@dataclass(slots=True)
class _Customer:
    """One customer of the chunk and what their money story is drawn from."""

    i: int  # index in the chunk
    row: CustomerRow
    demand: str
    card: str | None
    card_from: int  # first day the card is used
    income: int  # cents a month, at least a modest wage, for scales
    aum: int
    age: int
    loans: list[LoanRow] = field(default_factory=list)
    payroll: list[PayrollRow] = field(default_factory=list)
    keen: int | None = None  # day of the first application or keen contact of the year
    lead: str | None = None  # scenario of a partner lead


class _Rows:
    """The rarer transactions of a chunk, added one by one: their numbers, and their texts in TEXT order."""

    def __init__(self, r: random.Random) -> None:
        self.r = r  # the chunk's random source for these rows
        self.numbers: list[tuple[int, int, int, int]] = []  # customer, day, second, cents
        self.texts: list[tuple[str | None, ...]] = []

    def add(self, cu: _Customer, day: int, hours: tuple[int, int], cents: int, channel: str, party: Party,
            memo: str, mcc: str | None = None, account: str | None = None,
            currency: str = "CNY") -> None:  # fmt: skip
        if 0 <= day < DAYS and cents:
            sec = hours[0] * 3600 + int(self.r.random() * (hours[1] - hours[0]) * 3600)
            self.numbers.append((cu.i, day, sec, cents))
            name, bank, other = party
            self.texts.append((account or cu.demand, channel, mcc, name, other, bank, memo, currency))


class Transactions:
    """Makes each chunk's transactions; holds the merchants, the employers and the calendar of the year."""

    def __init__(self, drop: Drop) -> None:
        self.seed = drop.seed
        self.last = drop.as_of - timedelta(days=1)  # a T+1 drop: nothing on the data date itself
        self.first = self.last - timedelta(days=DAYS - 1)
        self.pay_day = Payroll(drop).pay_day
        self.employer = {e.code: e.name for e in drop.enterprises}
        self.outsiders = [e.name for e in drop.enterprises if not e.is_payroll_partner] or [US]
        days = [self.first + timedelta(days=k) for k in range(DAYS)]
        self.ymd = np.array([d.year * 10_000 + d.month * 100 + d.day for d in days], dtype=np.int64)
        self.month_of = np.array([d.month - 1 for d in days])
        self.epoch = (self.first - date(1970, 1, 1)).days * 86_400
        self.day_p = np.array([1.3 if d.weekday() >= 5 else 1.0 for d in days])
        self.day_p /= self.day_p.sum()
        self.hours = {k: np.array(v) / sum(v) for k, v in HOURS.items()}
        first, last = _month(self.first), _month(self.last)
        self.months = [self._off(date(m // 12, m % 12 + 1, 1)) for m in range(first, last + 1)]
        r = random.Random(f"xiaodai-demo:{drop.seed}:merchants")
        self.roads = [road for d in ref.DISTRICTS for road in d.roads]
        self.texts: list[str] = []  # the texts of the bulk rows, which hold their indices; fixed after here
        self.text_index: dict[str, int] = {}
        for text in ("pos", "online", "atm", "CNY", "消费", "快捷支付", "ATM取款", *(b[3] for b in BILLS)):
            self._text(text)
        self.merchants: list[tuple[int, int, int, int]] = []  # text indices: mcc, name, account, bank
        for mcc, *_, names in EVERYDAY:  # 60 of each kind, in the order of EVERYDAY
            for _ in range(60):
                bank = OWN_BANK if r.random() < OURS_SHARE else r.choice(OTHER_BANKS)
                self._merchant(mcc, self._name(r, r.choice(names)), bank, self._account(r))
        kinds = list(zip(*EVERYDAY, strict=True))
        self.weight = np.array(kinds[1], dtype=float) / sum(kinds[1])
        self.median, self.sigma = np.array(kinds[2], dtype=float) * 100, np.array(kinds[3])
        self.online, self.profile = np.array(kinds[4]), np.array(kinds[5])
        self.bills = [[self._merchant(b[0], n, b[2], self._account(r)) for n in b[1]] for b in BILLS]
        self.atm = self._merchant("6011", None, None, None)
        unknown = [
            code for code in ("5410", "5413", "5810", "5813", "5540", "5415") if code not in known_codes()
        ]
        self.odd: list[int] = []
        self.nameless: list[int] = []
        for kind, codes in ((self.odd, unknown), (self.nameless, ["5411", "5812", "5499"])):
            for _ in range(8):  # one a clerk or terminal got wrong, one the acquirer did not name
                name = self._name(r, "{h}商行") if kind is self.odd else None
                kind.append(self._merchant(r.choice(codes), name, r.choice(OTHER_BANKS), self._account(r)))
        self.table_of = np.array(self.merchants, dtype=np.int64)
        self.scenario: dict[str, tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]] = {}
        for key, (shops, *_) in SCENARIOS.items():  # (mcc, name, account): theirs, ours
            theirs = [(m, self._name(r, n), self._account(r)) for m, n in shops for _ in range(12)]
            ours = [(m, self._name(r, n), self._account(r)) for m, n in shops for _ in range(6)]
            self.scenario[key] = (theirs, ours)

    def _off(self, day: date) -> int:
        return (day - self.first).days

    def _name(self, r: random.Random, template: str) -> str:
        return template.format(h=r.choice(ref.COMPOUND_HEADS), r=r.choice(self.roads))

    @staticmethod
    def _account(r: random.Random) -> str:
        return f"3301{r.randrange(10**12):012d}"

    def _text(self, text: str | None) -> int:
        """The index of a text of the bulk rows; -1 is an empty cell."""
        if text is None:
            return -1
        if text not in self.text_index:
            self.text_index[text] = len(self.texts)
            self.texts.append(text)
        return self.text_index[text]

    def _merchant(self, mcc: str, name: str | None, bank: str | None, account: str | None) -> int:
        self.merchants.append((self._text(mcc), self._text(name), self._text(account), self._text(bank)))
        return len(self.merchants) - 1

    # -- a chunk --------------------------------------------------------------------------------------

    def table(self, number: int, chunk: CustomerChunk) -> pa.Table:
        """The transactions of `chunk`, the `number`-th of the drop, in the contract's columns (SCHEMA)."""
        seed = random.Random(f"xiaodai-demo:{self.seed}:txn-bulk:{number}").getrandbits(64)
        g, r = np.random.default_rng(seed), random.Random(f"xiaodai-demo:{self.seed}:txn-events:{number}")
        people = self._gather(chunk)
        if not people:
            return SCHEMA.empty_table()
        bulk = self._bulk(g, people)
        rows = _Rows(r)
        forced = ["securities", "developer", "down_payment"] if number == 0 else []
        for cu in people:
            self._salary(rows, cu)
            self._loans(rows, cu, forced)
            self._needs(rows, cu)
            self._other_lenders(rows, cu)
            self._outflow(rows, cu)
            self._abroad(rows, cu)
        return self._assemble(people, bulk, rows)

    def _gather(self, chunk: CustomerChunk) -> list[_Customer]:
        index = {row.customer_no: i for i, row in enumerate(chunk.customers)}
        demand = {d.customer_no: d.account_no for d in chunk.deposits[::-1] if d.kind == c.DepositKind.DEMAND}
        cards = {k.customer_no: k for k in chunk.cards}
        people = []
        for i, row in enumerate(chunk.customers):
            card = cards.get(row.customer_no)
            account = demand.get(row.customer_no, f"6217{row.customer_no[3:]}00")
            age = self.last.year - row.birth_date.year
            card_from = max(0, self._off(card.opened_on)) if card else DAYS
            income = max(_cents(row.monthly_income), 300_000)
            people.append(
                _Customer(i, row, account, card and card.card_no, card_from, income, _cents(row.aum), age)
            )
        for loan in chunk.loans:
            people[index[loan.customer_no]].loans.append(loan)
        for link in chunk.payroll:
            people[index[link.customer_no]].payroll.append(link)
        events = [(a.customer_no, a.started_at) for a in chunk.applications]
        events += [(h.customer_no, h.contacted_at) for h in chunk.contact_history if h.outcome in KEEN]
        for no, at in events:
            day, cu = self._off((at + timedelta(hours=8)).date()), people[index[no]]
            if 0 <= day < DAYS and (cu.keen is None or day < cu.keen):
                cu.keen = day
        for lead in chunk.channel_leads:
            if lead.customer_no in index:
                people[index[lead.customer_no]].lead = lead.scenario
        return people

    # -- the bulk: everyday payments, bills and cash, drawn with numpy -----------------------------------

    def _bulk(self, g: np.random.Generator, people: list[_Customer]) -> dict[str, Any]:
        n, s = len(people), self.text_index.__getitem__  # look up only: the chunk's accounts follow the texts
        age = np.array([p.age for p in people])
        student = np.array([p.row.occupation == "学生" for p in people])
        dormant = np.array([p.aum < 200_000 for p in people]) & (g.random(n) < 0.7)
        car = np.array(["circle_car_owner" in p.row.tag_codes for p in people])
        activity = np.clip(g.gamma(2.0, 0.5, n), 0.15, 3.0) * np.where(age >= 65, 0.6, 1.0)
        activity = np.where(dormant, 0.08, activity * np.where(student, 0.8, 1.0))
        scale = np.clip((np.array([p.income for p in people]) / 900_000) ** 0.35, 0.6, 2.2)
        demand = len(self.texts) + np.arange(n)  # the chunk's accounts follow the texts (_assemble)
        card = demand + n
        card_from = np.array([p.card_from for p in people])

        def part(cust: Ints, day: Ints, hours: Any, cents: Any, merchant: Any, channel: Any, memo: Any,
                 by_card: Any = False) -> dict[str, Any]:  # fmt: skip
            k = len(cust)
            mcc, name, other, bank = self.table_of[np.broadcast_to(merchant, k)].T
            account = np.where(by_card & (day >= card_from[cust]), card[cust], demand[cust])
            texts = [account, *np.broadcast_arrays(channel, mcc, name, other, bank, memo, s("CNY"))]
            numbers = [cust, day, self._secs(g, np.broadcast_to(hours, k)), np.broadcast_to(cents, k)]
            return {"numbers": np.column_stack(numbers).astype(np.int64), "texts": np.column_stack(texts)}

        # everyday payments at the customer's usual kinds of shops
        cust = np.repeat(np.arange(n), g.poisson(activity * EVERYDAY_PER_YEAR))
        m = len(cust)
        kind = g.choice(len(EVERYDAY), size=m, p=self.weight)
        kind[(kind == FUEL) & ~car[cust]] = 0  # no car, no fuel: the supermarket instead
        merchant = kind * 60 + g.integers(0, 60, m)
        mess = g.random(m)  # a few merchants with unknown codes, a few the acquirer did not name
        merchant = np.where(mess < 0.004, np.array(self.odd)[g.integers(0, 8, m)], merchant)
        merchant = np.where(
            (mess >= 0.004) & (mess < 0.008), np.array(self.nameless)[g.integers(0, 8, m)], merchant
        )
        spread = np.exp(self.sigma[kind] * g.standard_normal(m))
        cents = -np.maximum(100, np.round(self.median[kind] * scale[cust] * spread))
        online = (g.random(m) < self.online[kind]).astype(np.int64)
        channel, memo = (
            np.array([s("pos"), s("online")])[online],
            np.array([s("消费"), s("快捷支付")])[online],
        )
        day = g.choice(DAYS, size=m, p=self.day_p)
        parts = [part(cust, day, self.profile[kind], cents, merchant, channel, memo, g.random(m) < 0.45)]
        # bills: the payee's day of the month, every month or every other; power dearer in summer and winter
        for b, (_, payees, _, memo_text, every, share, median) in enumerate(BILLS):
            has = np.flatnonzero((g.random(n) < share) & (age >= 22) & ~student)
            dom, phase = g.integers(0, 28, len(has)), g.integers(0, every, len(has))
            payee = np.array(self.bills[b])[g.integers(0, len(payees), len(has))]
            base = median * 100 * np.exp(0.35 * g.standard_normal(len(has)))
            for k, start in enumerate(self.months):
                pick = np.flatnonzero((phase == k % every) & (start + dom >= 0) & (start + dom < DAYS))
                days = start + dom[pick]
                season = SEASON[self.month_of[days]] if b < 3 else 1.0
                amount = np.round(base[pick] * season * np.exp(0.1 * g.standard_normal(len(pick))))
                parts.append(part(has[pick], days, "night", -amount, payee[pick], s("online"), s(memo_text)))
        # cash from the ATM: older customers more often
        cust = np.repeat(np.arange(n), g.poisson(np.where(age >= 55, 5.0, 1.2) * ~dormant))
        day, cents = g.choice(DAYS, size=len(cust), p=self.day_p), -g.integers(2, 31, len(cust)) * 10_000
        parts.append(part(cust, day, "day", cents, self.atm, s("atm"), s("ATM取款")))
        return {key: np.concatenate([p[key] for p in parts]) for key in ("numbers", "texts")}

    def _secs(self, g: np.random.Generator, profile: npt.NDArray[Any]) -> Ints:
        out = np.empty(len(profile), dtype=np.int64)
        for key, p in self.hours.items():
            at = np.flatnonzero(profile == key)
            out[at] = g.choice(24, size=len(at), p=p) * 3600 + g.integers(0, 3600, len(at))
        return out

    # -- one customer at a time ------------------------------------------------------------------------

    def _salary(self, rows: _Rows, cu: _Customer) -> None:
        """Every salary of the year of every payroll link; for a few the last months changed."""
        r = rows.r
        if not cu.payroll:
            return
        current = max(cu.payroll, key=lambda p: p.last_paid_on)
        change, months, rise = "", r.choice((1, 2)), r.uniform(0.15, 0.40)
        recent = (self.last - current.last_paid_on).days <= 40
        if recent and _month(current.last_paid_on) - _month(current.first_paid_on) >= 5:
            u = r.random()
            change = "raise" if u < 0.03 else "new_employer" if u < 0.04 else ""
        new_payer = (r.choice(self.outsiders), r.choice(OTHER_BANKS), self._account(r))
        new_pay = r.uniform(1.0, 1.3)
        for link in cu.payroll:
            code, end = link.enterprise_code, _month(link.last_paid_on)
            payer: Party = (self.employer[code], OWN_BANK, f"571{code[-12:]}")
            if link.first_paid_on == link.last_paid_on:
                paid = [(end, link.first_paid_on)]  # an off-cycle first salary
            else:
                since = max(_month(link.first_paid_on), _month(self.first))
                paid = [(m, _pay_day(m, self.pay_day[code])) for m in range(since, end + 1)]
            for m, day in paid:
                amount, who = _cents(link.monthly_amount), payer
                if r.random() < 0.25:  # overtime, a deduction
                    amount = round(amount * r.uniform(0.97, 1.03))
                if link is current and change == "raise" and end - m >= months:
                    amount = round(amount / (1 + rise))
                elif link is current and change == "new_employer" and end - m < months:
                    who, amount = new_payer, round(amount * new_pay)
                rows.add(cu, self._off(day), (9, 12), amount, "transfer", who, "代发工资")
                if day.month == 1 and r.random() < 0.4:  # the year-end bonus (年终奖) with January's salary
                    bonus = round(amount * r.uniform(1, 4))
                    rows.add(cu, self._off(day), (13, 17), bonus, "transfer", who, "年终奖")

    def _loans(self, rows: _Rows, cu: _Customer, forced: list[str]) -> None:
        """Monthly instalments of loans with us; for consumer loans of the year, where the money went."""
        for loan in cu.loans:
            amount, start, end = _cents(loan.amount), _month(loan.disbursed_on), _month(loan.matures_on)
            us: Party = (US, OWN_BANK, loan.loan_no)
            if loan.balance > 0 and end > start:
                rate, n = float(loan.rate) / 1200, end - start
                pay = round(amount * rate / (1 - (1 + rate) ** -n)) if rate else amount // n
                stop = DAYS - 1 - loan.overdue_days  # an overdue borrower stopped paying
                for m in range(max(start + 1, _month(self.first)), min(end, _month(self.last)) + 1):
                    day = self._off(date(m // 12, m % 12 + 1, min(loan.disbursed_on.day, 28)))
                    if day <= stop:
                        rows.add(cu, day, (1, 6), -pay, "transfer", us, "贷款还款")
            day = self._off(loan.disbursed_on)
            if loan.kind == c.LoanKind.CONSUMER and day >= 0:
                rows.add(cu, day, (10, 16), amount, "transfer", us, "贷款发放")
                self._loan_money(rows, cu, amount, day, forced)

    def _loan_money(self, rows: _Rows, cu: _Customer, amount: int, day: int, forced: list[str]) -> None:
        """Where a consumer loan went: mostly scenario merchants, about half of them banking with us (the
        closed loop); now and then a securities account, a developer or a down payment (C-17)."""
        r = rows.r
        u, odds = r.random(), (SECURITIES_ODDS, DEVELOPER_ODDS, DOWN_PAYMENT_ODDS)
        misuse = next((k for k, top in zip(MISUSE, np.cumsum(odds), strict=True) if u < top), "")
        if forced and day <= DAYS - 5:
            misuse = forced.pop(0)
        if misuse:
            part = int(round(amount * r.uniform(0.3, 0.9), -2))
            amount -= part
            if misuse == "securities":  # 银证转账 within three days
                firm = r.choice(SECURITIES)
                party = (f"{firm}股份有限公司", firm, self._account(r))
                mcc = "6211" if r.random() < 0.5 else None
                rows.add(cu, day + r.randint(0, 3), (9, 15), -part, "transfer", party, "银证转账", mcc)
            else:  # a developer's account, or the city's escrow for a resale home; each kind by its own words
                developer = misuse == "developer"
                name = self._name(r, "杭州{h}房地产开发有限公司") if developer else ESCROW
                party = (name, r.choice(OTHER_BANKS), self._account(r))
                memo = "转账" if developer else "首付款"
                rows.add(cu, day + r.randint(1, 20), (9, 17), -part, "transfer", party, memo)
        scenario, shares = self._scenario_for(r, cu), [r.random() for _ in range(r.choice((1, 1, 2, 3)))]
        spend = amount * r.uniform(0.6, 1.0)
        offsets = sorted([r.randint(0, 5)] + [r.randint(1, 20) for _ in shares[1:]])
        for share, offset in zip(shares, offsets, strict=True):
            self._pay(rows, cu, scenario, day + offset, round(spend * share / sum(shares)), (0.5, 0.1))

    def _pay(
        self, rows: _Rows, cu: _Customer, scenario: str, day: int, cents: int, odds: tuple[float, float]
    ) -> None:
        """One scenario payment: at a merchant (by card or QuickPass) or by plain transfer without a code."""
        r, (theirs, ours), (our_odds, transfer_odds) = rows.r, self.scenario[scenario], odds
        mine = r.random() < our_odds
        mcc, name, account = r.choice(ours if mine else theirs)
        party = (name, OWN_BANK if mine else r.choice(OTHER_BANKS), account)
        if r.random() < transfer_odds:  # no merchant code: the name tells the scenario
            rows.add(cu, day, (9, 17), -cents, "transfer", party, SCENARIOS[scenario][5])
        else:
            by_card = cu.card is not None and day >= cu.card_from and r.random() < 0.5
            rows.add(cu, day, (10, 21), -cents, "pos", party, "消费", mcc, cu.card if by_card else None)

    def _scenario_for(self, r: random.Random, cu: _Customer) -> str:
        """The need that fits the customer's life, or the scenario a partner passed them on for."""
        if cu.lead is not None and cu.lead in SCENARIOS:
            return cu.lead
        tags, age = set(cu.row.tag_codes), cu.age
        home = "circle_home_owner" in tags or "seg_mortgage" in tags
        weights = {
            "renovation": (1 + 2 * home) if 26 <= age <= 60 else 0.3,
            "furniture": 1.5 if home else 0.8,
            "car": (1 + 1.5 * (cu.income >= 1_000_000)) if 22 <= age <= 60 else 0.2,
            "education": 0.3 + 2 * ("circle_mum" in tags or 32 <= age <= 48),
            "medical": 0.6 + (age >= 55),
            "wedding": 0.1 + 4 * ("circle_newlywed" in tags) + (24 <= age <= 32),
            "travel": 1.0,
        }
        return r.choices(list(weights), list(weights.values()))[0]

    def _needs(self, rows: _Rows, cu: _Customer) -> None:
        """Scenario payments: 10-45 days before most conversions of the year, now and then for anyone."""
        r = rows.r
        if cu.keen is not None and r.random() < LINKED_ODDS:
            start = cu.keen - r.randint(10, 45)
            if cu.lead == "provident_fund":
                self._provident(rows, cu, start)
            elif start >= 0:
                self._episode(rows, cu, start, self._scenario_for(r, cu))
        if r.random() < NEED_ODDS:
            self._episode(rows, cu, r.randrange(DAYS), self._scenario_for(r, cu))
        home = cu.payroll or "circle_home_owner" in cu.row.tag_codes
        if r.random() < PROVIDENT_ODDS * (2 if home else 0.5):
            self._provident(rows, cu, r.randrange(DAYS))

    def _episode(self, rows: _Rows, cu: _Customer, day: int, scenario: str) -> None:
        """A need paid in one to three large payments: a deposit first, the rest as the work goes on."""
        r = rows.r
        _, low, high, floor, most, _ = SCENARIOS[scenario]
        total = max(floor * 100, round(cu.income * r.uniform(low, high)))
        count = min(r.randint(1, most), max(1, total // 1_000_000))  # each 10,000 yuan or more
        weights = [r.uniform(0.3, 1.0) for _ in range(count)]
        for k, w in enumerate(weights):
            cents = int(round(total * w / sum(weights), -2))
            self._pay(rows, cu, scenario, day + r.randint(3, 40) * k, cents, (0.35, 0.25))

    def _provident(self, rows: _Rows, cu: _Customer, day: int) -> None:
        r = rows.r
        purpose = "装修" if r.random() < 0.6 else "购房"
        cents = int(round(r.uniform(10_000, 60_000) * (3 if purpose == "购房" else 1), -2)) * 100
        party = (PROVIDENT, r.choice(("建设银行", OWN_BANK)), "330100000000000001")
        rows.add(cu, day, (9, 16), cents, "transfer", party, f"公积金提取-{purpose}")

    def _other_lenders(self, rows: _Rows, cu: _Customer) -> None:
        """Monthly repayments to another bank or a consumer-finance company (他行挖转)."""
        r = rows.r
        odds = LENDER_ODDS * (1.5 if cu.keen is not None else 1) if 22 <= cu.age <= 55 else 0.01
        if r.random() >= odds:
            return
        for _ in range(2 if r.random() < 0.2 else 1):
            name, bank, memo = r.choice(LENDERS)
            start = r.randint(-24, 10)  # months from the year's first month
            end, dom = start + r.choice((12, 24, 36)), r.randint(1, 28)
            pay = max(50_000, round(cu.income * r.uniform(0.05, 0.3)))
            party = (name, bank, f"9558{r.randrange(10**12):012d}")
            for m, month_start in enumerate(self.months):
                if start < m <= end:
                    cents = round(pay * r.uniform(0.5, 1.5)) if "信用卡" in memo else pay  # card bills vary
                    rows.add(cu, month_start + dom - 1, (8, 22), -cents, "transfer", party, memo)

    def _outflow(self, rows: _Rows, cu: _Customer) -> None:
        """Deposits moved to other institutions in one go or a few transfers: a third of AUM or more."""
        r = rows.r
        if r.random() >= (OUTFLOW_ODDS if cu.aum >= 5_000_000 else 0.004):
            return
        day = DAYS - 1 - r.randrange(30) if r.random() < 0.3 else r.randrange(DAYS - 10)
        total, count = int(round(max(cu.aum, 1_000_000) * r.uniform(0.45, 1.2), -4)), r.randint(1, 3)
        loan_money = any(x.kind == c.LoanKind.CONSUMER and self._off(x.disbursed_on) >= 0 for x in cu.loans)
        u = r.random() * (0.8 if loan_money else 1)  # with loan money about, not to securities (C-17)
        for k in range(count):
            if u < 0.5:  # to their own account elsewhere
                name, bank, memo = cu.row.name, r.choice(OTHER_BANKS[1:]), "转账"
            elif u < 0.8:
                bank = r.choice(("招商银行", "兴业银行", "宁波银行"))
                name, memo = f"{bank[:2]}理财有限责任公司", "理财购买"
            else:
                bank = r.choice(SECURITIES)
                name, memo = f"{bank}股份有限公司", "银证转账"
            party = (name, bank, f"6226{r.randrange(10**12):012d}")
            rows.add(cu, day + r.randint(0, 9) * (k > 0), (9, 20), -(total // count), "online", party, memo)

    def _abroad(self, rows: _Rows, cu: _Customer) -> None:
        """A trip abroad: card payments in yen or dollars, sometimes a travel agency paid weeks before."""
        r = rows.r
        if r.random() >= (0.06 if cu.income >= 1_200_000 or cu.aum >= 30_000_000 else 0.004):
            return
        currency = "JPY" if r.random() < 0.6 else "USD"
        start, length = r.randrange(DAYS - 3), r.randint(4, 9)
        if r.random() < 0.5:
            self._episode(rows, cu, start - r.randint(14, 45), "travel")
        for _ in range(r.randint(4, 12)):
            name, mcc, median = r.choice(ABROAD[currency])
            cents = int(round(median * 100 * r.lognormvariate(0, 0.5), -2 if currency == "JPY" else 0))
            day = start + r.randrange(length)
            card = cu.card if cu.card is not None and day >= cu.card_from else None
            party = (name, None, None)  # a foreign acquirer: no bank named
            rows.add(cu, day, (8, 23), -max(cents, 100), "pos", party, "境外消费", mcc, card, currency)

    # -- the table ---------------------------------------------------------------------------------------

    def _assemble(self, people: list[_Customer], bulk: dict[str, Any], rows: _Rows) -> pa.Table:
        k = len(rows.numbers)
        numbers = np.concatenate([bulk["numbers"], np.array(rows.numbers, dtype=np.int64).reshape(-1, 4)])
        cust, day, sec, cents = numbers.T
        # Texts: the bulk rows index the pool and the chunk's accounts; the rows added one by one follow them.
        head = pa.array([*self.texts, *(p.demand for p in people), *(p.card or p.demand for p in people)])
        added = [pa.array(col, pa.string()) for col in zip(*rows.texts, strict=True)]
        added = added or [pa.array([], pa.string())] * len(TEXT)
        own = [
            np.where(a.is_null().to_numpy(zero_copy_only=False), -1, len(head) + np.arange(k)) for a in added
        ]
        texts = np.concatenate([bulk["texts"], np.stack(own, axis=1)])
        opened = np.array([max(0, self._off(p.row.opened_on)) for p in people])
        keep = np.flatnonzero(day >= opened[cust])  # nothing before the account was opened
        order = keep[np.argsort((cust * DAYS + day)[keep] * 86_400 + sec[keep], kind="stable")]
        cust, day, sec, cents, texts = cust[order], day[order], sec[order], cents[order], texts[order]
        nth = np.arange(len(cust)) - np.searchsorted(cust, cust, side="left")  # the customer's n-th
        if len(nth) and nth.max() >= 1000:
            raise ValueError("more than 999 transactions for one customer")
        seq = np.array([int(p.row.customer_no[3:]) for p in people], dtype=np.int64)
        ids = pc.cast(pa.array(self.ymd[day] * 10**11 + seq[cust] * 1000 + nth), pa.string())
        text = {
            name: _encoded(texts[:, j], pa.concat_arrays([head, added[j].fill_null("")]))
            for j, name in enumerate(TEXT)
        }
        return pa.Table.from_arrays(
            [
                pc.binary_join_element_wise("T", ids, ""),
                _encoded(cust, pa.array([p.row.customer_no for p in people])),
                text["account_no"],
                pa.array(self.epoch + day * 86_400 + sec, pa.timestamp("s")),
                decimals(cents),
                _encoded((cents < 0).astype(np.int64), pa.array(["in", "out"])),
                *(text[name] for name in SCHEMA.names[6:]),
            ],
            schema=SCHEMA,
        )
