"""build_demo(): what lands in the database, who can log in and see what, and loading only once."""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import F, Q, Sum
from stdnum.cn import ric

from xiaodai.audit.choices import Action
from xiaodai.audit.models import AuditEvent
from xiaodai.core.roles import Role
from xiaodai.customers import choices as c
from xiaodai.customers.models import (
    Application,
    Consent,
    ContactPoint,
    CreditLine,
    Customer,
    Loan,
    OptOut,
)
from xiaodai.customers.services import search_keys
from xiaodai.customers.validators import validate_mobile
from xiaodai.demo import DEMO_PASSWORD, DemoError, DemoResult, build_demo
from xiaodai.demo.generator import DEMO_USERNAMES
from xiaodai.demo.tests.conftest import AS_OF, SMALL

pytestmark = pytest.mark.django_db


def _table_digest() -> str:
    """Business content of a few tables, ordered by business key (ids and load timestamps left out)."""
    h = hashlib.sha256()
    for qs in (
        Customer.objects.order_by("customer_no").values_list(
            "customer_no",
            "name",
            "id_number",
            "birth_date",
            "monthly_income",
            "aum",
            "owner__employee_no",
            "sub_branch__code",
            "address",
            "opened_on",
        ),
        CreditLine.objects.order_by("line_no").values_list(
            "line_no", "customer__customer_no", "limit", "drawn", "apr"
        ),
        Loan.objects.order_by("loan_no").values_list("loan_no", "kind", "balance", "status", "overdue_days"),
        Consent.objects.order_by(
            "customer__customer_no", "recorded_at", "purpose", "channel", "granted"
        ).values_list(
            "customer__customer_no", "purpose", "channel", "granted", "recorded_at", "collector__employee_no"
        ),
        ContactPoint.objects.order_by("customer__customer_no", "value").values_list(
            "customer__customer_no", "value"
        ),
        User.objects.order_by("username").values_list("username", "password", "staff__role"),
    ):
        for row in qs:
            h.update(repr(row).encode())
    return h.hexdigest()


def _wipe() -> None:
    """Raw deletes: consent and opt-out records refuse ORM deletes by design (C-07)."""
    from django.apps import apps

    tables = [
        m._meta.db_table
        for app in ("ingest", "customers", "org", "audit")
        for m in apps.get_app_config(app).get_models()
    ]
    tables += [Customer.tags.through._meta.db_table, User._meta.db_table]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")  # noqa: S608 - our table names


def test_same_seed_loads_identical_data(demo: DemoResult) -> None:
    first = _table_digest()
    _wipe()
    build_demo(customers=SMALL, seed=7, as_of=AS_OF)
    assert _table_digest() == first


def test_counts_match_the_database(demo: DemoResult) -> None:
    assert demo.counts["customers"] == Customer.objects.count() == SMALL
    assert demo.counts["consents"] == Consent.objects.count()
    assert demo.counts["customer_tags"] == Customer.tags.through.objects.count()


def test_id_numbers_pass_ric_and_match_birth_date_and_gender(demo: DemoResult) -> None:
    for id_number, birth, gender in Customer.objects.values_list("id_number", "birth_date", "gender"):
        ric.validate(id_number)
        assert ric.get_birth_date(id_number) == birth
        assert int(id_number[16]) % 2 == (gender == c.Gender.MALE)


def test_every_customer_has_a_valid_primary_mobile_with_its_tail(demo: DemoResult) -> None:
    mobiles = ContactPoint.objects.filter(kind=c.ContactKind.MOBILE)
    for value, tail in mobiles.values_list("value", "tail"):
        validate_mobile(value)
        assert tail == value[-4:]
    assert mobiles.filter(is_primary=True).values("customer").distinct().count() == SMALL


def test_names_carry_pinyin_search_keys(demo: DemoResult) -> None:
    for name, pinyin, initials, number in Customer.objects.values_list(
        "name", "name_pinyin", "name_initials", "customer_no"
    ):
        assert (pinyin, initials) == search_keys(name)
        assert re.fullmatch(r"C\d{10}", number)


def test_drawn_within_limit_and_apr_never_below_rate(demo: DemoResult) -> None:
    assert CreditLine.objects.exists()
    assert not CreditLine.objects.filter(Q(drawn__gt=F("limit")) | Q(apr__lt=F("rate"))).exists()
    assert not Loan.objects.filter(Q(apr__lt=F("rate")) | Q(balance__gt=F("amount"))).exists()
    assert CreditLine.objects.filter(drawn=0, status=c.CreditLineStatus.ACTIVE).exists()  # 已授信未用信


def test_aum_is_the_sum_of_deposits(demo: DemoResult) -> None:
    for customer in Customer.objects.annotate(total=Sum("deposits__balance")):
        assert customer.aum == (customer.total or Decimal("0"))


def test_applications_cover_every_stage_and_status(demo: DemoResult) -> None:
    assert set(Application.objects.values_list("stage", flat=True)) == set(c.ApplicationStage.values)
    assert set(Application.objects.values_list("status", flat=True)) == set(c.ApplicationStatus.values)


def test_every_role_has_a_login_with_the_demo_password(demo: DemoResult) -> None:
    assert [username for _, username in demo.logins] == list(DEMO_USERNAMES.values())
    for role, username in DEMO_USERNAMES.items():
        user = User.objects.select_related("staff").get(username=username)
        assert user.staff.role == role
        assert user.check_password(DEMO_PASSWORD)


@pytest.mark.parametrize("username", ["manager", "tele", "lead", "head"])
def test_demo_logins_have_customers_in_scope(demo: DemoResult, username: str) -> None:
    assert Customer.objects.for_staff(User.objects.get(username=username)).exists()


def test_lead_sees_the_team_members_customers(demo: DemoResult) -> None:
    lead = User.objects.get(username="lead")
    manager = User.objects.get(username="manager")
    in_scope = Customer.objects.for_staff(lead)
    assert in_scope.filter(owner=manager.staff).exists()
    assert in_scope.exclude(owner=lead.staff).exists()


def test_every_team_lead_has_a_team_that_owns_customers(demo: DemoResult) -> None:
    for user in User.objects.filter(staff__role=Role.TEAM_LEAD):
        assert Customer.objects.for_staff(user).exclude(owner=user.staff).exists(), user.username


def test_owners_work_in_the_customers_sub_branch(demo: DemoResult) -> None:
    owned = Customer.objects.filter(owner__isnull=False)
    assert owned.count() >= SMALL * 0.8
    assert not owned.exclude(owner__sub_branch=F("sub_branch")).exists()
    front_line = {
        Role.LOAN_MANAGER,
        Role.TELEMARKETER,
        Role.LOBBY_MANAGER,
        Role.CORPORATE_RM,
        Role.WEALTH_ADVISOR,
    }
    assert set(owned.values_list("owner__role", flat=True)) <= front_line | {Role.TEAM_LEAD}


def test_consent_mix_has_none_withdrawn_and_credit_authorisations(demo: DemoResult) -> None:
    marketing = Consent.objects.filter(purpose=c.ConsentPurpose.MARKETING)
    assert Customer.objects.exclude(consents__purpose=c.ConsentPurpose.MARKETING).exists()
    withdrawn = marketing.filter(granted=False)
    assert withdrawn.exists()
    for consent in withdrawn:
        assert OptOut.objects.filter(customer=consent.customer, channel=consent.channel).exists()
        assert marketing.filter(
            customer=consent.customer,
            channel=consent.channel,
            granted=True,
            recorded_at__lt=consent.recorded_at,
        ).exists()
    past_auth = Application.objects.filter(stage__in=["submitted", "approved", "rejected", "disbursed"])
    for customer_id in past_auth.values_list("customer", flat=True):
        assert Consent.objects.filter(
            customer_id=customer_id, purpose=c.ConsentPurpose.CREDIT_REPORT
        ).exists()


def test_load_is_audited_once(demo: DemoResult) -> None:
    event = AuditEvent.objects.get(action=Action.DEMO_LOAD)
    assert event.detail["customers"] == SMALL
    assert event.object_type == "demo"


def test_refuses_to_load_twice(demo: DemoResult) -> None:
    with pytest.raises(DemoError, match="already holds"):
        build_demo(customers=10, seed=8, as_of=AS_OF)
    assert Customer.objects.count() == SMALL
    assert AuditEvent.objects.filter(action=Action.DEMO_LOAD).count() == 1


def test_rows_added_after_the_load_get_fresh_ids(demo: DemoResult) -> None:
    """The loader sets primary keys itself; the id sequences must move past them (PostgreSQL)."""
    user = User.objects.create_user("after-demo", password="another-long-password-1")
    assert user.pk == max(User.objects.values_list("pk", flat=True))
    source = Customer.objects.values().get(customer_no="C5700000001")
    source.update(id=None, customer_no="C9900000001", id_number="110105199001010011")
    assert Customer.objects.create(**source).pk > SMALL
