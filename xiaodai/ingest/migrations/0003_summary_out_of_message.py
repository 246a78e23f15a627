"""Runs no longer store their figures as an English sentence in `message` (the page renders them from the
files, in the reader's language): remove that sentence from runs loaded before, keeping any note after it."""

from __future__ import annotations

import re
from typing import Any

from django.db import migrations

SUMMARY = re.compile(r"^\d+ files: \d+ rows read, \d+ new, \d+ updated, \d+ unchanged, \d+ quarantined\s*")


def strip_summaries(apps: Any, schema_editor: Any) -> None:
    ImportRun = apps.get_model("ingest", "ImportRun")
    for run in ImportRun.objects.filter(message__contains=" rows read, ").only("pk", "message").iterator():
        rest = SUMMARY.sub("", run.message)
        if rest != run.message:
            ImportRun.objects.filter(pk=run.pk).update(message=rest.strip())


class Migration(migrations.Migration):
    dependencies = [("ingest", "0002_landing_and_missed_drops")]

    operations = [migrations.RunPython(strip_summaries, migrations.RunPython.noop)]
