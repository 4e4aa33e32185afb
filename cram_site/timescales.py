"""The clocks of SPEC §5 that the referral desk needs.

Each is a default here; a later change moves them into a per-team table an administrator edits.
"""
from __future__ import annotations

import datetime as dt

from .calendar import add_working_days_at

DESK_ASSESSMENT_URGENT = dt.timedelta(hours=2)
DESK_ASSESSMENT_WORKING_DAYS = 1
WRITTEN_FOLLOWUP_WORKING_DAYS = 1


def desk_assessment_due(received_at: dt.datetime, *, urgent: bool) -> dt.datetime:
    if urgent:
        return received_at + DESK_ASSESSMENT_URGENT
    return add_working_days_at(received_at, DESK_ASSESSMENT_WORKING_DAYS)


def written_followup_due(received_at: dt.datetime) -> dt.datetime:
    return add_working_days_at(received_at, WRITTEN_FOLLOWUP_WORKING_DAYS)
