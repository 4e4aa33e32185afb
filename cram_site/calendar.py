"""Working days in England and Wales: weekends and bank holidays skipped."""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date `days` working days after `start` (a weekend start counts from Monday)."""
    day = start
    remaining = days
    while remaining > 0:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def add_working_days_at(moment: dt.datetime, days: int) -> dt.datetime:
    """The same London wall-clock time `days` working days later, as an aware datetime."""
    local = moment.astimezone(LONDON)
    due_day = add_working_days(local.date(), days)
    return dt.datetime.combine(due_day, local.time(), tzinfo=LONDON)
