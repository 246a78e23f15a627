"""Rules v1: the product ranks with the pool prior until a trained model beats it (see scoring/prior.py)."""

from django.db import migrations
from django.utils.translation import gettext_noop

FEATURES = [
    {"name": "pool", "kind": "category", "origin": "derived", "description": gettext_noop("best pool of the customer's holdings")},
    {"name": "h_days_since_keen", "kind": "number", "origin": "derived", "description": gettext_noop("recent interest doubles")},
    {"name": "h_prev_refused", "kind": "number", "origin": "derived", "description": gettext_noop("a refusal in 180 days: x0.3")},
    {"name": "h_prev_n_90", "kind": "number", "origin": "derived", "description": gettext_noop("3+ contacts in 90 days: x0.7")},
]


def seed(apps, schema_editor):
    model = apps.get_model("scoring", "ScoringModel")
    if not model.objects.filter(name="propensity").exists():
        model.objects.create(
            name="propensity",
            version=1,
            kind="rules",
            source="product",
            status="active",
            features=FEATURES,
            params={"prior": "scoring/prior.py v1"},
            trigger="system",
        )


def unseed(apps, schema_editor):
    apps.get_model("scoring", "ScoringModel").objects.filter(name="propensity", version=1, kind="rules").delete()


class Migration(migrations.Migration):
    dependencies = [("scoring", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
