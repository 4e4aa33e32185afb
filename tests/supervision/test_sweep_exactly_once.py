"""The sweep does each thing once, whatever runs twice, at once, late or half-way.

A rerun finds nothing to do; two sweeps at the same moment (PostgreSQL, two threads) make one
reminder, one prompt and one escalation per item; after days without a sweep, one sweep catches up
and the next does nothing; a sweep that dies half-way leaves consistent rows that the next sweep
finishes; and the number of queries a sweep makes does not grow with the number of cases.
"""
from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conferences import services as conference_services
from conferences.models import MeetingKind
from cram_site.calendar import LONDON
from cram_site.models import Officer
from referrals import services as referral_services
from referrals.models import CaseLogEntry, Referral, Route
from supervision import sweep as sweep_module
from supervision.due import Sources
from supervision.models import (
    DigestDelivery,
    Notification,
    PartnerEmail,
    Reminder,
    ReminderKind,
    ReminderState,
    SweepRun,
)
from supervision.simulation import simulate
from supervision.sweep import digest_send, last_sweep, reminders_create, reminders_resolve, sweep
from tests.conftest import requires_postgres
from tests.supervision.test_reminders_clocks import (  # noqa: F401 (fixtures)
    DAY,
    HOUR,
    MINUTE,
    assessed,
    child_of,
    cram_completed,
    inspector,
    logged,
    london,
    pclo,
    sweep_at,
)

# Monday 2 March 2026, 09:00 GMT: the cases below are logged then.
START = london(2026, 3, 2, 9)


def busy_case(desk_sergeant: Officer, investigator: Officer, supervisor: Officer, pclo: Officer, *,
              at: dt.datetime = START) -> Referral:
    """An investigation with nearly every referral clock running, all started at `at`: a phone referral
    (written follow-up) of a summary-only offence (limitation) with a CRAM (review, sign-off), an action,
    a strategy discussion held (minutes), an initial conference booked (police report) and a child taken
    into police protection."""
    referral = logged(desk_sergeant, at=at, channel="phone", summary_only_offence=True,
                      offence_date=(at - 10 * DAY).date())
    assessed(referral, desk_sergeant, at=at, owner=investigator, supervising_officer=supervisor)
    cram_completed(referral, investigator, at=at + HOUR)
    later = at + 2 * HOUR
    with time_machine.travel(later, tick=False):
        referral_services.action_create(referral=referral, actor=supervisor, now=later, owner=investigator,
                                        description="Obtain the nursery's body map", due_at=at + 3 * DAY)
        conference_services.meeting_create(referral=referral, actor=investigator, now=later,
                                           kind=MeetingKind.STRATEGY_DISCUSSION, starts_at=at + HOUR,
                                           place="Tottenham", chair_name="Chris Hale",
                                           chair_agency="Children's social care", held=True)
        conference_services.meeting_create(referral=referral, actor=pclo, now=later,
                                           kind=MeetingKind.INITIAL_CONFERENCE, starts_at=at + 14 * DAY,
                                           place="Civic Centre", chair_name="Val Moore",
                                           chair_agency="Safeguarding and Quality Assurance")
        conference_services.protection_start(referral=referral, actor=investigator, now=later,
                                             child=child_of(referral), started_at=later,
                                             designated_officer=investigator, reason="Parents arrested.")
    return referral


def social_services_case(desk_sergeant: Officer, *, at: dt.datetime = START) -> Referral:
    """Route "social services only", with a named contact for the overdue update."""
    referral = logged(desk_sergeant, at=at, referrer_email="jo.walker@haringey.gov.uk")
    return assessed(referral, desk_sergeant, at=at, route=Route.SOCIAL_SERVICES_ONLY)


def counts() -> dict[str, int]:
    return {"reminders": Reminder.objects.count(), "notifications": Notification.objects.count(),
            "partner_emails": PartnerEmail.objects.count(), "digests": DigestDelivery.objects.count(),
            "case_log": CaseLogEntry.objects.count(), "emails": len(mail.outbox)}


def states() -> dict[int, tuple]:
    return {row[0]: row[1:] for row in Reminder.objects.values_list(
        "pk", "state", "notified_at", "escalated_at", "escalated_to_id", "resolved_at")}


def assert_once_each() -> None:
    """No duplicate reminder, prompt or escalation entry, whatever ran."""
    keys = Counter(Reminder.objects.values_list("kind", "subject_type", "subject_id", "due_at"))
    assert [key for key, number in keys.items() if number > 1] == []
    prompts = Counter(Notification.objects.values_list("reminder_id", "recipient_id", "event"))
    assert [key for key, number in prompts.items() if number > 1] == []
    for reminder in Reminder.objects.filter(escalated_at__isnull=False, referral__isnull=False):
        entries = CaseLogEntry.objects.filter(referral_id=reminder.referral_id, text__startswith="Reminder escalated",
                                              text__contains=f"{reminder.title} (due "
                                                             f"{reminder.due_at.astimezone(LONDON):%d/%m/%Y %H:%M})")
        assert entries.count() == 1, reminder.title


def due_keys(now: dt.datetime) -> set[tuple]:
    return {item.key for item in Sources(now).all()}


# --- A rerun -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_rerun_at_the_same_moment_changes_nothing(desk_sergeant, investigator, supervisor, pclo):
    """Everything a sweep creates, prompts, escalates and e-mails is done once; the second run finds
    every row as the first left it, and the digest likewise."""
    busy_case(desk_sergeant, investigator, supervisor, pclo)
    social_services_case(desk_sergeant)
    moment = START + 22 * DAY - 2 * HOUR  # Tuesday 24 March 2026, 07:00 GMT: working day, updates overdue

    first = sweep_at(moment)
    with time_machine.travel(moment, tick=False):
        digests = digest_send(now=moment)
    assert first.created > 0 and first.notified > 0 and first.escalated > 0 and digests > 0
    before, rows = counts(), states()

    second = sweep_at(moment)
    with time_machine.travel(moment, tick=False):
        assert digest_send(now=moment) == 0
    assert vars(second) == {"created": 0, "resolved": 0, "notified": 0, "escalated": 0, "partner_emails": 0}
    assert counts() == before
    assert states() == rows
    assert_once_each()


# --- Two sweeps at once ----------------------------------------------------------------------------------


@requires_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_sweeps_at_the_same_moment_do_each_thing_once(desk_sergeant, investigator, supervisor, pclo,
                                                          inspector):
    """Two workers sweep at the same instant (a retry beside a beat, two beats): PostgreSQL's unique
    constraint and skip-locked claims leave one reminder, one prompt per recipient and one escalation
    entry per item, and one partner e-mail; neither sweep fails."""
    cases = [busy_case(desk_sergeant, investigator, supervisor, pclo, at=START + n * HOUR) for n in range(4)]
    social_services_case(desk_sergeant)
    moment = START + 22 * DAY  # 24 March: everything but the limitation has fallen due
    expected = due_keys(moment)

    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            sweep(now=moment)
        except BaseException as error:  # noqa: BLE001 (reported by the test below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    keys = list(Reminder.objects.values_list("kind", "subject_type", "subject_id", "due_at"))
    assert sorted(keys) == sorted(expected)
    overdue = Reminder.objects.filter(due_at__lt=moment)
    assert overdue.count() > 4 * 5
    assert set(overdue.values_list("state", flat=True)) == {ReminderState.ESCALATED}
    for reminder in overdue:
        assert sorted(reminder.notifications.values_list("event", flat=True)) == ["due", "overdue"]
    assert_once_each()
    assert [message.to for message in mail.outbox] == [["jo.walker@haringey.gov.uk"]]
    assert SweepRun.objects.filter(finished_at__isnull=False).count() == 2
    assert all(case.case_log.filter(text__startswith="Reminder escalated").exists() for case in cases)


@requires_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_sweeps_escalating_on_the_same_two_cases_do_not_deadlock(desk_sergeant, investigator, supervisor,
                                                                     monkeypatch):
    """Each escalation locks its referral to number a case-log entry. Two sweeps that split the overdue
    reminders between them (batches of two here) must take those locks in the same order, or one holds
    case X waiting for case Y while the other holds Y waiting for X, and PostgreSQL kills one of them.

    Case X has actions due at 10:00 and 13:00, case Y at 11:00 and 12:00. The first sweep takes its
    batch and escalates its first reminder (holding that case's lock); then the second takes the rest."""
    start = london(2026, 3, 2, 9)
    cases = []
    for _ in range(2):
        referral = logged(desk_sergeant, at=start)
        cases.append(assessed(referral, desk_sergeant, at=start, route=Route.NO_FURTHER_ACTION))
    case_x, case_y = cases
    with time_machine.travel(start, tick=False):
        for referral, hour in ((case_x, 10), (case_y, 11), (case_y, 12), (case_x, 13)):
            referral_services.action_create(referral=referral, actor=supervisor, now=start, owner=investigator,
                                            description=f"Action due at {hour}:00", due_at=london(2026, 3, 3, hour))
    moment = london(2026, 3, 3, 15)

    monkeypatch.setattr(sweep_module, "BATCH", 2)
    both_escalating = threading.Barrier(2)
    first_has_a_lock, second_has_a_lock = threading.Event(), threading.Event()
    role = threading.local()
    real_escalate, real_append = sweep_module.reminders_escalate, sweep_module.case_log_append

    def escalate(*, now: dt.datetime) -> int:
        both_escalating.wait(timeout=30)  # both have prompted everything
        if role.index == 1:
            first_has_a_lock.wait(timeout=30)
        return real_escalate(now=now)

    def append(**kwargs: object) -> CaseLogEntry:
        entry = real_append(**kwargs)
        if not getattr(role, "appended", False):
            role.appended = True
            if role.index == 0:
                first_has_a_lock.set()
                second_has_a_lock.wait(timeout=10)
            else:
                second_has_a_lock.set()
        return entry

    monkeypatch.setattr(sweep_module, "reminders_escalate", escalate)
    monkeypatch.setattr(sweep_module, "case_log_append", append)
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        role.index = index
        try:
            sweep(now=moment)
        except BaseException as error:  # noqa: BLE001 (reported by the test below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert set(Reminder.objects.values_list("state", flat=True)) == {ReminderState.ESCALATED}
    assert [case.case_log.filter(text__startswith="Reminder escalated").count() for case in cases] == [2, 2]
    assert_once_each()


# --- Catching up after an outage -------------------------------------------------------------------------


@pytest.mark.django_db
def test_one_sweep_after_ten_days_without_any_catches_up_and_the_next_does_nothing(
        desk_sergeant, investigator, supervisor, pclo, inspector):
    """Nothing is swept from Monday 2 to Thursday 12 March: the first sweep after makes every reminder,
    prompts each owner once and escalates each overdue item once (no prompt is lost or sent twice), and
    a sweep straight after changes nothing."""
    referral = busy_case(desk_sergeant, investigator, supervisor, pclo)
    social_services_case(desk_sergeant, at=START - 5 * DAY)
    assert not Reminder.objects.exists()
    moment = START + 10 * DAY + 3 * HOUR  # Thursday 12 March, noon

    result = sweep_at(moment)

    due = Reminder.objects.filter(notify_at__lte=moment)
    overdue = Reminder.objects.filter(due_at__lt=moment)
    assert {item for item in due_keys(moment)} == set(Reminder.objects.values_list(
        "kind", "subject_type", "subject_id", "due_at"))
    assert set(Reminder.objects.filter(notify_at__gt=moment).values_list("state", flat=True)) == {
        ReminderState.PENDING}
    assert set(overdue.values_list("state", flat=True)) == {ReminderState.ESCALATED}
    assert set(due.exclude(pk__in=overdue).values_list("state", flat=True)) <= {ReminderState.NOTIFIED}
    assert {ReminderKind.WRITTEN_FOLLOWUP, ReminderKind.CRAM_SIGNOFF, ReminderKind.ACTION,
            ReminderKind.POLICE_PROTECTION, ReminderKind.CONFERENCE_REPORT, ReminderKind.SOCIAL_SERVICES_UPDATE} <= set(
        overdue.values_list("kind", flat=True))
    assert (result.created, result.notified, result.escalated) == (Reminder.objects.count(), due.count(),
                                                                  overdue.count())
    assert Notification.objects.filter(event="due").count() == due.count()
    assert Notification.objects.filter(event="overdue").count() == overdue.count()
    assert referral.case_log.filter(text__startswith="Reminder escalated").count() == overdue.filter(
        referral=referral).count()
    assert len(mail.outbox) == 1
    before, rows = counts(), states()

    again = sweep_at(moment + MINUTE)
    assert (again.created, again.notified, again.escalated, again.resolved) == (0, 0, 0, 0)
    assert counts() == before and states() == rows
    assert_once_each()


# --- A sweep that dies half-way -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_sweep_interrupted_after_prompting_is_finished_by_the_next(desk_sergeant, investigator, supervisor,
                                                                   pclo, inspector, monkeypatch):
    """The worker dies after the prompts and before the escalations: the prompts are kept (each step
    commits on its own), nothing is half-escalated, the run is not recorded as finished, and the next
    sweep escalates everything without prompting anyone twice."""
    busy_case(desk_sergeant, investigator, supervisor, pclo)
    social_services_case(desk_sergeant)
    moment = START + 22 * DAY

    def dies(**kwargs: object) -> int:
        raise RuntimeError("worker lost")

    monkeypatch.setattr(sweep_module, "reminders_escalate", dies)
    with pytest.raises(RuntimeError), time_machine.travel(moment, tick=False):
        sweep(now=moment)
    overdue = Reminder.objects.filter(due_at__lt=moment)
    assert overdue.exists()
    assert set(overdue.values_list("state", flat=True)) == {ReminderState.NOTIFIED}
    assert Notification.objects.filter(event="due").count() == overdue.count()
    assert not Notification.objects.filter(event="overdue").exists()
    assert not CaseLogEntry.objects.filter(text__startswith="Reminder escalated").exists()
    assert PartnerEmail.objects.count() == 0 and mail.outbox == []
    assert last_sweep() is None and SweepRun.objects.get().finished_at is None

    monkeypatch.undo()
    result = sweep_at(moment + 15 * MINUTE)
    assert (result.created, result.notified, result.escalated) == (0, 0, overdue.count())
    assert set(overdue.values_list("state", flat=True)) == {ReminderState.ESCALATED}
    assert Notification.objects.filter(event="due").count() == overdue.count()
    assert Notification.objects.filter(event="overdue").count() == overdue.count()
    assert len(mail.outbox) == 1
    assert last_sweep().as_of == moment + 15 * MINUTE
    assert_once_each()


@pytest.mark.django_db
def test_a_failure_in_the_middle_of_an_escalation_batch_keeps_none_of_it(desk_sergeant, investigator,
                                                                       supervisor, pclo, inspector, monkeypatch):
    """The escalations of a batch commit together: a failure on the third leaves the first two as they
    were (prompted, not escalated, no case-log entry), and the next sweep escalates all of them once."""
    busy_case(desk_sergeant, investigator, supervisor, pclo)
    moment = START + 22 * DAY
    real = sweep_module._escalate
    calls: list[int] = []

    def fails_on_the_third(reminder: Reminder, *, now: dt.datetime) -> int:
        calls.append(reminder.pk)
        if len(calls) == 3:
            raise RuntimeError("database went away")
        return real(reminder, now=now)

    monkeypatch.setattr(sweep_module, "_escalate", fails_on_the_third)
    with pytest.raises(RuntimeError):
        sweep_at(moment)
    assert not Reminder.objects.filter(state=ReminderState.ESCALATED).exists()
    assert not Notification.objects.filter(event="overdue").exists()
    assert not CaseLogEntry.objects.filter(text__startswith="Reminder escalated").exists()

    monkeypatch.undo()
    result = sweep_at(moment + MINUTE)
    overdue = Reminder.objects.filter(due_at__lt=moment)
    assert result.escalated == overdue.count() > 3
    assert Notification.objects.filter(event="overdue").count() == overdue.count()
    assert_once_each()


@pytest.mark.django_db
def test_a_partner_email_the_mail_server_refused_is_sent_by_the_next_sweep(desk_sergeant, monkeypatch):
    """A failed hand-over to the mail server gives the claim back, so the e-mail is neither lost nor
    sent twice."""
    social_services_case(desk_sergeant)
    moment = START + 15 * DAY

    def refused(**kwargs: object) -> int:
        raise ConnectionRefusedError("SMTP server down")

    monkeypatch.setattr(sweep_module, "send_mail", refused)
    result = sweep_at(moment)
    assert (result.escalated, result.partner_emails) == (1, 0)
    assert PartnerEmail.objects.get().sent_at is None

    monkeypatch.undo()
    assert sweep_at(moment + 15 * MINUTE).partner_emails == 1
    assert sweep_at(moment + 30 * MINUTE).partner_emails == 0
    assert PartnerEmail.objects.get().sent_at == moment + 15 * MINUTE
    assert len(mail.outbox) == 1


# --- A sweep that read the database a moment before another ------------------------------------------


@pytest.mark.django_db
def test_a_reminder_resolved_by_a_sweep_that_read_the_database_earlier_reopens(desk_sergeant, supervisor):
    """Sweep A reads what is due; a referral is logged; sweep B makes its reminder; A, finishing, takes
    B's reminder for one whose item has gone and resolves it. The next sweep reopens it (the same due
    item cannot have a second reminder) and prompts the desk sergeant: nothing is missed."""
    logged(desk_sergeant, at=START, urgent=True)
    moment = START + HOUR
    with time_machine.travel(moment, tick=False):
        items_read_by_a = list(Sources(moment).all())
    late = logged(desk_sergeant, at=moment, urgent=True)
    sweep_at(moment)  # sweep B
    reminders_create(items_read_by_a, now=moment)  # sweep A carries on with what it read
    assert reminders_resolve(items_read_by_a, now=moment) == 1
    reminder = Reminder.objects.get(referral=late)
    assert reminder.state == ReminderState.RESOLVED

    sweep_at(moment + 15 * MINUTE)
    reminder.refresh_from_db()
    assert (reminder.state, reminder.resolved_at) == (ReminderState.PENDING, None)
    sweep_at(late.assessment_due_at)
    reminder.refresh_from_db()
    assert reminder.state == ReminderState.NOTIFIED
    assert Reminder.objects.filter(referral=late).count() == 1
    assert_once_each()


# --- Query count ----------------------------------------------------------------------------------------


def steady_sweep_queries(moment: dt.datetime) -> int:
    """Sweep once to bring everything up to date, then count the queries of a sweep with nothing new."""
    sweep_at(moment)
    with CaptureQueriesContext(connection) as queries, time_machine.travel(moment, tick=False):
        result = sweep(now=moment)
    assert vars(result) == {"created": 0, "resolved": 0, "notified": 0, "escalated": 0, "partner_emails": 0}
    return len(queries)


# The steady-state sweep: the run's row (made and finished), the officers, supervisors and timescales
# (3), one query per source of SPEC §5 and the PCLOs (14), the reminders already made (one query per
# kind of subject: 4), the unresolved ones, one empty claim each for prompting and escalating, the
# partner e-mails; and, inside the test's transaction, a savepoint and its release for each of the
# three atomic steps (6).
SWEEP_QUERIES = 33


@pytest.mark.django_db
def test_a_sweep_makes_the_same_number_of_queries_for_3_cases_as_for_30(
        desk_sergeant, investigator, supervisor, pclo, inspector, django_assert_max_num_queries):
    """Every case is due (prompted, nothing yet overdue): the sweep's queries do not grow with the cases."""
    for n in range(3):
        busy_case(desk_sergeant, investigator, supervisor, pclo, at=START + n * MINUTE)
    social_services_case(desk_sergeant)
    # Wednesday 4 March, 11:00: police protection is past its 48-hour warning, nothing is overdue yet
    # apart from the written follow-ups (escalated by the first sweep).
    moment = START + 2 * DAY + 3 * HOUR
    with_3 = steady_sweep_queries(moment)
    assert Reminder.objects.filter(state=ReminderState.NOTIFIED, kind=ReminderKind.POLICE_PROTECTION).count() == 3

    for n in range(3, 30):
        busy_case(desk_sergeant, investigator, supervisor, pclo, at=START + n * MINUTE)
    with_30 = steady_sweep_queries(moment)
    assert Reminder.objects.filter(state=ReminderState.NOTIFIED, kind=ReminderKind.POLICE_PROTECTION).count() == 30

    assert with_30 == with_3, f"a sweep of 30 cases made {with_30} queries, of 3 cases {with_3}"
    with django_assert_max_num_queries(SWEEP_QUERIES), time_machine.travel(moment, tick=False):
        sweep(now=moment)


# --- The command -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sweep_reminders_command_sweeps_as_of_a_london_time_and_prints_the_counts(desk_sergeant, supervisor):
    """Two urgent referrals received 06:30 on Tuesday 10 March 2026 are due at 08:30: swept as of 09:00
    they are made, prompted and escalated."""
    for _ in range(2):
        logged(desk_sergeant, at=london(2026, 3, 10, 6, 30), urgent=True)
    out = io.StringIO()
    with time_machine.travel(london(2026, 3, 10, 9, 5), tick=False):
        call_command("sweep_reminders", "--as-of", "2026-03-10T09:00", stdout=out)
    assert out.getvalue().strip() == ("Sweep as of 10/03/2026 09:00: 2 created, 2 notified, 2 escalated, "
                                      "0 resolved, 0 partner e-mails, 2 digests.")
    assert last_sweep().as_of == london(2026, 3, 10, 9)


@pytest.mark.django_db
def test_sweep_reminders_command_refuses_an_as_of_it_cannot_read():
    with pytest.raises(CommandError, match="argument --as-of: 'next tuesday' is not a date and time such as "
                                           "2026-11-23T09:00"):
        call_command("sweep_reminders", "--as-of", "next tuesday")
    assert not SweepRun.objects.exists()


def test_sweep_reminders_command_line_says_what_is_wrong_with_the_as_of():
    """From the shell: the usage and a one-line error, a failing exit status, no traceback."""
    manage = Path(settings.BASE_DIR) / "manage.py"
    finished = subprocess.run([sys.executable, str(manage), "sweep_reminders", "--as-of", "10/03/2026 9am"],
                              capture_output=True, text=True, timeout=120, cwd=settings.BASE_DIR)
    assert finished.returncode == 2
    assert ("error: argument --as-of: '10/03/2026 9am' is not a date and time such as 2026-11-23T09:00 "
            "(London time)") in finished.stderr
    assert "Traceback" not in finished.stderr


# --- The simulation ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sixty_days_of_simulated_casework_leave_no_duplicate_and_miss_nothing():
    """Two months of referrals, CRAMs, meetings, protection and actions, resolved on a random schedule,
    swept with outages and double sweeps: every due item is prompted, none twice."""
    # Outages and double sweeps made likelier than in the long run, so sixty days have several of each.
    report = simulate(days=60, referrals_per_day=1, seed=1, outage_chance=1 / 15, double_sweep_chance=1 / 8)
    assert report.days == 60
    assert report.came_due > 50 and report.reminders > 50 and report.notifications > 50
    # Outages are random and may not fall in two months; the catch-up test above covers them.
    assert report.escalations > 0 and report.double_sweeps > 0
    assert report.double_sweep_changes == 0
    assert (report.duplicate_reminders, report.duplicate_notifications, report.missed) == (0, 0, 0)
