"""Abstract bases shared by the domain apps."""

from __future__ import annotations

from django.db import models


class Lineage(models.Model):
    """Where a row came from: the import batch that last wrote it (its source and data date are on the
    batch) and a hash of its loaded values, so a re-delivered row that did not change is recognised."""

    ingest_batch = models.PositiveBigIntegerField(null=True, blank=True, db_index=True, editable=False)
    data_date = models.DateField(null=True, blank=True, editable=False)
    row_hash = models.CharField(max_length=16, blank=True, default="", db_default="", editable=False)

    class Meta:
        abstract = True
