"""The reminder sweep through a real Celery worker on Redis, and the beat schedule in settings.

The worker is a separate process pointed at the test database, so the test commits its data
(`transaction=True`) and waits for the worker's rows to appear.
"""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.utils import timezone

from conferences import services as conference_services
from cram_site.celery import app
from referrals.models import Route
from supervision.models import Notification, Reminder, ReminderKind, ReminderState, SweepRun
from tests.conftest import requires_postgres
from tests.supervision.test_reminders_clocks import assessed, child_of, logged

needs_broker = pytest.mark.skipif(not settings.CELERY_BROKER_URL,
                                  reason="CELERY_BROKER_URL is not set: there is no Redis for a worker to use")


def test_the_beat_schedule_sweeps_every_15_minutes_and_sends_digests_at_seven_on_weekdays():
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert {entry["task"] for entry in schedule.values()} == {"supervision.sweep_reminders",
                                                              "supervision.send_digests",
                                                              "cram_site.tidy_exports"}
    by_task = {entry["task"]: entry["schedule"] for entry in schedule.values()}
    assert by_task["supervision.sweep_reminders"] == crontab(minute="*/15")
    assert by_task["supervision.send_digests"] == crontab(hour=7, minute=0, day_of_week="mon-fri")
    assert settings.CELERY_TIMEZONE == "Europe/London"
    # Both names are tasks the worker knows.
    app.loader.import_default_modules()
    assert {"supervision.sweep_reminders", "supervision.send_digests"} <= set(app.tasks)


def test_the_digest_schedule_fires_at_seven_london_time_in_summer_and_winter():
    """The crontab is read in Europe/London: 07:00 BST is 06:00 UTC, 07:00 GMT is 07:00 UTC."""
    digest = settings.CELERY_BEAT_SCHEDULE["send-digests"]["schedule"]
    sweep = settings.CELERY_BEAT_SCHEDULE["sweep-reminders"]["schedule"]
    london = app.timezone
    assert str(london) == "Europe/London"
    summer = dt.datetime(2026, 6, 15, 7, 0, tzinfo=london)  # a Monday
    winter = dt.datetime(2026, 12, 14, 7, 0, tzinfo=london)  # a Monday
    saturday = dt.datetime(2026, 6, 13, 7, 0, tzinfo=london)
    for moment in (summer, winter):
        assert moment.hour in digest.hour and moment.minute in digest.minute
        assert moment.isoweekday() % 7 in digest.day_of_week
    assert saturday.isoweekday() % 7 not in digest.day_of_week
    assert sweep.minute == {0, 15, 30, 45} and len(sweep.hour) == 24


@requires_postgres
@needs_broker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_redis_sweeps_the_reminders_once(desk_sergeant, investigator, supervisor):
    """A child taken into police protection 50 hours ago is past the 48-hour warning: a sweep enqueued
    on Redis and run by a worker makes exactly one reminder and prompts the designated officer once."""
    assert not settings.CELERY_TASK_ALWAYS_EAGER, "with a broker the tasks must go to the worker"
    now = timezone.now()
    referral = logged(desk_sergeant, at=now - dt.timedelta(hours=51))
    assessed(referral, desk_sergeant, at=now - dt.timedelta(hours=51), route=Route.NO_FURTHER_ACTION)
    conference_services.protection_start(referral=referral, actor=investigator, now=now, child=child_of(referral),
                                         started_at=now - dt.timedelta(hours=50), designated_officer=investigator,
                                         reason="Found alone at night.")
    assert not Reminder.objects.exists()

    app.control.purge()
    database = settings.DATABASES["default"]
    assert database["NAME"].startswith("test_")
    env = {**os.environ,
           "DATABASE_URL": f"postgres://{database['USER'] or 'postgres'}@{database['HOST'] or '127.0.0.1'}:"
                           f"{database['PORT'] or 5432}/{database['NAME']}",
           "CELERY_BROKER_URL": settings.CELERY_BROKER_URL}
    log = tempfile.NamedTemporaryFile(prefix="celery-worker-", suffix=".log", delete=False)  # noqa: SIM115
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "cram_site", "worker", "--pool=solo", "--concurrency=1",
         "-Q", "celery", "--loglevel=info", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        env=env, cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT)
    try:
        from supervision.tasks import sweep_reminders_task

        sweep_reminders_task.delay()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if Reminder.objects.filter(state=ReminderState.NOTIFIED).exists() and SweepRun.objects.filter(
                    finished_at__isnull=False).exists():
                break
            assert worker.poll() is None, Path(log.name).read_text()[-3000:]
            time.sleep(0.5)
        else:
            pytest.fail("the worker did not sweep within 60 seconds:\n" + Path(log.name).read_text()[-3000:])

        reminder = Reminder.objects.get()
        assert (reminder.kind, reminder.state, reminder.owner_id) == (
            ReminderKind.POLICE_PROTECTION, ReminderState.NOTIFIED, investigator.pk)
        assert list(Notification.objects.values_list("recipient_id", "event")) == [(investigator.pk, "due")]
        assert SweepRun.objects.filter(finished_at__isnull=False).count() == 1
        assert "supervision.sweep_reminders" in Path(log.name).read_text()
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)
        log.close()
        os.unlink(log.name)
