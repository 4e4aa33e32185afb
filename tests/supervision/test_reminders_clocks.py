"""Every clock of SPEC §5 through the reminder sweep, with time frozen at its edges.

Each situation is built through the services (log a referral, assess it, complete a CRAM, schedule
or hold a meeting, start police protection, set an action, a leaving date, a summary-only offence).
The sweep then runs a minute before the notify time (a pending reminder, nobody prompted), at it
(the owner prompted once), at the due time (still only prompted) and a minute after (escalated to
the owner's supervisor: an "overdue" prompt and a "Reminder escalated" entry in the case log).
Doing the thing resolves the reminder at the next sweep.

The cast: DS Dawn Price (desk sergeant), DC Ian Vance (investigator), DS Sue Perkins (the team's
supervisor, whose line manager is DI Grace Hall), PC Priya Shah (conference liaison officer) and
DC Nadia Khan (another investigator, who takes over a leaver's work).
"""
from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from conferences import services as conference_services
from conferences.models import Meeting, MeetingKind, PoliceProtection
from cram_site.calendar import LONDON
from cram_site.models import Officer, Rank
from referrals import services as referral_services
from referrals.models import Action, CaseLogKind, Referral, Route
from risk import services as risk_services
from risk.models import Assessment
from supervision.models import (
    Notification,
    PartnerEmail,
    Reminder,
    ReminderKind,
    ReminderState,
)
from supervision.review_services import investigation_review_record
from supervision.sweep import SweepResult, sweep
from tests.factories import OfficerFactory

pytestmark = pytest.mark.django_db

MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
UTC = dt.UTC


def london(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON)


def utc(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- The rest of the cast ---------------------------------------------------------------------------


@pytest.fixture
def inspector(supervisor: Officer) -> Officer:
    """DI Grace Hall, line manager of DS Sue Perkins: a supervisor's own overdue work goes to her."""
    grace = OfficerFactory(username="inspector-hy", first_name="Grace", last_name="Hall", rank=Rank.DI,
                           staff_number="DI808", team=supervisor.team)
    supervisor.line_manager = grace
    supervisor.save(update_fields=["line_manager"])
    return grace


@pytest.fixture
def pclo(supervisor: Officer) -> Officer:
    return OfficerFactory(username="pclo-hy", first_name="Priya", last_name="Shah", rank=Rank.PC,
                          staff_number="PC515", team=supervisor.team, roles=["pclo"])


@pytest.fixture
def second_investigator(supervisor: Officer) -> Officer:
    return OfficerFactory(username="investigator2-hy", first_name="Nadia", last_name="Khan", rank=Rank.DC,
                          staff_number="DC626", team=supervisor.team, roles=["investigator"])


# --- Building the situations through the services -----------------------------------------------------


def logged(actor: Officer, *, at: dt.datetime, received_at: dt.datetime | None = None,
           **fields: object) -> Referral:
    """A referral logged by `actor` at `at` (received then unless told), about Amara and Tobi Okafor."""
    people = [
        referral_services.PersonDetails(role="victim", first_name="Amara", last_name="Okafor",
                                        date_of_birth=dt.date(2019, 3, 14)),
        referral_services.PersonDetails(role="sibling", first_name="Tobi", last_name="Okafor",
                                        date_of_birth=dt.date(2021, 6, 2)),
        referral_services.PersonDetails(role="suspect", first_name="Mark", last_name="Dorsey",
                                        date_of_birth=dt.date(1990, 1, 9)),
    ]
    values: dict[str, object] = dict(
        team=actor.team, actor=actor, now=at, received_at=received_at or at, channel="email",
        source_agency="Children's social care", referrer_name="Jo Walker", allegation_category="physical",
        summary="Bruising to the upper arm noticed at nursery.", people=people)
    values.update(fields)
    with time_machine.travel(at, tick=False):
        return referral_services.referral_log(**values)


def assessed(referral: Referral, actor: Officer, *, at: dt.datetime, route: str = Route.POLICE_INVESTIGATION,
             owner: Officer | None = None, supervising_officer: Officer | None = None,
             urgency: str = "routine") -> Referral:
    with time_machine.travel(at, tick=False):
        return referral_services.referral_assess(
            referral=referral, actor=actor, now=at, urgency=urgency, route=route,
            rationale="Physical injury to a pre-school child.", owner=owner,
            supervising_officer=supervising_officer)


def investigation(desk_sergeant: Officer, investigator: Officer, supervisor: Officer, *, at: dt.datetime,
                  **fields: object) -> Referral:
    """Logged and assessed at `at` as a police investigation for DC Vance, supervised by DS Perkins."""
    referral = logged(desk_sergeant, at=at, **fields)
    return assessed(referral, desk_sergeant, at=at, owner=investigator, supervising_officer=supervisor)


def cram_completed(referral: Referral, actor: Officer, *, at: dt.datetime, kind: str = "initial") -> Assessment:
    """A CRAM started and completed at `at`: every factor "no", rated standard."""
    with time_machine.travel(at, tick=False):
        assessment = risk_services.assessment_start(referral=referral, kind=kind, actor=actor, now=at)
        answers = {answer.code: risk_services.AnswerInput("no") for answer in assessment.answers.all()}
        data = risk_services.AssessmentInput(revision=assessment.revision, answers=answers, rating="standard")
        return risk_services.assessment_save(assessment=assessment, data=data, actor=actor, now=at,
                                             complete=True)


def child_of(referral: Referral) -> object:
    return referral.referral_people.get(role="victim").person


# --- Sweeping and reading what it did ------------------------------------------------------------------


def sweep_at(moment: dt.datetime) -> SweepResult:
    """One sweep with the clock frozen at `moment`; the sweep reads it once, as the task does."""
    with time_machine.travel(moment, tick=False):
        return sweep(now=timezone.now())


def reminder_for(kind: str, subject: object) -> Reminder:
    """The one unresolved reminder of this kind about this subject (fails if none or several)."""
    return Reminder.objects.unresolved().get(kind=kind, subject_type=subject._meta.label_lower,
                                             subject_id=subject.pk)


def prompts(reminder: Reminder) -> list[tuple[int, str]]:
    return list(Notification.objects.filter(reminder=reminder).order_by("pk").values_list("recipient_id", "event"))


def escalation_entries(referral: Referral, reminder: Reminder) -> list[str]:
    due = f"{reminder.title} (due {reminder.due_at.astimezone(LONDON):%d/%m/%Y %H:%M})"
    return list(referral.case_log.filter(kind=CaseLogKind.SYSTEM, text__startswith="Reminder escalated",
                                         text__contains=due).values_list("text", flat=True))


def assert_clock(*, kind: str, subject: object, notify_at: dt.datetime, due_at: dt.datetime, owner: Officer,
                 supervisor: Officer | None, referral: Referral | None = None) -> Reminder:
    """Sweep a minute before the notify time, at it, at the due time and a minute after the due time."""
    # A minute before: the reminder is there, waiting; nobody has been prompted.
    sweep_at(notify_at - MINUTE)
    reminder = reminder_for(kind, subject)
    assert (reminder.state, reminder.notify_at, reminder.due_at, reminder.owner_id) == (
        ReminderState.PENDING, notify_at, due_at, owner.pk)
    assert prompts(reminder) == []

    # At the notify time: the owner is prompted, once.
    sweep_at(notify_at)
    reminder.refresh_from_db()
    assert (reminder.state, reminder.notified_at) == (ReminderState.NOTIFIED, notify_at)
    assert prompts(reminder) == [(owner.pk, Notification.Event.DUE)]

    # At the due time it is due, not yet overdue.
    sweep_at(due_at)
    reminder.refresh_from_db()
    assert reminder.state == ReminderState.NOTIFIED
    assert prompts(reminder) == [(owner.pk, Notification.Event.DUE)]

    # A minute after: overdue, escalated to the owner's supervisor with a note in the case log.
    sweep_at(due_at + MINUTE)
    reminder.refresh_from_db()
    assert (reminder.state, reminder.escalated_at) == (ReminderState.ESCALATED, due_at + MINUTE)
    assert reminder.escalated_to_id == (supervisor.pk if supervisor else None)
    expected = [(owner.pk, Notification.Event.DUE)]
    if supervisor is not None:
        expected.append((supervisor.pk, Notification.Event.OVERDUE))
    assert prompts(reminder) == expected
    if referral is not None:
        entries = escalation_entries(referral, reminder)
        assert len(entries) == 1
        assert supervisor is None or supervisor.display_name in entries[0]
    return reminder


def assert_resolved(reminder: Reminder, at: dt.datetime) -> None:
    sweep_at(at)
    reminder.refresh_from_db()
    assert (reminder.state, reminder.resolved_at) == (ReminderState.RESOLVED, at)


# --- Desk assessment: urgent 2 hours, otherwise 1 working day ------------------------------------------


def test_urgent_desk_assessment_is_due_two_hours_after_receipt(desk_sergeant, supervisor):
    """Received 10:00 on Tuesday 10 March 2026: the desk sergeant is prompted at 12:00 and the duty
    supervisor takes it over at 12:01; assessing the referral resolves it."""
    referral = logged(desk_sergeant, at=london(2026, 3, 10, 10, 5), received_at=london(2026, 3, 10, 10),
                      urgent=True)

    reminder = assert_clock(kind=ReminderKind.DESK_ASSESSMENT, subject=referral, notify_at=utc(2026, 3, 10, 12),
                            due_at=utc(2026, 3, 10, 12), owner=desk_sergeant, supervisor=supervisor,
                            referral=referral)

    assessed(referral, desk_sergeant, at=london(2026, 3, 10, 12, 30), urgency="urgent",
             route=Route.NO_FURTHER_ACTION)
    assert_resolved(reminder, london(2026, 3, 10, 12, 45))


def test_routine_desk_assessment_waits_one_working_day_over_the_christmas_bank_holidays(desk_sergeant,
                                                                                          supervisor):
    """Received 15:00 on Thursday 24 December 2026: Christmas Day, the weekend and Boxing Day (observed,
    Monday 28th) are not working days, so it is due 15:00 on Tuesday 29 December."""
    referral = logged(desk_sergeant, at=london(2026, 12, 24, 15), received_at=london(2026, 12, 24, 15))

    # A calendar-day count would have made it overdue on Monday 28th: it is not.
    sweep_at(london(2026, 12, 28, 15, 1))
    assert reminder_for(ReminderKind.DESK_ASSESSMENT, referral).state == ReminderState.PENDING

    assert_clock(kind=ReminderKind.DESK_ASSESSMENT, subject=referral, notify_at=utc(2026, 12, 29, 15),
                 due_at=utc(2026, 12, 29, 15), owner=desk_sergeant, supervisor=supervisor, referral=referral)


def test_desk_assessment_done_before_its_due_time_never_escalates(desk_sergeant, supervisor):
    referral = logged(desk_sergeant, at=london(2026, 3, 10, 10), urgent=True)
    sweep_at(london(2026, 3, 10, 12))
    reminder = reminder_for(ReminderKind.DESK_ASSESSMENT, referral)
    assert reminder.state == ReminderState.NOTIFIED

    assessed(referral, desk_sergeant, at=london(2026, 3, 10, 12, 0), urgency="urgent",
             route=Route.NO_FURTHER_ACTION)
    assert_resolved(reminder, london(2026, 3, 10, 12, 1))

    sweep_at(london(2026, 3, 11, 9))
    reminder.refresh_from_db()
    assert reminder.state == ReminderState.RESOLVED and reminder.escalated_at is None
    assert prompts(reminder) == [(desk_sergeant.pk, Notification.Event.DUE)]
    assert escalation_entries(referral, reminder) == []


# --- Written follow-up of a phone referral: 1 working day ---------------------------------------------


def test_written_follow_up_of_a_phone_referral_over_the_spring_bank_holiday(desk_sergeant, supervisor):
    """Phoned in 16:00 on Friday 22 May 2026; Monday 25th is the Spring bank holiday, so the written
    referral is due 16:00 BST (15:00 UTC) on Tuesday 26th. Recording it resolves the reminder."""
    referral = logged(desk_sergeant, at=london(2026, 5, 22, 16), channel="phone")
    assessed(referral, desk_sergeant, at=london(2026, 5, 22, 16, 30), route=Route.NO_FURTHER_ACTION)

    reminder = assert_clock(kind=ReminderKind.WRITTEN_FOLLOWUP, subject=referral, notify_at=utc(2026, 5, 26, 15),
                            due_at=utc(2026, 5, 26, 15), owner=desk_sergeant, supervisor=supervisor,
                            referral=referral)

    with time_machine.travel(london(2026, 5, 27, 9), tick=False):
        referral_services.written_followup_record(referral=referral, actor=desk_sergeant,
                                                  now=london(2026, 5, 27, 9), received_at=london(2026, 5, 27, 8))
    assert_resolved(reminder, london(2026, 5, 27, 9, 15))


# --- Update from social services: 14 days, escalating to the named contact --------------------------


def test_social_services_update_escalates_to_the_partner_contact_by_one_email(desk_sergeant, supervisor):
    """Route chosen 11:00 Tuesday 10 March 2026: the update is due 11:00 on Tuesday 24 March. Overdue,
    it goes to the team supervisor and, by one e-mail, to the referrer; receiving it resolves it."""
    referral = logged(desk_sergeant, at=london(2026, 3, 10, 9), referrer_email="jo.walker@haringey.gov.uk")
    assessed(referral, desk_sergeant, at=london(2026, 3, 10, 11), route=Route.SOCIAL_SERVICES_ONLY)

    reminder = assert_clock(kind=ReminderKind.SOCIAL_SERVICES_UPDATE, subject=referral,
                            notify_at=utc(2026, 3, 24, 11), due_at=utc(2026, 3, 24, 11), owner=desk_sergeant,
                            supervisor=supervisor, referral=referral)

    partner_email = PartnerEmail.objects.get(reminder=reminder)
    assert (partner_email.address, partner_email.sent_at) == ("jo.walker@haringey.gov.uk", utc(2026, 3, 24, 11, 1))
    assert [message.to for message in mail.outbox] == [["jo.walker@haringey.gov.uk"]]
    assert mail.outbox[0].subject == f"Overdue: {referral.urn}: update from social services due"
    assert referral.urn in mail.outbox[0].body and "24/03/2026" in mail.outbox[0].body
    assert "the partner contact jo.walker@haringey.gov.uk" in escalation_entries(referral, reminder)[0]

    # Later sweeps send nothing more.
    sweep_at(london(2026, 3, 24, 12))
    sweep_at(london(2026, 3, 25, 9))
    assert len(mail.outbox) == 1
    assert PartnerEmail.objects.count() == 1

    with time_machine.travel(london(2026, 3, 26, 10), tick=False):
        referral_services.social_services_update_record(
            referral=referral, actor=desk_sergeant, now=london(2026, 3, 26, 10), received_at=london(2026, 3, 26, 9),
            note="Section 17 assessment under way; no further concerns.")
    assert_resolved(reminder, london(2026, 3, 26, 10, 15))


# --- CRAM review (42 days) and sign-off (3 working days) ---------------------------------------------


def test_cram_review_falls_due_42_days_on_at_the_same_london_time_across_the_october_clock_change(
        desk_sergeant, investigator, supervisor):
    """Completed 10:00 BST on Tuesday 22 September 2026; the clocks go back on 25 October, so the
    review is due 10:00 GMT (10:00 UTC) on Tuesday 3 November, not 09:00 UTC as 42 × 24 hours would be.
    A new CRAM resolves it and starts the next 42 days."""
    referral = investigation(desk_sergeant, investigator, supervisor, at=london(2026, 9, 22, 9))
    cram_completed(referral, investigator, at=london(2026, 9, 22, 10))

    reminder = assert_clock(kind=ReminderKind.CRAM_REVIEW, subject=referral, notify_at=utc(2026, 11, 3, 10),
                            due_at=utc(2026, 11, 3, 10), owner=investigator, supervisor=supervisor,
                            referral=referral)

    cram_completed(referral, investigator, at=london(2026, 11, 4, 9), kind="review")
    assert_resolved(reminder, london(2026, 11, 4, 9, 15))
    following = reminder_for(ReminderKind.CRAM_REVIEW, referral)
    assert (following.state, following.due_at) == (ReminderState.PENDING, london(2026, 12, 16, 9))


def test_cram_sign_off_is_due_three_working_days_after_completion_and_escalates_to_the_line_manager(
        desk_sergeant, investigator, supervisor, inspector):
    """Completed 10:00 on Christmas Eve 2026: 29, 30 and 31 December are the three working days. DS
    Perkins is prompted; overdue, it goes to her line manager, DI Hall. Signing off resolves it."""
    referral = investigation(desk_sergeant, investigator, supervisor, at=london(2026, 12, 24, 9))
    assessment = cram_completed(referral, investigator, at=london(2026, 12, 24, 10))

    reminder = assert_clock(kind=ReminderKind.CRAM_SIGNOFF, subject=referral, notify_at=utc(2026, 12, 31, 10),
                            due_at=utc(2026, 12, 31, 10), owner=supervisor, supervisor=inspector,
                            referral=referral)

    signed_at = london(2027, 1, 4, 9)
    with time_machine.travel(signed_at, tick=False):
        risk_services.assessment_sign_off(assessment=assessment, actor=supervisor, now=signed_at,
                                          data=risk_services.SignOffInput(
                                              decision="agreed", rating_justified="yes", gaps_addressed="yes",
                                              measures_adequate="yes", actions_timely="yes",
                                              comments="Rating right."))
    assert_resolved(reminder, signed_at + MINUTE)


# --- Supervisory review of an investigation (28 days) and inactivity (14 days) -------------------------


def test_investigation_review_is_due_28_days_after_assessment_then_28_days_after_each_review(
        desk_sergeant, investigator, supervisor, inspector):
    """Assessed 11:00 GMT on 10 March 2026: the review is due 11:00 BST (10:00 UTC) on 7 April, prompting
    DS Perkins and then DI Hall. A review recorded on 8 April moves it on to that review's next date."""
    referral = investigation(desk_sergeant, investigator, supervisor, at=london(2026, 3, 10, 11))

    reminder = assert_clock(kind=ReminderKind.INVESTIGATION_REVIEW, subject=referral,
                            notify_at=utc(2026, 4, 7, 10), due_at=utc(2026, 4, 7, 10), owner=supervisor,
                            supervisor=inspector, referral=referral)

    reviewed = london(2026, 4, 8, 9)
    with time_machine.travel(reviewed, tick=False):
        investigation_review_record(referral=referral, actor=supervisor, now=reviewed,
                                    direction="Interview the suspect this week.", investigation_progressing="yes",
                                    risk_managed="yes", records_complete="partly", actions_timely="yes")
    sweep_at(reviewed + 15 * MINUTE)
    reminder.refresh_from_db()
    assert reminder.state == ReminderState.RESOLVED
    following = reminder_for(ReminderKind.INVESTIGATION_REVIEW, referral)
    assert (following.state, following.due_at) == (ReminderState.PENDING, london(2026, 5, 6, 9))


def test_inactivity_counts_from_the_last_officer_entry_not_the_systems_own(desk_sergeant, investigator,
                                                                          supervisor):
    """The desk assessment (11:00 GMT, 10 March 2026) is the last officer entry: the case is inactive from
    11:00 on 24 March. A system entry on 20 March and the escalation's own entry change nothing; an
    officer's entry on 25 March resolves it and restarts the 14 days (09:00 BST on 8 April)."""
    referral = investigation(desk_sergeant, investigator, supervisor, at=london(2026, 3, 10, 11))
    with time_machine.travel(london(2026, 3, 20, 9), tick=False):
        referral_services.case_log_append(referral=referral, kind=CaseLogKind.SYSTEM, actor=None,
                                          now=london(2026, 3, 20, 9), text="Crime report synchronised.")

    reminder = assert_clock(kind=ReminderKind.INACTIVITY, subject=referral, notify_at=utc(2026, 3, 24, 11),
                            due_at=utc(2026, 3, 24, 11), owner=investigator, supervisor=supervisor,
                            referral=referral)
    sweep_at(london(2026, 3, 24, 15))
    assert reminder_for(ReminderKind.INACTIVITY, referral) == reminder

    with time_machine.travel(london(2026, 3, 25, 9), tick=False):
        referral_services.case_log_append(referral=referral, kind=CaseLogKind.INFORMATION, actor=investigator,
                                          now=london(2026, 3, 25, 9), text="Spoke to the nursery manager.")
    assert_resolved(reminder, london(2026, 3, 25, 9, 15))
    following = reminder_for(ReminderKind.INACTIVITY, referral)
    assert (following.state, following.due_at) == (ReminderState.PENDING, utc(2026, 4, 8, 8))


# --- Limitation of a summary-only offence: 6 months, warned at 4, 5 and 14 days before ----------------


def test_limitation_of_a_summary_only_offence_warns_at_four_and_five_months_and_14_days_before(
        desk_sergeant, investigator, supervisor):
    """Common assault on 15 January 2026 (counted from 09:00 London time): warnings on 15 May and 15 June,
    the final one on 1 July, and the limit on 15 July (all 09:00 BST, 08:00 UTC); each escalates to the
    supervisor when it passes."""
    referral = investigation(desk_sergeant, investigator, supervisor, at=london(2026, 1, 20, 10),
                             summary_only_offence=True, offence_date=dt.date(2026, 1, 15))

    for kind, moment in ((ReminderKind.LIMITATION_FIRST, utc(2026, 5, 15, 8)),
                         (ReminderKind.LIMITATION_SECOND, utc(2026, 6, 15, 8)),
                         (ReminderKind.LIMITATION_FINAL, utc(2026, 7, 1, 8)),
                         (ReminderKind.LIMITATION, utc(2026, 7, 15, 8))):
        reminder = assert_clock(kind=kind, subject=referral, notify_at=moment, due_at=moment, owner=investigator,
                                supervisor=supervisor, referral=referral)
        assert "limitation 15/07/2026" in reminder.title

    # Four warnings, each prompted once and escalated once.
    limitation = Reminder.objects.filter(referral=referral, kind__startswith="limitation")
    assert limitation.count() == 4
    assert Notification.objects.filter(reminder__in=limitation).count() == 8
    assert referral.case_log.filter(text__startswith="Reminder escalated", text__contains="limitation").count() == 4


# --- Police report and pre-conference CRAM: 2 working days before an initial, 5 before a review ------


def submitted_report(meeting: Meeting, referral: Referral, pclo: Officer, *, at: dt.datetime) -> None:
    """A pre-conference CRAM completed and the police report written and submitted at `at`."""
    cram_completed(referral, pclo, at=at - HOUR, kind="pre_conference")
    with time_machine.travel(at, tick=False):
        report = conference_services.police_report_open(meeting=meeting, actor=pclo, now=at)
        conference_services.police_report_save(report=report, actor=pclo, now=at,
                                               summary_of_concerns="Unexplained bruising.",
                                               police_involvement="Investigation open.", analysis="Medium risk.",
                                               recommendations="A child protection plan.")
        conference_services.police_report_submit(report=report, actor=pclo, now=at, submitted_to="The chair",
                                                 contents={})


def test_police_report_for_an_initial_conference_is_due_two_working_days_before(desk_sergeant, investigator,
                                                                                 supervisor, pclo):
    """Initial conference 10:00 on Monday 16 March 2026: the PCLO's report is due 10:00 on Thursday 12th;
    submitting it resolves the reminder."""
    referral = investigation(desk_sergeant, investigator, supervisor, at=london(2026, 3, 2, 9))
    cram_completed(referral, investigator, at=london(2026, 3, 2, 10))
    with time_machine.travel(london(2026, 3, 3, 9), tick=False):
        meeting = conference_services.meeting_create(
            referral=referral, actor=pclo, now=london(2026, 3, 3, 9), kind=MeetingKind.INITIAL_CONFERENCE,
            starts_at=london(2026, 3, 16, 10), place="Civic Centre", chair_name="Val Moore",
            chair_agency="Safeguarding and Quality Assurance")

    reminder = assert_clock(kind=ReminderKind.CONFERENCE_REPORT, subject=meeting, notify_at=utc(2026, 3, 12, 10),
                            due_at=utc(2026, 3, 12, 10), owner=pclo, supervisor=supervisor, referral=referral)

    submitted_report(meeting, referral, pclo, at=london(2026, 3, 13, 11))
    assert_resolved(reminder, london(2026, 3, 13, 11, 15))


def test_police_report_for_a_review_conference_is_due_five_working_days_before(desk_sergeant, investigator,
                                                                                supervisor, pclo):
    """Review conference 10:00 BST on Monday 15 June 2026: the report is due 10:00 BST (09:00 UTC) on
    Monday 8 June; a report submitted in time means no prompt is ever overdue."""
    referral = investigation(desk_sergeant, investigator, supervisor, at=london(2026, 5, 1, 9))
    cram_completed(referral, investigator, at=london(2026, 5, 1, 10))
    with time_machine.travel(london(2026, 5, 4, 9), tick=False):
        meeting = conference_services.meeting_create(
            referral=referral, actor=pclo, now=london(2026, 5, 4, 9), kind=MeetingKind.REVIEW_CONFERENCE,
            starts_at=london(2026, 6, 15, 10), place="Civic Centre", chair_name="Val Moore",
            chair_agency="Safeguarding and Quality Assurance")

    reminder = assert_clock(kind=ReminderKind.CONFERENCE_REPORT, subject=meeting, notify_at=utc(2026, 6, 8, 9),
                            due_at=utc(2026, 6, 8, 9), owner=pclo, supervisor=supervisor, referral=referral)
    submitted_report(meeting, referral, pclo, at=london(2026, 6, 9, 11))
    assert_resolved(reminder, london(2026, 6, 9, 11, 15))


# --- Minutes of a meeting: 20 working days ----------------------------------------------------------


def test_minutes_are_due_20_working_days_after_the_meeting_over_easter(desk_sergeant, investigator,
                                                                      supervisor):
    """Strategy discussion 10:00 GMT on Tuesday 10 March 2026: twenty working days, skipping Good Friday
    and Easter Monday, end at 10:00 BST (09:00 UTC) on Thursday 9 April. Receiving them resolves it."""
    referral = investigation(desk_sergeant, investigator, supervisor, at=london(2026, 3, 9, 15))
    with time_machine.travel(london(2026, 3, 10, 11), tick=False):
        meeting = conference_services.meeting_create(
            referral=referral, actor=investigator, now=london(2026, 3, 10, 11),
            kind=MeetingKind.STRATEGY_DISCUSSION, starts_at=london(2026, 3, 10, 10), place="Tottenham",
            chair_name="Chris Hale", chair_agency="Children's social care", held=True)

    reminder = assert_clock(kind=ReminderKind.MINUTES, subject=meeting, notify_at=utc(2026, 4, 9, 9),
                            due_at=utc(2026, 4, 9, 9), owner=investigator, supervisor=supervisor, referral=referral)

    with time_machine.travel(london(2026, 4, 10, 9), tick=False):
        conference_services.minutes_record(meeting=meeting, actor=investigator, now=london(2026, 4, 10, 9),
                                           received_at=london(2026, 4, 10, 8))
    assert_resolved(reminder, london(2026, 4, 10, 9, 15))


# --- Police protection: warn at 48 hours, ends by 72 hours ----------------------------------------------


def test_police_protection_warns_at_48_hours_and_is_overdue_after_72_elapsed_hours(desk_sergeant, investigator,
                                                                                 supervisor):
    """Taken at 22:00 GMT on Friday 27 March 2026. The clocks go forward at 01:00 on the 29th, but hours
    are elapsed time: the warning comes at 22:00 UTC (23:00 BST) on the 29th, the limit at 22:00 UTC on
    the 30th."""
    referral = investigation(desk_sergeant, investigator, supervisor, at=london(2026, 3, 27, 20))
    with time_machine.travel(london(2026, 3, 27, 22, 30), tick=False):
        protection = conference_services.protection_start(
            referral=referral, actor=investigator, now=london(2026, 3, 27, 22, 30), child=child_of(referral),
            started_at=london(2026, 3, 27, 22), designated_officer=investigator, reason="Found alone at night.")

    assert_clock(kind=ReminderKind.POLICE_PROTECTION, subject=protection, notify_at=utc(2026, 3, 29, 22),
                 due_at=utc(2026, 3, 30, 22), owner=investigator, supervisor=supervisor, referral=referral)


def test_ending_police_protection_resolves_its_reminder(desk_sergeant, investigator, supervisor):
    referral = investigation(desk_sergeant, investigator, supervisor, at=london(2026, 3, 10, 9))
    with time_machine.travel(london(2026, 3, 10, 10), tick=False):
        protection = conference_services.protection_start(
            referral=referral, actor=investigator, now=london(2026, 3, 10, 10), child=child_of(referral),
            started_at=london(2026, 3, 10, 10), designated_officer=investigator, reason="Parents arrested.")
    sweep_at(london(2026, 3, 12, 10))
    reminder = reminder_for(ReminderKind.POLICE_PROTECTION, protection)
    assert reminder.state == ReminderState.NOTIFIED

    ended = london(2026, 3, 12, 14)
    with time_machine.travel(ended, tick=False):
        conference_services.protection_end(protection=PoliceProtection.objects.get(pk=protection.pk),
                                           actor=investigator, now=ended, ended_at=ended, note="Home with an aunt.")
    assert_resolved(reminder, ended + MINUTE)
    sweep_at(london(2026, 3, 14, 10))
    reminder.refresh_from_db()
    assert reminder.state == ReminderState.RESOLVED and reminder.escalated_at is None


# --- Actions -----------------------------------------------------------------------------------------


def test_an_action_is_due_at_its_due_time_and_resolves_when_done(desk_sergeant, investigator, supervisor):
    referral = investigation(desk_sergeant, investigator, supervisor, at=london(2026, 3, 10, 9))
    with time_machine.travel(london(2026, 3, 10, 10), tick=False):
        action = referral_services.action_create(
            referral=referral, actor=supervisor, now=london(2026, 3, 10, 10), owner=investigator,
            description="Obtain the nursery's body map", due_at=london(2026, 3, 13, 17))

    reminder = assert_clock(kind=ReminderKind.ACTION, subject=action, notify_at=utc(2026, 3, 13, 17),
                            due_at=utc(2026, 3, 13, 17), owner=investigator, supervisor=supervisor, referral=referral)
    assert reminder.title == f"{referral.urn}: Obtain the nursery's body map"

    with time_machine.travel(london(2026, 3, 16, 9), tick=False):
        referral_services.action_finish(action=Action.objects.get(pk=action.pk), actor=investigator,
                                        now=london(2026, 3, 16, 9), status="done", note="Body map on file.")
    assert_resolved(reminder, london(2026, 3, 16, 9, 15))


# --- A leaver's open work: reallocate before the leaving date, warned 14 days before --------------------


def test_a_leavers_open_work_prompts_the_supervisor_14_days_before_the_leaving_date(
        desk_sergeant, investigator, supervisor, inspector, second_investigator):
    """DC Vance leaves on Tuesday 30 June 2026 with a case open: DS Perkins is prompted at midnight
    (London) on 16 June and, the work still his on the 30th, DI Hall is told. Reallocating resolves it."""
    referral = investigation(desk_sergeant, investigator, supervisor, at=london(2026, 6, 1, 9))
    investigator.leaving_date = dt.date(2026, 6, 30)
    investigator.save(update_fields=["leaving_date"])

    reminder = assert_clock(kind=ReminderKind.LEAVER, subject=investigator, notify_at=utc(2026, 6, 15, 23),
                            due_at=utc(2026, 6, 29, 23), owner=supervisor, supervisor=inspector)
    assert reminder.referral_id is None

    with time_machine.travel(london(2026, 6, 30, 9), tick=False):
        referral_services.referral_allocate(referral=referral, actor=supervisor, now=london(2026, 6, 30, 9),
                                            owner=second_investigator, supervising_officer=supervisor,
                                            reason="DC Vance has left the team.")
    assert_resolved(reminder, london(2026, 6, 30, 9, 15))


def test_an_officer_with_a_leaving_date_and_no_open_work_needs_no_reminder(investigator, supervisor):
    investigator.leaving_date = dt.date(2026, 6, 30)
    investigator.save(update_fields=["leaving_date"])
    sweep_at(london(2026, 6, 20, 9))
    assert not Reminder.objects.filter(kind=ReminderKind.LEAVER).exists()


# --- A reminder that comes back --------------------------------------------------------------------


def test_a_leaver_given_new_work_after_reallocation_is_reminded_again(desk_sergeant, investigator, supervisor,
                                                                      inspector, second_investigator):
    """The same due item (kind, officer, leaving date) cannot make a second reminder, so the one that
    resolved when the work was reallocated opens again when a new case is given to the leaver."""
    referral = investigation(desk_sergeant, investigator, supervisor, at=london(2026, 6, 1, 9))
    investigator.leaving_date = dt.date(2026, 6, 30)
    investigator.save(update_fields=["leaving_date"])
    sweep_at(london(2026, 6, 16, 9))
    reminder = reminder_for(ReminderKind.LEAVER, investigator)
    assert reminder.state == ReminderState.NOTIFIED

    with time_machine.travel(london(2026, 6, 17, 9), tick=False):
        referral_services.referral_allocate(referral=referral, actor=supervisor, now=london(2026, 6, 17, 9),
                                            owner=second_investigator, supervising_officer=supervisor,
                                            reason="DC Vance leaves at the end of the month.")
    assert_resolved(reminder, london(2026, 6, 17, 9, 15))

    investigation(desk_sergeant, investigator, supervisor, at=london(2026, 6, 18, 9))
    sweep_at(london(2026, 6, 18, 9, 15))
    reminder.refresh_from_db()
    assert (reminder.state, reminder.resolved_at) == (ReminderState.NOTIFIED, None)
    assert Reminder.objects.filter(kind=ReminderKind.LEAVER).count() == 1

    sweep_at(london(2026, 6, 30, 0, 1))
    reminder.refresh_from_db()
    assert (reminder.state, reminder.escalated_to_id) == (ReminderState.ESCALATED, inspector.pk)
    assert prompts(reminder) == [(supervisor.pk, Notification.Event.DUE), (inspector.pk, Notification.Event.OVERDUE)]


def test_every_kind_of_reminder_is_covered_by_this_suite():
    """A new ReminderKind needs its clock tested here."""
    covered = {ReminderKind.DESK_ASSESSMENT, ReminderKind.WRITTEN_FOLLOWUP, ReminderKind.SOCIAL_SERVICES_UPDATE,
               ReminderKind.CRAM_REVIEW, ReminderKind.CRAM_SIGNOFF, ReminderKind.INVESTIGATION_REVIEW,
               ReminderKind.INACTIVITY, ReminderKind.LIMITATION_FIRST, ReminderKind.LIMITATION_SECOND,
               ReminderKind.LIMITATION_FINAL, ReminderKind.LIMITATION, ReminderKind.CONFERENCE_REPORT,
               ReminderKind.MINUTES, ReminderKind.POLICE_PROTECTION, ReminderKind.ACTION, ReminderKind.LEAVER}
    assert covered == set(ReminderKind)
