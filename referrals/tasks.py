"""Celery tasks: thin wrappers that read the clock once and call the plain functions."""
from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from .legacy_import import import_run_execute


# Acknowledged late: a worker lost mid-run has stored nothing (the run is one transaction), and
# the redelivered task imports the file again; a twin delivered while the first still runs waits
# for the team's import lock and then finds the run finished.
@shared_task(name="referrals.import_referral_log", acks_late=True)
def import_referral_log_task(run_id: int) -> int:
    run = import_run_execute(run_id=run_id, now=timezone.now())
    return run.accepted
