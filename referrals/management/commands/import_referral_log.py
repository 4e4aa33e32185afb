"""`python manage.py import_referral_log FILE.xlsx|FILE.csv [--team HY] [--dry-run] [--user USERNAME]`.

Imports the legacy referral log as closed historical referrals, all or nothing, with a progress
bar on stderr; prints the counts, the first rejections, where the full rejection report is, and
the time and peak memory it took. Exits non-zero when the file is refused or the run fails.
"""
from __future__ import annotations

import resource
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cram_site.models import Officer, Team
from referrals import legacy_import
from referrals.models import ImportStatus

BAR_WIDTH = 30
FIRST_REJECTIONS_SHOWN = 20


class Command(BaseCommand):
    help = "Import the legacy referral log (.xlsx or .csv) as closed referrals keeping their URNs."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--team", help="the team code the URNs belong to (default: the officer's team)")
        parser.add_argument("--dry-run", action="store_true", help="check every row, store nothing")
        parser.add_argument("--user", help="the administrator recorded as logging the referrals "
                                           "(default: the first active superuser)")
        parser.add_argument("--trace-memory", action="store_true",
                            help="also measure Python's own peak allocation (tracemalloc; slower)")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        if path.suffix.lower() not in legacy_import.ALLOWED_SUFFIXES:
            raise CommandError("Only .xlsx and .csv files can be imported.")
        actor = self._actor(options["user"])
        team = self._team(options["team"], actor)

        if options["trace_memory"]:
            tracemalloc.start()
        started = time.perf_counter()
        now = timezone.now()
        run = legacy_import.import_run_start(team=team, file_name=path.name, dry_run=options["dry_run"],
                                             actor=actor, now=now)
        try:
            run = legacy_import.import_referral_log(run=run, path=path, now=now, on_progress=self._bar)
        except KeyboardInterrupt:
            sys.stderr.write("\n")
            raise CommandError("Interrupted: nothing was imported (the whole run was rolled back).",
                               returncode=130) from None
        elapsed = time.perf_counter() - started
        sys.stderr.write("\n")
        self._report(run, elapsed=elapsed, traced=options["trace_memory"])
        if run.status == ImportStatus.FAILED:
            raise CommandError(run.error)

    def _actor(self, username: str | None) -> Officer:
        if username:
            actor = Officer.objects.filter(username=username, is_active=True).select_related("team").first()
            if actor is None:
                raise CommandError(f"No active officer with the username {username!r}.")
        else:
            actor = Officer.objects.filter(is_superuser=True, is_active=True).select_related("team").order_by(
                "pk").first()
            if actor is None:
                raise CommandError("Name the administrator running the import with --user USERNAME.")
        if not actor.has_perm("referrals.import_referrals"):
            raise CommandError(f"{actor.username} is not an administrator and may not import referrals.")
        return actor

    def _team(self, code: str | None, actor: Officer) -> Team:
        if code:
            team = Team.objects.filter(code=code.upper()).first()
            if team is None:
                raise CommandError(f"No team with the code {code.upper()!r}.")
        elif actor.team is not None:
            team = actor.team
        else:
            raise CommandError("Say which team the log belongs to with --team CODE.")
        if team.pk != actor.team_id and not (actor.force_wide or actor.is_superuser):
            raise CommandError(f"{actor.username} may import only into their own team.")
        return team

    def _bar(self, progress: legacy_import.ImportProgress) -> None:
        total = max(progress.total_rows, progress.processed_rows)
        done = progress.processed_rows
        filled = BAR_WIDTH * done // total if total else 0
        bar = "#" * filled + " " * (BAR_WIDTH - filled)
        sys.stderr.write(f"\r[{bar}] {done:,}/{total:,} rows")
        sys.stderr.flush()

    def _report(self, run: Any, *, elapsed: float, traced: bool) -> None:
        write = self.stdout.write
        label = "Dry run of" if run.dry_run else "Import of"
        write(f"{label} {run.file_name} into {run.team.code} (run {run.pk}): {run.get_status_display()}")
        if run.error:
            write(run.error)
        verb = "would be imported" if run.dry_run else "accepted"
        write(f"  rows read          {run.processed_rows:>8,}")
        write(f"  {verb:<18} {run.accepted:>8,}")
        write(f"  already imported   {run.already_imported:>8,}")
        write(f"  rejected           {run.rejected:>8,}")
        if run.rejections:
            write(f"First rejections (of {run.rejected:,}):")
            for rejection in run.rejections[:FIRST_REJECTIONS_SHOWN]:
                write(f"  row {rejection['row']:>6}  {rejection['urn'] or '-':<14} {rejection['reason']}")
        report = legacy_import.rejection_report_path(run)
        if report.exists():
            write(f"Full rejection report: {report}")
        # ru_maxrss is in kilobytes on Linux: the whole process, Django included.
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        memory = f"peak memory {peak_mb:.0f} MB (resident)"
        if traced:
            _current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            memory += f", {peak / 1024 / 1024:.1f} MB allocated by Python at most (tracemalloc)"
        rate = run.processed_rows / elapsed if elapsed else 0
        write(f"Elapsed {elapsed:.1f} s ({rate:,.0f} rows/s); {memory}.")
