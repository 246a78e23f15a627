"""factory_boy factories for the capital-flow rows (signals, first sightings, run figures, loan-use alerts),
written straight to the database: the page tests only read these rows; the pipeline step that writes them in
real use is tested on its own (xiaodai/signals/tests)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from tests import factories as f
from xiaodai.pipeline.models import PipelineRun
from xiaodai.signals import models as sm

DATA_DATE = dt.date(2026, 11, 28)


class PipelineRunFactory(factory.django.DjangoModelFactory):
    """A finished, published run of a branch."""

    class Meta:
        model = PipelineRun

    branch = factory.SubFactory(f.BranchFactory)
    data_date = DATA_DATE
    engine = "duckdb"
    status = "done"
    trigger = "cli"
    is_published = True
    started_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(seconds=30))
    finished_at = factory.LazyFunction(timezone.now)


class SignalFactory(factory.django.DjangoModelFactory):
    """A renovation payment of 60,000 yuan, fifteen times the customer's usual 4,000."""

    class Meta:
        model = sm.Signal

    customer = factory.SubFactory(f.CustomerFactory)
    run = factory.SubFactory(PipelineRunFactory, branch=factory.SelfAttribute("..customer.branch"))
    kind = "scenario"
    detail = "renovation"
    first_on = dt.date(2026, 11, 20)
    last_on = dt.date(2026, 11, 20)
    txns = 1
    amount = Decimal("60000.00")
    largest = factory.SelfAttribute("amount")
    basis = Decimal("4000.00")
    counterparty = "杭州美家装饰工程有限公司"
    mcc = "5211"
    is_new = False


class SignalLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = sm.SignalLog

    customer = factory.SubFactory(f.CustomerFactory)
    branch = factory.SelfAttribute("customer.branch")
    run = None
    kind = "scenario"
    detail = "renovation"
    seen_on = DATA_DATE
    amount = Decimal("60000.00")


class FlowRunFactory(factory.django.DjangoModelFactory):
    """What a run's signal step read: 1,000 transactions, a few of each bad kind, half the loan money in the
    loop."""

    class Meta:
        model = sm.FlowRun

    run = factory.SubFactory(PipelineRunFactory, data_date=factory.SelfAttribute("..data_date"))
    branch = factory.SelfAttribute("run.branch")
    data_date = DATA_DATE
    read = 1000
    used = 990
    duplicates = 4
    foreign_currency = 3
    bad_amount = 3
    unknown_mcc = 7
    missing_counterparty = 11
    signals = 5
    alerts = 1
    loans = 4
    disbursed = Decimal("400000.00")
    closed_loop = Decimal("200000.00")


class FlowAlertFactory(factory.django.DjangoModelFactory):
    """50,000 yuan of a 100,000 loan moved to a securities account two days after disbursement."""

    class Meta:
        model = sm.FlowAlert

    customer = factory.SubFactory(f.CustomerFactory)
    branch = factory.SelfAttribute("customer.branch")
    run = None
    kind = "securities"
    txn_id = factory.Sequence(lambda n: f"T{n:012d}")
    flow_on = dt.date(2026, 11, 12)
    amount = Decimal("50000.00")
    counterparty = "华泰证券股份有限公司"
    loan_disbursed_on = dt.date(2026, 11, 10)
    loan_amount = Decimal("100000.00")
    days_after = 2
    status = "open"
