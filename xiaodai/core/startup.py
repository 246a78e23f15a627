"""Settling a web process after startup.

Python's collector runs a full pass every so many allocations, and a full pass walks every object the
process holds: Django, the apps and their libraries (ibis, pandas, LightGBM …) leave some 400,000 behind at
startup, so each pass cost the page it landed in 100–170 ms at random (benchmarks: the daily report's p50
230 ms, p95 400 ms). Freezing the startup objects moves them out of the collector's way; they live as long
as the process anyway.

Then the youngest generation is collected every 20,000 allocations rather than 700: a page of a big branch
allocates a few hundred thousand objects, and at 700 the collector ran over a thousand times in 60 requests,
ten of them full passes over what the requests had left, which put the heavier pages' slowest requests at
1.5x their median (benchmarks: the plan page's max 348 ms against 232 ms p50; 295 against 230 after)."""

from __future__ import annotations

import gc


def settle() -> None:
    """Import every view module (through the URL patterns), collect once, freeze what is left."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (the access imports every app's URLs and views)
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 50)
