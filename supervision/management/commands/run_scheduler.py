"""`python manage.py run_scheduler`: on the embedded default (no Redis), do what Celery beat would:
sweep the reminders every 15 minutes and send the digests after 07:00. `make run` starts it
beside the web server. Once an hour it also tidies the export files, as beat's "tidy-exports" would.
Every job is safe to run twice, so overlapping with beat does no harm."""
from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections
from django.utils import timezone

from cram_site.exports import export_jobs_tidy
from supervision.sweep import digest_send, sweep

EXPORTS_TIDY_EVERY = dt.timedelta(hours=1)


class Command(BaseCommand):
    help = "Sweep reminders every 15 minutes and send the daily digests, without Celery."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=int, default=15 * 60, help="seconds between sweeps")
        parser.add_argument("--once", action="store_true", help="sweep once and stop")

    def handle(self, *args: Any, **options: Any) -> None:
        last_tidy: dt.datetime | None = None
        while True:
            close_old_connections()
            now = timezone.now()
            try:
                result = sweep(now=now)
                digest_send(now=now)
                self.stdout.write(f"{now:%H:%M} sweep: {vars(result)}")
            except Exception as error:  # keep the scheduler alive; the next sweep catches up
                self.stderr.write(f"Sweep failed, will retry: {error}")
            if last_tidy is None or now - last_tidy >= EXPORTS_TIDY_EVERY:
                try:
                    export_jobs_tidy(now=now)
                    last_tidy = now
                except Exception as error:  # as above: the next round tries again
                    self.stderr.write(f"Tidying exports failed, will retry: {error}")
            if options["once"]:
                return
            time.sleep(options["interval"])
