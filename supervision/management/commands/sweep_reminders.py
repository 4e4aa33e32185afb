"""`python manage.py sweep_reminders [--as-of DATETIME]`: run one reminder sweep (and the digest
if it is due), for operators and for the embedded default without Celery."""
from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from cram_site.calendar import LONDON
from supervision.sweep import digest_send, sweep


def parse_moment(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as error:
        # argparse turns this into a one-line usage error (a CommandError under call_command),
        # where a CommandError raised here would escape it as a traceback.
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date and time such as 2026-11-23T09:00 (London time)") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=LONDON)


class Command(BaseCommand):
    help = "Run one reminder sweep now (or as of a given London date and time), then any digest due."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", type=parse_moment, default=None,
                            help="London date and time to sweep as of, e.g. 2026-11-23T09:00")

    def handle(self, *args: Any, **options: Any) -> None:
        now = options["as_of"] or timezone.now()
        result = sweep(now=now)
        digests = digest_send(now=now)
        self.stdout.write(f"Sweep as of {now.astimezone(LONDON):%d/%m/%Y %H:%M}: {result.created} created, "
                          f"{result.notified} notified, {result.escalated} escalated, {result.resolved} resolved, "
                          f"{result.partner_emails} partner e-mails, {digests} digests.")
