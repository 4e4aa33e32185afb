"""`python manage.py simulate_reminders --days 3650 [--referrals-per-day 1] [--seed 1]`: years of
generated casework swept a few times a day, with outages and double sweeps, then the figures that
prove the reminder engine: no duplicate reminder or notification, nothing missed.

It runs on the current database inside one transaction that is rolled back at the end (unless
--keep), in a team of its own ("SIM")."""
from __future__ import annotations

import argparse
import datetime as dt
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from supervision.simulation import SWEEP_TIMES, simulate


def parse_day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date such as 2026-01-05") from error


class Command(BaseCommand):
    help = "Simulate years of casework and sweeps, and report duplicates and missed reminders (both must be 0)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=365, help="days to simulate (default 365)")
        parser.add_argument("--referrals-per-day", type=float, default=0.5,
                            help="average referrals logged a day (default 0.5)")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument("--sweeps-per-day", type=int, default=2, choices=sorted(SWEEP_TIMES),
                            help="scheduled sweeps a day (default 2: 07:00 and 15:00)")
        parser.add_argument("--start", type=parse_day, default=dt.date(2026, 1, 5),
                            help="first simulated day (default 2026-01-05)")
        parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                            help="on SQLite, simulate that many consecutive spans of the days at once, each in "
                                 "its own process on a copy of the database (default: 2, or 1 on one core)")
        parser.add_argument("--keep", action="store_true",
                            help="keep the generated team and its cases instead of rolling them back")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["days"] < 1:
            raise CommandError("--days must be at least 1.")
        if options["referrals_per_day"] <= 0:
            raise CommandError("--referrals-per-day must be more than 0.")
        report = simulate(days=options["days"], referrals_per_day=options["referrals_per_day"],
                          seed=options["seed"], sweeps_per_day=options["sweeps_per_day"], start=options["start"],
                          keep=options["keep"], workers=options["workers"], progress=lambda line: self.stderr.write(f"  … {line}"))
        for line in report.lines():
            self.stdout.write(line)
        if report.duplicate_reminders or report.duplicate_notifications or report.missed:
            raise CommandError("The reminder engine duplicated or missed something (see above).")
        self.stdout.write(self.style.SUCCESS("No duplicates, nothing missed."))
