"""factory_boy factories for outcomes, scripts, allocation batches, assignments and applications, written
straight to the database (the supervision tests only read these rows; the services that write them in real
use are tested on their own)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone

from tests import factories as f
from xiaodai.allocation import models as am
from xiaodai.customers import models as cm
from xiaodai.outreach import models as om


class ScriptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = om.Script

    branch = factory.SelfAttribute("created_by.branch")
    title = factory.Sequence(lambda n: f"薪易贷话术{n}")
    product = "薪易贷"
    created_by = factory.SubFactory(f.StaffFactory)


class ScriptVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = om.ScriptVersion

    script = factory.SubFactory(ScriptFactory)
    version = factory.Sequence(lambda n: n + 1)
    status = "approved"
    opening = "您好，我是银行的客户经理。"
    selling_points = "线上申请，最快当天到账。"
    apr = Decimal("3.4500")
    objections = factory.LazyFunction(
        lambda: {
            "rate_high": ["年化利率3.45%起，比信用卡分期低。", "按日计息，随借随还。"],
            "no_need": ["额度先备着，不用不计息。"],
        }
    )
    author = factory.SelfAttribute("script.created_by")


class OutcomeFactory(factory.django.DjangoModelFactory):
    """A contact as the call screen would record it. Pass `corrects=` for a correction: the original stays,
    and counts read only the rows nobody has corrected."""

    class Meta:
        model = om.Outcome

    token = factory.LazyFunction(uuid.uuid4)
    branch = factory.SelfAttribute("staff.branch")
    customer = factory.SubFactory(f.CustomerFactory)
    staff = factory.SubFactory(f.StaffFactory)
    team = factory.SelfAttribute("staff.team")
    channel = "phone"
    occurred_at = factory.LazyFunction(timezone.now)
    outcome = "no_answer"


def correct(original: om.Outcome, **changes: Any) -> om.Outcome:
    """A correction of `original`: a new row with its facts, the changes, and `corrects` pointing back."""
    fields = {
        "branch": original.branch,
        "customer": original.customer,
        "staff": original.staff,
        "team": original.team,
        "channel": original.channel,
        "occurred_at": original.occurred_at,
        "outcome": original.outcome,
        "objection": original.objection,
        "rebuttal": original.rebuttal,
        "script_version": original.script_version,
    }
    return OutcomeFactory(**{**fields, **changes, "corrects": original})


class BatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = am.AllocationBatch

    branch = factory.SelfAttribute("created_by.branch")
    created_by = factory.SubFactory(f.StaffFactory)


class AssignmentFactory(factory.django.DjangoModelFactory):
    """An assignment from a bulk allocation; `control=True` for a held-back (control group) customer.
    Not active by default, so one customer can have several in a test without the one-active index."""

    class Meta:
        model = am.Assignment

    branch = factory.SelfAttribute("staff.branch")
    customer = factory.SubFactory(f.CustomerFactory)
    staff = factory.SubFactory(f.StaffFactory)
    team = factory.SelfAttribute("staff.team")
    kind = "allocation"
    status = "expired"
    control = False
    batch = factory.SubFactory(BatchFactory, created_by=factory.SelfAttribute("..staff"))
    created_by = factory.SelfAttribute("staff")
    protected_until = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=30))

    @classmethod
    def _create(cls, model_class: type[am.Assignment], *args: Any, **kwargs: Any) -> am.Assignment:
        # created_at is auto_now_add: set a given one after the insert.
        created_at = kwargs.pop("created_at", None)
        obj = super()._create(model_class, *args, **kwargs)
        if created_at is not None:
            model_class.objects.filter(pk=obj.pk).update(created_at=created_at)
            obj.created_at = created_at
        return obj


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.Application

    customer = factory.SubFactory(f.CustomerFactory)
    app_no = factory.Sequence(lambda n: f"AP{n:010d}")
    product = "薪易贷"
    amount = Decimal("50000.00")
    stage = "submitted"
    status = "in_progress"
    started_at = factory.LazyFunction(timezone.now)
    last_step_at = factory.SelfAttribute("started_at")
