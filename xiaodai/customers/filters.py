"""One filter class for the customer list: the page, its htmx refresh and the API all use it."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xiaodai.core.access import actor_of
from xiaodai.customers import selectors
from xiaodai.customers.choices import ConsentPurpose, TagKind
from xiaodai.customers.models import Consent, ContactPoint, CreditLine, Customer, OptOut, Tag
from xiaodai.org.models import SubBranch

SORTS = {
    "customer_no": "customer_no",
    "-customer_no": "-customer_no",
    "name": "name_pinyin",
    "-name": "-name_pinyin",
    "aum": "aum",
    "-aum": "-aum",
    "age": "-birth_date",
    "-age": "birth_date",
    "since": "opened_on",
    "-since": "-opened_on",
}

YES_NO = (("yes", _("Yes")), ("no", _("No")))


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Search"), max_length=100)
    sub_branch = django_filters.ModelChoiceFilter(
        queryset=SubBranch.objects.none(), label=_("Sub-branch"), empty_label=_("All")
    )
    tag = django_filters.ModelChoiceFilter(
        field_name="tags",
        queryset=Tag.objects.filter(kind=TagKind.SEGMENT),
        label=_("Segment"),
        empty_label=_("All"),
    )
    circle = django_filters.ModelChoiceFilter(
        field_name="tags",
        queryset=Tag.objects.filter(kind=TagKind.CIRCLE),
        label=_("Circle"),
        empty_label=_("All"),
    )
    credit_line = django_filters.ChoiceFilter(
        choices=YES_NO, method="filter_credit_line", label=_("Credit line"), empty_label=_("All")
    )
    phone_consent = django_filters.ChoiceFilter(
        choices=YES_NO, method="filter_phone_consent", label=_("Phone consent"), empty_label=_("All")
    )
    sort = django_filters.ChoiceFilter(
        choices=[(k, k) for k in SORTS], method="filter_sort", label=_("Sort"), empty_label=None
    )

    class Meta:
        model = Customer
        fields: list[str] = []

    def __init__(self, *args: Any, branch_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters["sub_branch"].queryset = SubBranch.objects.filter(branch_id=branch_id or 0)
        for name, field in self.form.fields.items():
            field.widget.attrs["class"] = "form-control" if name == "q" else "form-select"

    def filter_q(self, queryset: QuerySet[Customer], name: str, value: str) -> QuerySet[Customer]:
        return selectors.search(queryset, value)

    def filter_credit_line(self, queryset: QuerySet[Customer], name: str, value: str) -> QuerySet[Customer]:
        has = Exists(CreditLine.objects.filter(customer=OuterRef("pk")))
        return queryset.filter(has) if value == "yes" else queryset.filter(~has)

    def filter_phone_consent(self, queryset: QuerySet[Customer], name: str, value: str) -> QuerySet[Customer]:
        # Active = the latest phone-marketing record is a grant that has not expired, and no opt-out.
        latest = Consent.objects.filter(
            customer=OuterRef("pk"), purpose=ConsentPurpose.MARKETING, channel="phone"
        ).order_by("-recorded_at", "-id")
        now = timezone.now()
        active = (
            Q(_latest_granted=True)
            & (Q(_latest_expires__isnull=True) | Q(_latest_expires__gt=now))
            & ~Exists(OptOut.objects.filter(Q(channel="") | Q(channel="phone"), customer=OuterRef("pk")))
        )
        # Coalesce: a customer with no phone record has NULL here, and NOT (NULL AND …) is NULL in SQL,
        # which would drop them from the "no" list instead of listing them.
        annotated = queryset.annotate(
            _latest_granted=Coalesce(Subquery(latest.values("granted")[:1]), Value(False)),
            _latest_expires=latest.values("expires_at")[:1],
        )
        return annotated.filter(active) if value == "yes" else annotated.exclude(active)

    def filter_sort(self, queryset: QuerySet[Customer], name: str, value: str) -> QuerySet[Customer]:
        return queryset.order_by(SORTS.get(value, "customer_no"), "pk")


def customer_filter(user: Any, params: QueryDict) -> CustomerFilter:
    """The scoped, filtered customer list shared by the page, its htmx refresh and the API."""
    lines = CreditLine.objects.filter(customer=OuterRef("pk")).values("customer")
    base = (
        Customer.objects.for_staff(user)
        .select_related("sub_branch", "owner")
        .prefetch_related(
            Prefetch(
                "contact_points", queryset=ContactPoint.objects.filter(is_primary=True), to_attr="primary"
            ),
            "tags",
        )
        .annotate(
            credit_limit=Subquery(lines.annotate(t=Sum("limit")).values("t")),
            credit_undrawn=Subquery(lines.annotate(t=Sum("limit") - Sum("drawn")).values("t")),
        )
        .order_by("customer_no")
    )
    data = params.copy()
    data.setdefault("sort", "customer_no")
    return CustomerFilter(data, queryset=base, branch_id=actor_of(user).branch_id)
