"""Jobs of the scoring app: retraining on demand and every week. Jobs take ids, never objects."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from xiaodai.scoring import jobs

SHANGHAI = ZoneInfo("Asia/Shanghai")
_MONDAY_2AM = crontab(minute="0", hour="2", day_of_week="1")


def weekly_in_shanghai(now: dt.datetime) -> bool:
    """Monday 02:00 in Asia/Shanghai, whatever clock huey ticks in: naive UTC by default (utc=True), naive
    local time otherwise. Night-time, so training does not compete with the branch's working day."""
    aware = now.replace(tzinfo=dt.UTC) if HUEY.utc else now.astimezone()
    return bool(_MONDAY_2AM(aware.astimezone(SHANGHAI)))


@db_task()
def retrain(run_id: int) -> None:
    """Execute a queued training run (made by jobs.queue_retrain)."""
    jobs.execute_training(run_id)


@db_periodic_task(weekly_in_shanghai)
def retrain_weekly() -> None:
    """Retrain the product's model on the week's new outcomes; skipped while another training is active."""
    jobs.run_scheduled()
