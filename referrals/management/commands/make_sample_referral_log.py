"""`python manage.py make_sample_referral_log [--rows 600] [--faults] [--out PATH]`: a generated legacy log.

The shipped test file is `--rows 600 --faults --out docs/sample-legacy-referral-log.xlsx`; the
benchmark is `--rows 50000 --faults --out private/legacy-log-50000.xlsx`. The same seed gives the same rows.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from referrals.legacy_sample import FAULTS, write_sample


class Command(BaseCommand):
    help = "Write a generated legacy referral log (.xlsx or .csv), optionally with deliberate faults."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=600, help="data rows (blank rows come on top)")
        parser.add_argument("--faults", action="store_true",
                            help="one row in ten carries a deliberate fault, the kinds in turn")
        parser.add_argument("--out", default="sample-legacy-referral-log.xlsx", help="a .xlsx or .csv path")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--team", default="HY", help="the team code of the URNs")

    def handle(self, *args: Any, **options: Any) -> None:
        out = Path(options["out"])
        if out.suffix.lower() not in (".xlsx", ".csv"):
            raise CommandError("--out must end in .xlsx or .csv")
        out.parent.mkdir(parents=True, exist_ok=True)
        if options["rows"] < 1:
            raise CommandError("--rows must be at least 1")
        summary = write_sample(out, rows=options["rows"], faults=options["faults"], seed=options["seed"],
                               team_code=options["team"].upper())
        self.stdout.write(f"Wrote {out}: {summary.rows:,} rows, {summary.blank_rows} blank rows, "
                          f"{summary.hyperlinks} URNs as HYPERLINK formulas.")
        if summary.rejected:
            kinds = ", ".join(f"{kind} {summary.faults[kind]}" for kind in FAULTS if summary.faults[kind])
            self.stdout.write(f"Deliberate faults: {summary.rejected} rows ({kinds}); "
                              f"{summary.accepted:,} rows should be accepted.")
