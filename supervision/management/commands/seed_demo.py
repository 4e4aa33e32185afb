"""`python manage.py seed_demo`: the demo teams, officers, referrals, their CRAMs and meetings,
and a first reminder sweep so the queues and notifications have something in them.

The command lives in the highest app (apps depend one way: referrals ← risk ← conferences ←
supervision). Running it again only resets the demo passwords.
"""
from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from cram_site.calendar import LONDON
from cram_site.models import Officer, Role
from referrals.demo import (
    ADMINISTRATOR,
    OFFICERS,
    Cast,
    demo_referrals_exist,
    mark_leaver,
    seed_officers,
    seed_referrals,
    seed_teams,
)
from conferences.demo import meeting_steps
from risk.demo import cram_steps
from supervision.demo_mopi import seed_retention_reviews
from supervision.demo_performance import performance_steps
from supervision.sweep import sweep
from risk.models import Assessment


@contextlib.contextmanager
def mail_to_nowhere() -> Iterator[None]:
    backend = settings.EMAIL_BACKEND
    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    try:
        yield
    finally:
        settings.EMAIL_BACKEND = backend


class Command(BaseCommand):
    help = ("Create the demo teams HY and EN, an officer for every role and about forty referrals "
            "with case logs, CRAMs and meetings. Running it again only resets the demo passwords.")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        password = settings.DEMO_PASSWORD
        with transaction.atomic():
            teams = seed_teams()
            officers = seed_officers(teams=teams, password=password)
            logged = assessed = 0
            if not demo_referrals_exist():
                rng = random.Random(2026)
                crams = cram_steps(officers=officers, rng=rng)
                meetings = meeting_steps(officers=officers, rng=rng, now=now)
                performance = performance_steps(officers=officers)
                logged = seed_referrals(cast=Cast(teams, officers), now=now, rng=rng,
                                        later=lambda referral, at: (crams(referral, at) + meetings(referral, at)
                                                                    + performance(referral, at)))
                mark_leaver(officers=officers, today=now.astimezone(LONDON).date())
                logged += seed_retention_reviews(teams=teams, officers=officers, now=now)
                # The first sweep makes the demo's reminders; its e-mails (to invented partner
                # addresses) go nowhere.
                with mail_to_nowhere():
                    sweep(now=now)
                assessed = Assessment.objects.completed().count()
        if options["verbosity"] > 0:
            self._report(officers=officers, logged=logged, assessed=assessed, password=password)

    def _report(self, *, officers: dict[str, Officer], logged: int, assessed: int, password: str) -> None:
        if logged:
            self.stdout.write(self.style.SUCCESS(f"Logged {logged} demo referrals with {assessed} CRAMs."))
        else:
            self.stdout.write("Demo referrals already present; none added.")
        self.stdout.write("\nDemo users:")
        for demo in (*OFFICERS, ADMINISTRATOR):
            officer = officers[demo.username]
            roles = ", ".join(Role(role).label for role in demo.roles)
            self.stdout.write(f"  {demo.username:<18} {officer.display_name:<32} {demo.team}  {roles}")
        self.stdout.write(f"\nPassword for every demo user: {password}")
