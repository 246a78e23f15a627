"""Customers, their contact points, consent, opt-outs and holdings (the bank's own book of business)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, NoReturn

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from xiaodai.core.models import Lineage
from xiaodai.customers import choices as c
from xiaodai.customers.querysets import CustomerQuerySet, EnterpriseQuerySet, HoldingQuerySet
from xiaodai.customers.validators import validate_id_number, validate_mobile
from xiaodai.org.models import Branch, Staff, SubBranch

MONEY: dict[str, Any] = {"max_digits": 16, "decimal_places": 2}
RATE: dict[str, Any] = {"max_digits": 7, "decimal_places": 4}  # percent per year, e.g. 3.4500


class Enterprise(Lineage):
    """An employer known to the branch; payroll (代发) partners pay salaries through us."""

    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="enterprises")
    code = models.CharField(_("enterprise code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    industry = models.CharField(_("industry"), max_length=50)
    employee_count = models.PositiveIntegerField(_("employees"), default=0)
    is_payroll_partner = models.BooleanField(_("payroll partner"), default=False)

    objects = EnterpriseQuerySet.as_manager()

    def __str__(self) -> str:
        return self.name


class Tag(Lineage):
    """A segment tag or a circle (圈层) a customer belongs to."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=50)
    kind = models.CharField(max_length=16, choices=c.TagKind.choices)

    class Meta:
        ordering = ["kind", "code"]

    def __str__(self) -> str:
        return self.name


class Customer(Lineage):
    """A personal customer of the branch, with a summary of what they hold."""

    customer_no = models.CharField(_("customer number"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=50, db_index=True)
    # Search keys derived from the name (`zhangsan`, `zs`): filled by services.search_keys().
    name_pinyin = models.CharField(max_length=120, db_index=True, editable=False)
    name_initials = models.CharField(max_length=20, db_index=True, editable=False)
    gender = models.CharField(_("gender"), max_length=1, choices=c.Gender.choices)
    birth_date = models.DateField(_("birth date"))
    id_number = models.CharField(_("ID number"), max_length=18, unique=True, validators=[validate_id_number])
    occupation = models.CharField(_("occupation"), max_length=50, blank=True)
    employer_name = models.CharField(_("employer"), max_length=100, blank=True)
    payroll_enterprise = models.ForeignKey(
        Enterprise, on_delete=models.SET_NULL, null=True, blank=True, related_name="payroll_customers"
    )
    monthly_income = models.DecimalField(_("monthly income"), **MONEY, default=Decimal("0"))
    address = models.CharField(_("address"), max_length=200, blank=True)
    district = models.CharField(_("district"), max_length=50, blank=True)
    # No single-column index: the (branch, ...) indexes below lead with it, and every extra index slows the
    # bulk writes of a million-customer branch (docs/benchmarks.md, workbench).
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="customers", db_index=False)
    sub_branch = models.ForeignKey(SubBranch, on_delete=models.PROTECT, related_name="customers")
    owner = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="customers"
    )
    # Who works the customer now through a claim or an allocation (kept by the allocation app's services;
    # the data drop never touches it). Scoping lets the worker see the customer as an owner would.
    worker = models.ForeignKey(
        Staff,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="worked_customers",
        editable=False,
        db_index=False,  # (branch, worker) below serves every lookup
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers")
    aum = models.DecimalField(_("AUM"), **MONEY, default=Decimal("0"))  # sum of deposits, kept by services
    is_vulnerable = models.BooleanField(_("vulnerable"), default=False)  # C-18: never on a list
    no_personalised_marketing = models.BooleanField(default=False)  # C-11: excluded from scored lists
    opened_on = models.DateField(_("customer since"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["customer_no"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            models.Index(fields=["branch", "sub_branch"]),
            models.Index(fields=["branch", "owner"]),
            models.Index(fields=["branch", "worker"]),
        ]

    def __str__(self) -> str:
        return self.customer_no

    def age_on(self, day: date) -> int:
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


class ContactPoint(Lineage):
    """A way to reach a customer. `tail` (last four digits) lets staff search without the full number."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contact_points")
    kind = models.CharField(max_length=16, choices=c.ContactKind.choices, default=c.ContactKind.MOBILE)
    value = models.CharField(max_length=100)
    tail = models.CharField(max_length=4, db_index=True, editable=False)
    is_primary = models.BooleanField(default=True)

    objects = HoldingQuerySet.as_manager()

    def clean(self) -> None:
        if self.kind == c.ContactKind.MOBILE:
            validate_mobile(self.value)

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.tail = "".join(ch for ch in self.value if ch.isdigit())[-4:]
        super().save(*args, **kwargs)


class ImmutableQuerySet(HoldingQuerySet):
    def update(self, **kwargs: Any) -> NoReturn:
        raise ImmutableRecordError(self.model.__name__)

    def delete(self) -> NoReturn:
        raise ImmutableRecordError(self.model.__name__)


class ImmutableRecordError(Exception):
    """Consent evidence and opt-outs are never edited or deleted (compliance C-07); add a new record."""


class ImmutableRecord(models.Model):
    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ImmutableRecordError(type(self).__name__)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ImmutableRecordError(type(self).__name__)


class Consent(Lineage, ImmutableRecord):
    """One consent event: a grant or a withdrawal, with its evidence. The latest per purpose+channel wins."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="consents")
    purpose = models.CharField(_("purpose"), max_length=16, choices=c.ConsentPurpose.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=c.Channel.choices, blank=True)
    granted = models.BooleanField(_("granted"))
    recorded_at = models.DateTimeField(_("recorded at"))
    source = models.CharField(_("source"), max_length=16, choices=c.ConsentSource.choices)
    wording_version = models.CharField(_("wording version"), max_length=32)
    collector = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    collector_branch = models.ForeignKey(SubBranch, on_delete=models.PROTECT, null=True, related_name="+")
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        ordering = ["-recorded_at", "-id"]
        indexes = [models.Index(fields=["customer", "purpose", "channel", "-recorded_at"])]


class OptOut(Lineage, ImmutableRecord):
    """The customer asked not to be contacted (on one channel, or on all when channel is blank)."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="opt_outs")
    channel = models.CharField(_("channel"), max_length=16, choices=c.Channel.choices, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=c.ConsentSource.choices)
    recorded_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        ordering = ["-recorded_at"]


class CreditLine(Lineage):
    """An approved consumer credit line (授信): limit, what is drawn (用信), dates and price with APR."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="credit_lines")
    line_no = models.CharField(max_length=24, unique=True)
    product = models.CharField(_("product"), max_length=50)
    limit = models.DecimalField(_("limit"), **MONEY, validators=[MinValueValidator(Decimal("0"))])
    drawn = models.DecimalField(_("drawn"), **MONEY, default=Decimal("0"))
    approved_on = models.DateField(_("approved on"))
    expires_on = models.DateField(_("expires on"))
    last_drawn_on = models.DateField(_("last drawn on"), null=True, blank=True)
    rate = models.DecimalField(_("rate"), **RATE)
    apr = models.DecimalField(_("APR"), **RATE)
    status = models.CharField(max_length=16, choices=c.CreditLineStatus.choices)

    objects = HoldingQuerySet.as_manager()

    class Meta:
        ordering = ["-approved_on"]
        constraints = [
            models.CheckConstraint(condition=models.Q(limit__gte=0), name="creditline_limit_nonneg"),
            models.CheckConstraint(
                condition=models.Q(drawn__lte=models.F("limit")), name="creditline_drawn_le_limit"
            ),
        ]

    @property
    def undrawn(self) -> Decimal:
        return self.limit - self.drawn


class Loan(Lineage):
    """A loan on the book: consumer, mortgage or business."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="loans")
    loan_no = models.CharField(max_length=24, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=c.LoanKind.choices)
    product = models.CharField(_("product"), max_length=50)
    amount = models.DecimalField(_("amount"), **MONEY)
    balance = models.DecimalField(_("balance"), **MONEY)
    rate = models.DecimalField(_("rate"), **RATE)
    apr = models.DecimalField(_("APR"), **RATE)
    status = models.CharField(_("status"), max_length=16, choices=c.LoanStatus.choices)
    overdue_days = models.PositiveIntegerField(_("overdue days"), default=0)
    disbursed_on = models.DateField(_("disbursed on"))
    matures_on = models.DateField(_("matures on"))

    objects = HoldingQuerySet.as_manager()

    class Meta:
        ordering = ["-disbursed_on"]


class Card(Lineage):
    """A credit card: limit, usage and delinquency."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="cards")
    card_no = models.CharField(max_length=19, unique=True)
    tier = models.CharField(_("tier"), max_length=16, choices=c.CardTier.choices)
    limit = models.DecimalField(_("limit"), **MONEY)
    used = models.DecimalField(_("used"), **MONEY, default=Decimal("0"))
    delinquent_cycles = models.PositiveSmallIntegerField(_("delinquent cycles"), default=0)
    opened_on = models.DateField(_("opened on"))

    objects = HoldingQuerySet.as_manager()


class Deposit(Lineage):
    """A deposit or wealth holding; their sum is the customer's AUM."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="deposits")
    account_no = models.CharField(max_length=24, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=c.DepositKind.choices)
    balance = models.DecimalField(_("balance"), **MONEY)
    opened_on = models.DateField(_("opened on"))
    matures_on = models.DateField(_("matures on"), null=True, blank=True)

    objects = HoldingQuerySet.as_manager()


class Application(Lineage):
    """A loan application and how far it got (for the unfinished-application pool)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="applications")
    app_no = models.CharField(max_length=24, unique=True)
    product = models.CharField(_("product"), max_length=50)
    amount = models.DecimalField(_("amount requested"), **MONEY)
    stage = models.CharField(_("stage"), max_length=16, choices=c.ApplicationStage.choices)
    status = models.CharField(_("status"), max_length=16, choices=c.ApplicationStatus.choices)
    started_at = models.DateTimeField(_("started at"))
    last_step_at = models.DateTimeField(_("last step at"))

    objects = HoldingQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]


class PayrollLink(Lineage):
    """An enterprise pays this customer's salary through the bank (代发): the basis of payroll pools."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="payroll_links")
    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="payroll_links")
    monthly_amount = models.DecimalField(_("monthly amount"), **MONEY)
    first_paid_on = models.DateField(_("first paid on"))
    last_paid_on = models.DateField(_("last paid on"))

    objects = HoldingQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "enterprise"], name="payroll_link_customer_enterprise"
            )
        ]
