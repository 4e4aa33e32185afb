"""What every supervisor page shows around its content: the queues to move between, and a
warning when the reminder sweep has stopped running."""
from __future__ import annotations

import datetime as dt
from typing import Any

from cram_site.calendar import LONDON

from .queues import QUEUES
from .sweep import last_sweep

# The sweep runs every 15 minutes; an hour without one means the scheduler has stopped.
SWEEP_STALE_AFTER = dt.timedelta(hours=1)


def sweep_warning(now: dt.datetime) -> str:
    """A warning when the last finished sweep is over an hour old or there has never been one."""
    run = last_sweep()
    if run is None:
        return "Reminders have never run — check the scheduler."
    if now - run.finished_at > SWEEP_STALE_AFTER:
        return f"Reminders last ran {run.finished_at.astimezone(LONDON):%d/%m/%Y %H:%M} — check the scheduler."
    return ""


def supervisor_context(now: dt.datetime, *, current: str = "") -> dict[str, Any]:
    """The frame of a supervisor page: `current` names the page or queue being shown."""
    return {"sweep_warning": sweep_warning(now), "queues": QUEUES, "current": current, "now": now,
            "today": now.astimezone(LONDON).date()}
