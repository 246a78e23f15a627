from django.db import migrations


def seed(apps, schema_editor):
    """Version 1 of every rule: the defaults in xiaodai.pools.rules (ensure_rules adds pools added later)."""
    from xiaodai.pools import rules as r

    PoolRule = apps.get_model("pools", "PoolRule")
    PoolRuleVersion = apps.get_model("pools", "PoolRuleVersion")
    for pool in (*r.POOLS, r.GENERAL):
        rule, created = PoolRule.objects.get_or_create(
            code=pool.code, defaults={"priority": pool.priority, "params": r.defaults(pool.code)}
        )
        if created:
            PoolRuleVersion.objects.create(
                rule=rule, version=1, priority=rule.priority, is_active=True, params=rule.params, note="defaults"
            )


class Migration(migrations.Migration):
    dependencies = [("pools", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
