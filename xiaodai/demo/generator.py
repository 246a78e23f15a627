"""The deterministic demo branch: a Hangzhou city branch with six sub-branches, its staff, teams, employers
and a book of customers whose holdings hang together (age → occupation → income → AUM, cards, credit).

Same (seed, customers, as_of) → the same rows, byte for byte. Faker is seeded once and only builds pools
(names, brands, employers); every row is drawn from a `random.Random` seeded per chunk, so customers are
produced in chunks and never all held in memory.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from faker import Faker
from stdnum.cn import uscc

from xiaodai.core.roles import Role
from xiaodai.customers.services import search_keys
from xiaodai.demo import reference as ref
from xiaodai.demo.customergen import CustomerMaker, PersonName, Pools
from xiaodai.demo.outreach import Outreach
from xiaodai.demo.payroll import Payroll
from xiaodai.demo.rows import (
    BankRow,
    BranchRow,
    ChannelLeadRow,
    CustomerChunk,
    EnterpriseRow,
    StaffRow,
    SubBranchRow,
    TagRow,
    TeamRow,
)
from xiaodai.demo.transactions import Transactions
from xiaodai.org.choices import BusinessLine, TeamKind

if TYPE_CHECKING:
    import pyarrow as pa

DEMO_PASSWORD = "xiaodai-demo-2026"  # noqa: S105 - the published password of the demo logins
DEFAULT_SEED = 20261128
DEFAULT_CUSTOMERS = 50_000
CHUNK_SIZE = 5_000

# One fixed login per role, in the order of `Role`.
DEMO_USERNAMES: dict[str, str] = {
    Role.BRANCH_HEAD: "head",
    Role.TEAM_LEAD: "lead",
    Role.LOAN_MANAGER: "manager",
    Role.TELEMARKETER: "tele",
    Role.LOBBY_MANAGER: "lobby",
    Role.CORPORATE_RM: "corporate",
    Role.WEALTH_ADVISOR: "wealth",
    Role.OPS_ADMIN: "ops",
    Role.AUDITOR: "auditor",
    Role.POST_LOAN: "postloan",
}

_CAPACITY: dict[str, int] = {
    Role.TELEMARKETER: 120,
    Role.LOAN_MANAGER: 60,
    Role.TEAM_LEAD: 40,
    Role.LOBBY_MANAGER: 50,
    Role.CORPORATE_RM: 30,
    Role.WEALTH_ADVISOR: 40,
}
_BANNED_BRAND = re.compile(
    r"罳|公司|电子|信息|软件|计算机|科技|电脑|济南|黄石|襄樊|开发区|浙大|方正|七喜|太极|四通|联通|中建"
)
_CJK = re.compile(r"^[\u4e00-\u9fff]{2,4}$")


@dataclass(frozen=True)
class Drop:
    """A generated data drop: the organisation up front, the customer book as a stream of chunks."""

    seed: int
    as_of: date
    customer_count: int
    bank: BankRow
    branch: BranchRow
    sub_branches: tuple[SubBranchRow, ...]
    teams: tuple[TeamRow, ...]
    staff: tuple[StaffRow, ...]
    enterprises: tuple[EnterpriseRow, ...]
    tags: tuple[TagRow, ...]
    chunk_size: int = CHUNK_SIZE
    _chunks: Callable[[], Iterator[CustomerChunk]] = field(
        default=lambda: iter(()), repr=False, compare=False
    )
    _prospects: Callable[[], Iterator[ChannelLeadRow]] = field(
        default=lambda: iter(()), repr=False, compare=False
    )
    _transactions: Callable[[int, CustomerChunk], pa.Table] | None = field(
        default=None, repr=False, compare=False
    )

    def chunks(self) -> Iterator[CustomerChunk]:
        """The customers and their holdings, `chunk_size` at a time; restartable, the same every time."""
        return self._chunks()

    def prospects(self) -> Iterator[ChannelLeadRow]:
        """Channel leads of people who are not customers (the chunks carry the customers' own leads)."""
        return self._prospects()

    def transactions(self, number: int, chunk: CustomerChunk) -> pa.Table:
        """The year of transactions of `chunk`, the `number`-th of `chunks()`: an Arrow table in the
        contract's columns (xiaodai.demo.transactions.SCHEMA)."""
        if self._transactions is None:
            raise ValueError("this drop was not made by generate_drop()")
        return self._transactions(number, chunk)


def generate_drop(
    customers: int = DEFAULT_CUSTOMERS,
    seed: int = DEFAULT_SEED,
    as_of: date | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Drop:
    """Build the organisation and the pools now; customers are generated lazily by `Drop.chunks()`."""
    if customers < 0:
        raise ValueError("customers must be >= 0")
    as_of = as_of or date.today()
    pools = build_pools(seed, customers)
    rng = random.Random(f"xiaodai-demo:{seed}:org")
    bank = BankRow(ref.BANK_CODE, ref.BANK_NAME)
    branch = BranchRow(ref.BRANCH_CODE, ref.BRANCH_NAME, ref.CITY, bank.code)
    subs = tuple(
        SubBranchRow(f"{ref.BRANCH_CODE}{n:02d}", f"{d.short}支行", d.name, branch.code)
        for n, d in enumerate(ref.DISTRICTS, start=1)
    )
    teams, staff = _org(rng, pools, branch, subs)
    enterprises = _enterprises(rng, pools, branch, max(40, min(3000, customers // 160)))
    tags = tuple(TagRow(t.code, t.name, t.kind) for t in ref.TAGS)
    drop = Drop(
        seed=seed,
        as_of=as_of,
        customer_count=customers,
        bank=bank,
        branch=branch,
        sub_branches=subs,
        teams=teams,
        staff=staff,
        enterprises=enterprises,
        tags=tags,
        chunk_size=chunk_size,
    )
    maker = CustomerMaker(drop, pools)
    outreach = Outreach(drop, pools, maker.mobile)  # contact history and leads, from the holdings
    payroll = Payroll(drop)  # salary links of the payroll partners' staff
    object.__setattr__(drop, "_chunks", lambda: payroll.extend(outreach.extend(maker.chunks())))
    object.__setattr__(drop, "_prospects", outreach.prospects)
    object.__setattr__(drop, "_transactions", Transactions(drop).table)  # money in and out, from the holdings
    return drop


def build_pools(seed: int, customers: int) -> Pools:
    """Names, brands and outside employers from Faker zh_CN, seeded once (never called per row: too slow)."""
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    rng = random.Random(f"xiaodai-demo:{seed}:pools")
    surnames = [fake.last_name() for _ in range(4000)]  # drawn by Faker's frequency weights
    male_given = sorted({fake.first_name_male() for _ in range(600)})
    female_given = sorted({fake.first_name_female() for _ in range(600)})
    # Names repeat in a real book too; the pool grows with the book so that small demos build fast.
    size = max(800, min(20_000, customers // 8))
    male = tuple(_person(rng, surnames, male_given, "".join(male_given)) for _ in range(size))
    female = tuple(_person(rng, surnames, female_given, "".join(female_given)) for _ in range(size))

    prefixes = sorted({p for p in (fake.company_prefix() for _ in range(600)) if _CJK.match(p)})
    prefixes = [p for p in prefixes if not _BANNED_BRAND.search(p)]
    chars = sorted({ch for p in prefixes for ch in p})
    brands = set(prefixes)
    while len(brands) < 600:
        brands.add(rng.choice(chars) + rng.choice(chars))
    other = sorted(
        {
            f"杭州{rng.choice(prefixes)}{rng.choice(k.words)}有限公司"
            for k in ref.ENTERPRISE_KINDS[3:]
            for _ in range(60)
        }
    )
    return Pools(male, female, tuple(sorted(brands)), tuple(other))


def _person(rng: random.Random, surnames: list[str], given_names: list[str], chars: str) -> PersonName:
    surname = rng.choice(surnames)
    u = rng.random()
    if u < 0.35:
        given = rng.choice(given_names)
    else:  # two characters drawn from the pool's characters, the most common shape of a given name
        given = rng.choice(chars) + ("" if u < 0.45 else rng.choice(chars))
    name = surname + given
    pinyin, initials = search_keys(name)
    return PersonName(name, surname, pinyin, initials)


def _org(
    rng: random.Random, pools: Pools, branch: BranchRow, subs: tuple[SubBranchRow, ...]
) -> tuple[tuple[TeamRow, ...], tuple[StaffRow, ...]]:
    """Branch-level staff, then per sub-branch a strike (攻坚) team, a follow-up (跟进) team and the lobby
    and wealth desks. The demo logins sit in 西湖支行, with `manager` in `lead`'s team."""
    teams: list[TeamRow] = []
    staff: list[StaffRow] = []

    def add(role: str, line: str, sub: SubBranchRow | None, team: TeamRow | None, username: str = "") -> None:
        n = len(staff) + 1
        person = rng.choice(pools.male if rng.random() < 0.5 else pools.female)
        staff.append(
            StaffRow(
                employee_no=f"HZ{n:04d}",
                username=username or f"s{n:04d}",
                name=person.name,
                role=role,
                business_line=line,
                branch_code=branch.code,
                sub_branch_code=sub.code if sub else None,
                team_name=team.name if team else None,
                daily_capacity=_CAPACITY.get(role, 20),
            )
        )

    add(Role.BRANCH_HEAD, BusinessLine.RETAIL, None, None, DEMO_USERNAMES[Role.BRANCH_HEAD])
    add(Role.BRANCH_HEAD, BusinessLine.RETAIL_LOAN, None, None)  # the retail deputy (零售副行长)
    add(Role.OPS_ADMIN, BusinessLine.RETAIL, None, None, DEMO_USERNAMES[Role.OPS_ADMIN])
    add(Role.AUDITOR, BusinessLine.RETAIL, None, None, DEMO_USERNAMES[Role.AUDITOR])
    for sub, district in zip(subs, ref.DISTRICTS, strict=True):
        demo = district.key == "xihu"
        big = district.share >= 0.18  # the larger sub-branches carry an extra manager and telemarketer

        def login(role: str, demo: bool = demo) -> str:
            return DEMO_USERNAMES[role] if demo else ""

        strike = TeamRow(f"{district.short}攻坚队", TeamKind.STRIKE, branch.code, sub.code)
        follow = TeamRow(f"{district.short}跟进队", TeamKind.FOLLOW_UP, branch.code, sub.code)
        teams += [strike, follow]
        add(Role.TEAM_LEAD, BusinessLine.RETAIL_LOAN, sub, strike, login(Role.TEAM_LEAD))
        add(Role.LOAN_MANAGER, BusinessLine.RETAIL_LOAN, sub, strike, login(Role.LOAN_MANAGER))
        if big:
            add(Role.LOAN_MANAGER, BusinessLine.RETAIL_LOAN, sub, strike)
        add(Role.CORPORATE_RM, BusinessLine.CORPORATE, sub, strike, login(Role.CORPORATE_RM))
        add(Role.TEAM_LEAD, BusinessLine.RETAIL_LOAN, sub, follow)
        card = district.key in ("binjiang", "yuhang")  # card-line telemarketers sell through card holders
        add(
            Role.TELEMARKETER,
            BusinessLine.CARD if card else BusinessLine.RETAIL_LOAN,
            sub,
            follow,
            login(Role.TELEMARKETER),
        )
        if big:
            add(Role.TELEMARKETER, BusinessLine.RETAIL_LOAN, sub, follow)
        add(Role.LOAN_MANAGER, BusinessLine.RETAIL_LOAN, sub, follow)
        add(Role.LOBBY_MANAGER, BusinessLine.RETAIL, sub, None, login(Role.LOBBY_MANAGER))
        add(Role.WEALTH_ADVISOR, BusinessLine.WEALTH, sub, None, login(Role.WEALTH_ADVISOR))
    # Last and on a restored random state: everyone and everything drawn after (the enterprises, the book)
    # stays what the seed gave before the post-loan role existed.
    state = rng.getstate()
    add(Role.POST_LOAN, BusinessLine.RETAIL_LOAN, None, None, DEMO_USERNAMES[Role.POST_LOAN])  # 贷后管理
    rng.setstate(state)
    return tuple(teams), tuple(staff)


_CN_NUM = "一二三四五六七八九十"


def _enterprises(
    rng: random.Random, pools: Pools, branch: BranchRow, count: int
) -> tuple[EnterpriseRow, ...]:
    """Employers in the branch's districts; public bodies are mostly payroll (代发) partners."""
    kinds = ref.ENTERPRISE_KINDS
    kind_weights = [k.share for k in kinds]
    district_weights = [d.share for d in ref.DISTRICTS]
    names: set[str] = set()
    codes: set[str] = set()
    rows: list[EnterpriseRow] = []
    while len(rows) < count:
        kind = rng.choices(kinds, kind_weights)[0]
        district = rng.choices(ref.DISTRICTS, district_weights)[0]
        name = _enterprise_name(rng, pools, kind, district)
        if name in names:
            continue
        names.add(name)
        public = kind.key in ("gov", "edu", "health")
        # Unified social credit code: authority+type (11 organ, 12 public institution, 91 company),
        # the district, a 9-character organisation code with its own check digit, then the USCC check.
        org8 = f"{rng.randrange(10**8):08d}"
        head = ("11" if kind.key == "gov" else "12") if public else "91"
        body = f"{head}{district.region_codes[0]}{org8}{_org_code_check(org8)}"
        code = body + uscc.calc_check_digit(body)
        if code in codes:
            continue
        codes.add(code)
        low, high = kind.size
        employees = int(low * (high / low) ** rng.random())
        rows.append(
            EnterpriseRow(
                code=code,
                name=name,
                industry=kind.industry,
                employee_count=employees,
                is_payroll_partner=rng.random() < kind.payroll_odds,
                branch_code=branch.code,
            )
        )
    return tuple(rows)


def _enterprise_name(
    rng: random.Random, pools: Pools, kind: ref.EnterpriseKind, district: ref.District
) -> str:
    if kind.key == "gov":
        return f"杭州市{district.name}{rng.choice(ref.GOV_DEPARTMENTS)}"
    if kind.key == "edu":
        school = rng.choice(ref.SCHOOL_KINDS)
        if rng.random() < 0.5:
            return f"杭州市{district.name}第{rng.choice(_CN_NUM)}{school}"
        return f"杭州市{district.name}{rng.choice(ref.COMPOUND_HEADS)}{school}"
    if kind.key == "health":
        hospital = rng.choice(ref.HOSPITAL_KINDS)
        if hospital == "人民医院":
            return f"杭州市{district.name}第{rng.choice(_CN_NUM)}人民医院"
        return f"杭州市{district.name}{rng.choice(ref.COMPOUND_HEADS)}{hospital}"
    return f"杭州{rng.choice(pools.brands)}{rng.choice(kind.words)}有限公司"


def _org_code_check(code8: str) -> str:
    """GB 11714 check character of an organisation code."""
    total = sum(int(ch) * w for ch, w in zip(code8, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)
