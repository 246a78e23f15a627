"""factory_boy factories for the org and customer models. Valid IDs and mobiles by construction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth.models import User
from django.utils import timezone
from stdnum.cn import ric

from xiaodai.core.roles import Role
from xiaodai.customers import models as cm
from xiaodai.customers.services import search_keys
from xiaodai.org import models as om

PASSWORD = "correct-horse-battery-9"


def make_id_number(birth: dt.date, seq: int, gender: str) -> str:
    """A resident ID with a valid GB 11643 check digit (odd sequence digit = male)."""
    seq3 = (seq % 500) * 2 + (1 if gender == "M" else 0)
    body = f"110105{birth:%Y%m%d}{seq3 % 1000:03d}"
    return body + ric.calc_check_digit(body)


class BankFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = om.Bank
        django_get_or_create = ("code",)

    code = "TESTBANK"
    name = "测试银行"


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = om.Branch

    bank = factory.SubFactory(BankFactory)
    code = factory.Sequence(lambda n: f"BR{n:03d}")
    name = factory.Sequence(lambda n: f"第{n}分行")
    city = "北京"


class SubBranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = om.SubBranch

    branch = factory.SubFactory(BranchFactory)
    code = factory.Sequence(lambda n: f"SB{n:04d}")
    name = factory.Sequence(lambda n: f"朝阳第{n}支行")
    district = "朝阳区"


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = om.Team

    branch = factory.SelfAttribute("sub_branch.branch")
    sub_branch = factory.SubFactory(SubBranchFactory)
    name = factory.Sequence(lambda n: f"团队{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password(PASSWORD)


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = om.Staff

    user = factory.SubFactory(UserFactory)
    employee_no = factory.Sequence(lambda n: f"E{n:05d}")
    name = factory.Sequence(lambda n: f"员工{n}")
    branch = factory.SubFactory(BranchFactory)
    sub_branch = None
    team = None
    role = Role.LOAN_MANAGER
    business_line = "retail_loan"


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.Customer

    customer_no = factory.Sequence(lambda n: f"C{n + 1:010d}")
    name = "张三"
    name_pinyin = factory.LazyAttribute(lambda o: search_keys(o.name)[0])
    name_initials = factory.LazyAttribute(lambda o: search_keys(o.name)[1])
    gender = "M"
    birth_date = dt.date(1988, 5, 17)
    id_number = factory.Sequence(lambda n: make_id_number(dt.date(1988, 5, 17), n, "M"))
    occupation = "工程师"
    address = "北京市朝阳区建国路88号3单元501"
    district = "朝阳区"
    branch = factory.SelfAttribute("sub_branch.branch")
    sub_branch = factory.SubFactory(SubBranchFactory)
    owner = None
    opened_on = dt.date(2015, 3, 1)
    monthly_income = Decimal("18000.00")
    aum = Decimal("0.00")


class ContactPointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.ContactPoint

    customer = factory.SubFactory(CustomerFactory)
    kind = "mobile"
    value = factory.Sequence(lambda n: f"1380013{n % 10000:04d}")
    is_primary = True


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.Consent

    customer = factory.SubFactory(CustomerFactory)
    purpose = "marketing"
    channel = "phone"
    granted = True
    recorded_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=30))
    source = "counter"
    wording_version = "MKT-2025.1"


class CreditLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.CreditLine

    customer = factory.SubFactory(CustomerFactory)
    line_no = factory.Sequence(lambda n: f"CL{n:010d}")
    product = "薪易贷"
    limit = Decimal("200000.00")
    drawn = Decimal("0.00")
    approved_on = dt.date(2026, 6, 1)
    expires_on = dt.date(2027, 6, 1)
    rate = Decimal("3.4500")
    apr = Decimal("3.5000")
    status = "active"


class LoanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.Loan

    customer = factory.SubFactory(CustomerFactory)
    loan_no = factory.Sequence(lambda n: f"LN{n:010d}")
    kind = "consumer"
    product = "消费贷"
    amount = Decimal("100000.00")
    balance = Decimal("80000.00")
    rate = Decimal("3.6000")
    apr = Decimal("3.6500")
    status = "normal"
    disbursed_on = dt.date(2026, 1, 10)
    matures_on = dt.date(2029, 1, 10)


def attrs(**kwargs: Any) -> dict[str, Any]:
    return kwargs


class OptOutFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.OptOut

    customer = factory.SubFactory(CustomerFactory)
    channel = "phone"
    recorded_at = factory.LazyFunction(timezone.now)
    reason = "客户要求不再致电"
    source = "phone"
