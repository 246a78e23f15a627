"""The customer book of the demo branch, generated a chunk at a time.

Each chunk draws from its own `random.Random` seeded by (seed, chunk number), so the book is the same on
every run. ID numbers are unique by construction: a small counter per (birthplace, birth date, gender)
hands out the sequence digits, and mobile numbers come from a bijection of the customer number.
"""

from __future__ import annotations

import math
import random
from array import array
from bisect import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate
from typing import TYPE_CHECKING, Generic, TypeVar

from stdnum import numdb
from stdnum.cn import ric

from xiaodai.core.roles import Role
from xiaodai.customers import choices as c
from xiaodai.demo import holdings as h
from xiaodai.demo import reference as ref
from xiaodai.demo.rows import (
    ConsentRow,
    ContactRow,
    CustomerChunk,
    CustomerRow,
    EnterpriseRow,
    OptOutRow,
    StaffRow,
)

if TYPE_CHECKING:
    from xiaodai.demo.generator import Drop

T = TypeVar("T")


@dataclass(frozen=True)
class PersonName:
    name: str
    surname: str
    pinyin: str
    initials: str


@dataclass(frozen=True)
class Pools:
    """What Faker contributes, drawn once per seed: names with their search keys, brands, other employers."""

    male: tuple[PersonName, ...]
    female: tuple[PersonName, ...]
    brands: tuple[str, ...]
    other_employers: tuple[str, ...]


class Weighted(Generic[T]):
    """Fast repeated weighted choice (random.choices recomputes the cumulative weights every call)."""

    def __init__(self, items: Iterable[tuple[T, float]]) -> None:
        pairs = list(items)
        self.items = [item for item, _ in pairs]
        self.cum = list(accumulate(float(w) for _, w in pairs))

    def pick(self, r: random.Random) -> T:
        return self.items[bisect(self.cum, r.random() * self.cum[-1])]


_MARKETING_CHANNELS: tuple[tuple[str, float], ...] = (
    (c.Channel.PHONE, 0.7),
    (c.Channel.SMS, 0.8),
    (c.Channel.VISIT, 0.35),
    (c.Channel.WECHAT, 0.45),
)
_SOURCES: Weighted[str] = Weighted(
    (
        (c.ConsentSource.COUNTER, 35),
        (c.ConsentSource.MOBILE_BANK, 35),
        (c.ConsentSource.PAPER, 15),
        (c.ConsentSource.PHONE, 5),
        (c.ConsentSource.IMPORT, 10),
    )
)
# Marketing-consent wording changed with PIPL (1 Nov 2021) and again in 2024.
_WORDINGS: tuple[tuple[date, str], ...] = (
    (date(2021, 11, 1), "营销授权书 v2019.3"),
    (date(2024, 6, 1), "营销授权书 v2021.11"),
    (date.max, "营销授权书 v2024.6"),
)
_OWNER_ROLES: Weighted[str] = Weighted(
    (
        (Role.LOAN_MANAGER, 40),
        (Role.TELEMARKETER, 30),
        (Role.LOBBY_MANAGER, 12),
        (Role.WEALTH_ADVISOR, 8),
        (Role.TEAM_LEAD, 6),
        (Role.CORPORATE_RM, 4),
    )
)
_BY_AGE = [(top, Weighted(weights)) for top, weights in ref.OCCUPATION_BY_AGE]
_SEQ_SLOTS = 499  # sequence pairs per (birthplace, birth date, gender): odd digit male, even female


class CustomerMaker:
    """Generates the drop's customers chunk by chunk; holds only the pools and small lookup tables."""

    def __init__(self, drop: Drop, pools: Pools) -> None:
        self.drop = drop
        self.pools = pools
        self.last = drop.as_of - timedelta(days=1)  # a T+1 drop: events up to the day before as_of
        self.subs = drop.sub_branches
        self.district_pick = Weighted(
            [(s.code, d.share) for s, d in zip(self.subs, ref.DISTRICTS, strict=True)]
        )
        self.district_of = {s.code: d for s, d in zip(self.subs, ref.DISTRICTS, strict=True)}
        self.front_line = [s for s in drop.staff if s.role in FRONT_LINE_ROLES and s.sub_branch_code]
        self.staff_by_sub_role: dict[tuple[str, str], list[StaffRow]] = {}
        for s in self.front_line:
            self.staff_by_sub_role.setdefault((s.sub_branch_code or "", s.role), []).append(s)
        self.enterprises_by_kind: dict[str, tuple[list[EnterpriseRow], list[int]]] = {}
        kind_of_industry = {k.industry: k.key for k in ref.ENTERPRISE_KINDS}
        for e in drop.enterprises:
            rows, cum = self.enterprises_by_kind.setdefault(kind_of_industry[e.industry], ([], []))
            rows.append(e)
            cum.append((cum[-1] if cum else 0) + e.employee_count)  # big employers have more staff with us
        self.mobile_prefix = Weighted(ref.MOBILE_PREFIXES)
        self.age_bands = Weighted(((lo, hi), w) for lo, hi, w in ref.AGE_BANDS)
        keys = random.Random(f"xiaodai-demo:{drop.seed}:mobile")
        self.feistel_keys = [keys.randrange(10**6) for _ in range(4)]
        self._init_birthplaces()

    # -- identity -------------------------------------------------------------------------------------

    def _init_birthplaces(self) -> None:
        """For each district and birth year, the region codes stdnum accepts for that year."""
        self.oldest = h.shift_years(self.drop.as_of, -76) + timedelta(days=1)
        youngest = h.shift_years(self.drop.as_of, -18)
        self.n_days = (youngest - self.oldest).days + 1
        codes = sorted(
            {code for d in ref.DISTRICTS for code in d.region_codes} | set(ref.ORIGIN_REGION_CODES)
        )
        codes.append(ref.CITY_REGION_CODE)
        self.code_index = {code: n for n, code in enumerate(codes)}
        years = range(self.oldest.year, youngest.year + 1)

        spans = {code: _years_in_force(code) for code in codes}

        def valid(code: str, year: int) -> bool:
            return any(start <= year <= end for start, end in spans[code])

        self.local_codes = {
            (d.key, y): [code for code in d.region_codes if valid(code, y)] or [ref.CITY_REGION_CODE]
            for d in ref.DISTRICTS
            for y in years
        }
        self.origin_codes = {
            y: [code for code in ref.ORIGIN_REGION_CODES if valid(code, y)] or [ref.CITY_REGION_CODE]
            for y in years
        }
        # Where a birth is registered instead when a (place, day, gender) has used all its sequence numbers.
        self.overflow = {y: [code for code in codes if valid(code, y)] for y in years}

    def _id_number(self, seq_counts: array[int], code: str, birth: date, male: bool) -> str:
        day = (birth - self.oldest).days
        for place in (code, *self.overflow[birth.year]):
            cell = (self.code_index[place] * self.n_days + day) * 2 + male
            k = seq_counts[cell]
            if k < _SEQ_SLOTS:
                break
        else:  # pragma: no cover - some sixty places times 499 people born on one day
            raise RuntimeError(f"no sequence numbers left for {birth}")
        seq_counts[cell] = k + 1
        code = place
        pair = (k * 173 + cell * 7919) % _SEQ_SLOTS + 1  # a scattered, never-repeating order per cell
        order = pair * 2 - 1 if male else pair * 2
        body = f"{code}{birth:%Y%m%d}{order:03d}"
        return body + ric.calc_check_digit(body + "0")

    def mobile(self, r: random.Random, n: int) -> str:
        # The eight digits after the prefix are a bijection of n (a small Feistel network over two halves
        # of four digits), so no two customers share a number and neighbours do not look alike. Customer
        # seq has n = 2*seq and 2*seq+1; leads who are not customers take numbers past the book.
        left, right = divmod(n % 100_000_000, 10_000)
        for key in self.feistel_keys:
            left, right = right, (left + (right * 7_919 + key) * 2_654_435_761 // 65_536) % 10_000
        return f"{self.mobile_prefix.pick(r)}{left:04d}{right:04d}"

    # -- the stream -----------------------------------------------------------------------------------

    def chunks(self) -> Iterator[CustomerChunk]:
        total, size = self.drop.customer_count, self.drop.chunk_size
        seq_counts = array("H", bytes(2 * len(self.code_index) * self.n_days * 2))
        for number, start in enumerate(range(0, total, size)):
            r = random.Random(f"xiaodai-demo:{self.drop.seed}:customers:{number}")
            chunk = CustomerChunk()
            for i in range(start, min(start + size, total)):
                self._customer(r, seq_counts, i, chunk)
            yield chunk

    def _customer(self, r: random.Random, seq_counts: array[int], i: int, out: CustomerChunk) -> None:
        seq = i + 1
        forced_owner = self.front_line[i] if i < len(self.front_line) else None
        sub_code = forced_owner.sub_branch_code if forced_owner else None
        sub_code = sub_code or self.district_pick.pick(r)
        district = self.district_of[sub_code]
        male = r.random() < 0.49
        low, high = self.age_bands.pick(r)
        age = r.randint(low, high)
        top = h.shift_years(self.drop.as_of, -age)
        birth = top - timedelta(days=r.randrange((top - h.shift_years(top, -1)).days))
        new_citizen = 22 <= age <= 50 and r.random() < 0.22
        if new_citizen or r.random() < 0.12:
            code = r.choice(self.origin_codes[birth.year])
        else:
            options = self.local_codes[(district.key, birth.year)]
            code = options[0] if len(options) == 1 or r.random() < 0.75 else r.choice(options[1:])
        id_number = self._id_number(seq_counts, code, birth, male)
        person = r.choice(self.pools.male if male else self.pools.female)

        occupation = next(w for top_age, w in _BY_AGE if age <= top_age).pick(r)
        if not male and 50 <= age < 60 and r.random() < 0.45:
            occupation = "退休人员"  # women retire at 50-55 on the old scheme
        job = ref.OCCUPATIONS[occupation]
        income = self._income(r, job, age)
        employer, payroll_code = self._employer(r, job, person)
        payroll = payroll_code is not None
        if payroll:
            income += r.randrange(100)  # payroll amounts are exact to the cent; estimates are round
        earliest = max(h.shift_years(birth, 18), h.shift_years(self.last, -6 if new_citizen else -25))
        opened = h.between(r, earliest, self.last - timedelta(days=7))
        if opened > self.last:
            opened = self.last

        profile = h.Profile(
            seq=seq,
            customer_no=f"C57{seq:08d}",
            age=age,
            female=not male,
            occupation=occupation,
            employer_kind=job.employer,
            income=income,
            payroll=payroll,
            new_citizen=new_citizen,
            opened_on=opened,
            sub_code=sub_code,
            owner_no=None,
        )
        last = self.last
        h.deposits(r, profile, last, out)
        owner = forced_owner
        if owner is None and r.random() < 0.88:
            owner = self._owner(r, sub_code, payroll, profile.aum)
        profile.owner_no = owner.employee_no if owner else None
        h.mortgage(r, profile, last, out)
        h.business_loan(r, profile, last, out)
        h.credit_lines(r, profile, last, out)
        h.past_consumer_loan(r, profile, last, out)
        h.card(r, profile, last, out)
        h.applications(r, profile, last, out, i if i < len(h.APPLICATION_SHAPES) else None)
        self._contacts(r, profile, person, birth, out)
        self._consents(r, profile, owner, out)

        out.customers.append(
            CustomerRow(
                customer_no=profile.customer_no,
                name=person.name,
                name_pinyin=person.pinyin,
                name_initials=person.initials,
                gender=c.Gender.MALE if male else c.Gender.FEMALE,
                birth_date=birth,
                id_number=id_number,
                occupation=occupation,
                employer_name=employer,
                payroll_enterprise_code=payroll_code,
                monthly_income=h.money(income),
                address=self._address(r, district),
                district=district.name,
                branch_code=self.drop.branch.code,
                sub_branch_code=sub_code,
                owner_employee_no=profile.owner_no,
                aum=h.money(profile.aum),
                is_vulnerable=r.random() < (0.04 if age >= 70 else 0.003),
                no_personalised_marketing=r.random() < 0.01,
                opened_on=opened,
                tag_codes=self._tags(r, profile),
            )
        )

    # -- profile --------------------------------------------------------------------------------------

    @staticmethod
    def _income(r: random.Random, job: ref.Occupation, age: int) -> int:
        """Monthly income in cents: the occupation's median, shaped by age, log-normally spread."""
        if job.median_income == 0:  # students: nothing, or a part-time job
            return 0 if r.random() < 0.8 else r.randint(15, 30) * 10_000
        factor = next((f for top, f in ref.AGE_INCOME_FACTOR if age <= top), 1.0)
        floor = 2_000 if job.name == "退休人员" else 2_500  # the pension and the minimum wage
        yuan = max(floor, job.median_income * factor * math.exp(r.gauss(0, job.spread)))
        return round(yuan / 100) * 10_000

    def _employer(self, r: random.Random, job: ref.Occupation, person: PersonName) -> tuple[str, str | None]:
        """The employer's name and, for staff of a payroll partner paid through us, its code."""
        kind = job.employer
        if kind == "self":
            return f"{person.surname}记{r.choice(ref.SHOP_KINDS)}", None
        if kind == "owner":
            if r.random() < 0.4:
                for_kind = r.choice(("corp", "factory", "tech", "construction"))
                if for_kind in self.enterprises_by_kind:
                    return self._pick_enterprise(r, for_kind).name, None
            return r.choice(self.pools.other_employers), None
        if not kind:
            return "", None
        public = kind in ("gov", "edu", "health")
        if kind in self.enterprises_by_kind and (public or r.random() < 0.7):
            enterprise = self._pick_enterprise(r, kind)
            if enterprise.is_payroll_partner and r.random() < 0.8:
                return enterprise.name, enterprise.code
            return enterprise.name, None
        return r.choice(self.pools.other_employers), None

    def _pick_enterprise(self, r: random.Random, kind: str) -> EnterpriseRow:
        rows, cum = self.enterprises_by_kind[kind]
        return rows[bisect(cum, r.random() * cum[-1])]

    def _owner(self, r: random.Random, sub_code: str, payroll: bool, aum: int) -> StaffRow | None:
        """Wealth advisors take the rich, corporate RMs some payroll staff; the loan team the rest."""
        role = _OWNER_ROLES.pick(r)
        if aum >= 100_000_000 and r.random() < 0.6:
            role = Role.WEALTH_ADVISOR
        elif payroll and r.random() < 0.3:
            role = Role.CORPORATE_RM
        staff = self.staff_by_sub_role.get((sub_code, role)) or self.staff_by_sub_role.get(
            (sub_code, Role.LOAN_MANAGER)
        )
        return r.choice(staff) if staff else None

    @staticmethod
    def _address(r: random.Random, district: ref.District) -> str:
        compound = r.choice(ref.COMPOUND_HEADS) + r.choice(ref.COMPOUND_TAILS)
        return (
            f"{ref.PROVINCE}{ref.CITY}市{district.name}{r.choice(district.roads)}{r.randint(1, 699)}号"
            f"{compound}{r.randint(1, 32)}幢{r.randint(1, 4)}单元{r.randint(1, 28)}{r.randint(1, 4):02d}室"
        )

    # -- contact, consent, tags -----------------------------------------------------------------------

    def _contacts(
        self, r: random.Random, p: h.Profile, person: PersonName, birth: date, out: CustomerChunk
    ) -> None:
        out.contacts.append(ContactRow(p.customer_no, c.ContactKind.MOBILE, self.mobile(r, 2 * p.seq), True))
        if r.random() < 0.06:
            out.contacts.append(
                ContactRow(p.customer_no, c.ContactKind.MOBILE, self.mobile(r, 2 * p.seq + 1), False)
            )
        if r.random() < 0.08:
            number = f"0571-{r.choice('88885526')}{r.randrange(10**7):07d}"
            out.contacts.append(ContactRow(p.customer_no, c.ContactKind.LANDLINE, number, False))
        if r.random() < 0.12:
            if r.random() < 0.4:
                email = f"{r.randrange(10**7, 10**10)}@qq.com"
            else:
                email = f"{person.pinyin}{birth:%y}@{r.choice(ref.EMAIL_DOMAINS)}"
            out.contacts.append(ContactRow(p.customer_no, c.ContactKind.EMAIL, email, False))

    def _collector(self, r: random.Random, p: h.Profile, owner: StaffRow | None, source: str) -> str | None:
        """Who took the consent: the owner, else a lobby manager (counter, paper) or a telemarketer."""
        if source in (c.ConsentSource.MOBILE_BANK, c.ConsentSource.IMPORT):
            return None
        if owner is not None and (source != c.ConsentSource.PHONE or owner.role == Role.TELEMARKETER):
            return owner.employee_no
        role = Role.TELEMARKETER if source == c.ConsentSource.PHONE else Role.LOBBY_MANAGER
        staff = self.staff_by_sub_role.get((p.sub_code, role))
        return r.choice(staff).employee_no if staff else None

    def _consents(self, r: random.Random, p: h.Profile, owner: StaffRow | None, out: CustomerChunk) -> None:
        """Marketing consent per channel with its evidence; some withdrawn later (a second record and an
        opt-out, as the consent service does), some expired, about a fifth never asked; a few opt-outs."""
        if r.random() >= 0.22:
            channels = [ch for ch, odds in _MARKETING_CHANNELS if r.random() < odds] or [c.Channel.SMS]
            day = h.between(r, p.opened_on, self.last)
            when = h.at(day, r)
            source = _SOURCES.pick(r)
            collector = self._collector(r, p, owner, source)
            wording = next(text for until, text in _WORDINGS if day < until)
            expires = when + timedelta(days=730) if r.random() < 0.25 else None
            sub = p.sub_code if collector else None
            for channel in channels:
                out.consents.append(
                    ConsentRow(
                        p.customer_no,
                        c.ConsentPurpose.MARKETING,
                        channel,
                        True,
                        when,
                        source,
                        wording,
                        collector,
                        sub,
                        expires,
                    )
                )
            for channel in channels:
                if r.random() >= 0.05:
                    continue
                gone = h.at(h.between(r, min(day + timedelta(days=1), self.last), self.last), r)
                how = c.ConsentSource.PHONE if r.random() < 0.5 else c.ConsentSource.MOBILE_BANK
                taker = self._collector(r, p, owner, how)
                out.consents.append(
                    ConsentRow(
                        p.customer_no,
                        c.ConsentPurpose.MARKETING,
                        channel,
                        False,
                        max(gone, when + timedelta(hours=1)),
                        how,
                        wording,
                        taker,
                        p.sub_code if taker else None,
                        None,
                    )
                )
                out.opt_outs.append(
                    OptOutRow(
                        p.customer_no,
                        channel,
                        max(gone, when + timedelta(hours=1)),
                        "consent withdrawn",
                        how,
                        taker,
                    )
                )
        u = r.random()
        if u < 0.015:  # asked never to be contacted, on any channel
            when = h.at(h.between(r, p.opened_on, self.last), r)
            taker = self._collector(r, p, owner, c.ConsentSource.PHONE)
            out.opt_outs.append(
                OptOutRow(
                    p.customer_no, "", when, r.choice(ref.OPT_OUT_REASONS), c.ConsentSource.PHONE, taker
                )
            )
        elif u < 0.02:  # replied TD to a text message; arrives with the bank's data
            when = h.at(h.between(r, p.opened_on, self.last), r)
            out.opt_outs.append(
                OptOutRow(p.customer_no, c.Channel.SMS, when, "短信回复TD退订", c.ConsentSource.IMPORT, None)
            )

    @staticmethod
    def _tags(r: random.Random, p: h.Profile) -> tuple[str, ...]:
        """Segments follow from the data; circles (圈层) mix data and likelihood."""
        job = p.occupation
        yuan = p.income // 100
        tags: list[str] = []
        if p.payroll:
            tags.append("seg_payroll")
        if p.mortgage_active:
            tags.append("seg_mortgage")
        if p.aum >= 100_000_000:
            tags.append("seg_hnw")
        elif p.aum >= 20_000_000:
            tags.append("seg_affluent")
        if p.new_citizen:
            tags.append("seg_new_citizen")
        if job in ("个体工商户", "私营企业主"):
            tags.append("seg_micro_business")
        if p.age >= 60:
            tags.append("seg_senior")
        elif p.age <= 30:
            tags.append("seg_youth")
        if 22 <= p.age <= 65 and r.random() < (0.15 + min(0.5, yuan / 30_000)) * (
            0.6 if p.new_citizen else 1
        ):
            tags.append("circle_car_owner")
        home_odds = 0.25 + 0.3 * (p.age > 40) + 0.2 * (p.aum > 50_000_000)
        if p.mortgage_ever or (not p.new_citizen and r.random() < home_odds):
            tags.append("circle_home_owner")
        if p.female and 25 <= p.age <= 42 and r.random() < 0.35:
            tags.append("circle_mum")
        circle = {"教师": "circle_teacher", "医生": "circle_medical", "护士": "circle_medical"}.get(job)
        if circle:
            tags.append(circle)
        if job == "公务员":
            tags.append("circle_civil_servant")
        if job in ("企业职员", "工程师", "金融从业人员", "销售人员") and yuan >= 8_000:
            tags.append("circle_white_collar")
        if job in ("工程师", "企业管理人员", "金融从业人员", "医生") and yuan >= 30_000:
            tags.append("circle_gold_collar")
        if job == "私营企业主":
            tags.append("circle_business_owner")
        if 24 <= p.age <= 33 and r.random() < 0.08:
            tags.append("circle_newlywed")
        return tuple(tags)


def _years_in_force(code: str) -> list[tuple[int, int]]:
    """The birth years for which stdnum's table accepts a region code (the same rule `ric.validate` applies:
    codes were created, renamed and retired over the years)."""
    info = {k: v for _, props in numdb.get("cn/loc").info(code) for k, v in props.items()}
    spans = []
    for county in info.get("county", "").split(","):
        if not county:
            continue
        if not county.startswith("["):
            return [(0, 9999)]
        start, end = county[1:].split("]", 1)[0].split("-")
        spans.append((int(start or 0), int(end or 9999)))
    return spans


FRONT_LINE_ROLES: frozenset[str] = frozenset(
    {
        Role.LOAN_MANAGER,
        Role.TELEMARKETER,
        Role.LOBBY_MANAGER,
        Role.CORPORATE_RM,
        Role.WEALTH_ADVISOR,
        Role.TEAM_LEAD,
    }
)
