"""Jobs of the allocation app: the nightly sweep of unworked claims and ended protection periods."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task

from xiaodai.allocation import services

SHANGHAI = ZoneInfo("Asia/Shanghai")
_NIGHTLY = crontab(minute="30", hour="0")


def nightly_in_shanghai(now: dt.datetime) -> bool:
    """00:30 in Asia/Shanghai, whatever clock huey ticks in: a lapse date is a local calendar day, so the
    sweep runs just after the day changes there, before anybody opens their list."""
    aware = now.replace(tzinfo=dt.UTC) if HUEY.utc else now.astimezone()
    return bool(_NIGHTLY(aware.astimezone(SHANGHAI)))


@db_periodic_task(nightly_in_shanghai)
def lapse_claims_nightly() -> None:
    """Lapse unworked claims and expire ended protection periods (services.lapse_unworked)."""
    services.lapse_unworked()
