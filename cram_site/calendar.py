"""Working days in England and Wales, and clock arithmetic in London time.

Days and months are counted on the London calendar, keeping the wall-clock time across the
March and October clock changes; hours are elapsed time. Working days skip weekends and the
bank holidays of England and Wales.
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from dateutil.relativedelta import relativedelta

LONDON = ZoneInfo("Europe/London")


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date `days` working days after `start` (negative: before). A weekend start counts from Monday."""
    step = 1 if days >= 0 else -1
    day = start
    remaining = abs(days)
    while remaining > 0:
        day += dt.timedelta(days=step)
        if is_working_day(day):
            remaining -= 1
    return day


def _wall_clock(local: dt.datetime) -> dt.datetime:
    """Re-attach London time to a shifted wall-clock time, resolving the clock-change hour."""
    naive = local.replace(tzinfo=None)
    # A time the March change skips (01:30) is read as the hour after (02:30 BST); the round trip
    # through UTC makes the result a real London time, so it prints as it is stored.
    return naive.replace(tzinfo=LONDON).astimezone(dt.UTC).astimezone(LONDON)


def add_working_days_at(moment: dt.datetime, days: int) -> dt.datetime:
    """The same London wall-clock time `days` working days later, as an aware datetime."""
    local = moment.astimezone(LONDON)
    due_day = add_working_days(local.date(), days)
    return dt.datetime.combine(due_day, local.time(), tzinfo=LONDON)


def shift(moment: dt.datetime, amount: int, unit: str) -> dt.datetime:
    """`moment` moved by `amount` units (hours, days, working_days or months); negative moves back."""
    if unit == "hours":
        return (moment.astimezone(dt.UTC) + dt.timedelta(hours=amount)).astimezone(LONDON)
    local = moment.astimezone(LONDON)
    if unit == "days":
        return _wall_clock(local.replace(tzinfo=None) + dt.timedelta(days=amount))
    if unit == "months":
        return _wall_clock(local.replace(tzinfo=None) + relativedelta(months=amount))
    if unit == "working_days":
        return add_working_days_at(local, amount)
    raise ValueError(f"Unknown unit of time: {unit}")


def london_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(LONDON).date()
