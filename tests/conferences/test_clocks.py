"""The conference clocks of SPEC §5 at their edges, with time frozen: just before, on and just after
every due date, over bank holidays (Easter 2026, Christmas 2026) and across the clock changes.

Working-day and month clocks keep the London wall-clock time of the meeting that starts them, so a
10:00 meeting in GMT is due at 10:00 BST (09:00 UTC) once the clocks have gone forward."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import time_machine
from django.core.exceptions import ValidationError

from conferences import services
from conferences.models import Meeting, MeetingKind, PoliceReport, ReportStatus
from conferences.services import ConferenceClock
from cram_site.calendar import LONDON
from cram_site.models import Officer
from referrals.models import CaseLogEntry, Referral

pytestmark = pytest.mark.django_db

MINUTE = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)

INITIAL_CLOCK = "Initial conference within 15 working days of the strategy discussion"
CORE_GROUP_CLOCK = "First core group within 10 working days of the initial conference"
FIRST_REVIEW_CLOCK = "First review conference within 3 months"
NEXT_REVIEW_CLOCK = "Next review conference within 6 months"


def london(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON)


# --- Helpers --------------------------------------------------------------------------------------


def held(referral: Referral, actor: Officer, kind: str, starts_at: dt.datetime) -> Meeting:
    """A meeting recorded as held, by an officer writing it up an hour after it started."""
    return services.meeting_create(referral=referral, actor=actor, now=starts_at + dt.timedelta(hours=1),
                                   kind=kind, starts_at=starts_at, place="Tottenham Police Station",
                                   chair_name="Chris Hale", chair_agency="Children's social care", held=True)


def scheduled(referral: Referral, actor: Officer, kind: str, starts_at: dt.datetime,
              now: dt.datetime | None = None) -> Meeting:
    """A meeting put in the diary a day ahead (or at `now`)."""
    return services.meeting_create(referral=referral, actor=actor, now=now or starts_at - DAY, kind=kind,
                                   starts_at=starts_at, place="Civic Centre", chair_name="Val Moore",
                                   chair_agency="Safeguarding and Quality Assurance")


def clocks_of(referral: Referral) -> dict[str, ConferenceClock]:
    meetings = list(Meeting.objects.filter(referral=referral).order_by("starts_at", "pk"))
    reports = {report.meeting_id: report for report in PoliceReport.objects.filter(meeting__referral=referral)}
    return {clock.label: clock
            for clock in services.conference_clocks(meetings, reports, team_id=referral.team_id)}


def lateness(clock: ConferenceClock, due_at: dt.datetime) -> tuple[bool, bool, bool]:
    """Is the clock late a minute before, at, and a minute after `due_at`?"""
    return clock.is_late(due_at - MINUTE), clock.is_late(due_at), clock.is_late(due_at + MINUTE)


# --- Initial conference: 15 working days after the strategy discussion -------------------------------

# Thursday 26 March 2026, 10:00 GMT. Fifteen working days on, skipping Good Friday (3 April) and Easter
# Monday (6 April), is Monday 20 April; the clocks went forward on 29 March, so 10:00 BST, 09:00 UTC.
EASTER_STRATEGY = london(2026, 3, 26)
EASTER_INITIAL_DUE = dt.datetime(2026, 4, 20, 9, 0, tzinfo=dt.UTC)


@time_machine.travel(EASTER_STRATEGY + dt.timedelta(hours=2), tick=False)
def test_the_initial_conference_is_due_15_working_days_after_the_strategy_discussion_over_easter(
        log_referral: Callable[..., Referral], desk_sergeant: Officer) -> None:
    """No conference yet: the clock is open, and late only after 10:00 on Monday 20 April."""
    referral = log_referral(now=EASTER_STRATEGY - DAY)
    held(referral, desk_sergeant, MeetingKind.STRATEGY_DISCUSSION, EASTER_STRATEGY)

    clock = clocks_of(referral)[INITIAL_CLOCK]

    assert clock.due_at == EASTER_INITIAL_DUE
    assert clock.due_at.astimezone(LONDON).replace(tzinfo=None) == dt.datetime(2026, 4, 20, 10, 0)
    assert clock.done_at is None
    assert lateness(clock, EASTER_INITIAL_DUE) == (False, False, True)


@pytest.mark.parametrize(("starts_at", "late"), [
    (EASTER_INITIAL_DUE - DAY, False),
    (EASTER_INITIAL_DUE - MINUTE, False),
    (EASTER_INITIAL_DUE, False),
    (EASTER_INITIAL_DUE + MINUTE, True),
], ids=["a day before", "a minute before", "on time", "a minute late"])
@time_machine.travel(EASTER_STRATEGY + DAY, tick=False)
def test_an_initial_conference_scheduled_by_the_due_date_meets_the_clock(
        log_referral: Callable[..., Referral], desk_sergeant: Officer, starts_at: dt.datetime,
        late: bool) -> None:
    """The clock is met by the date the conference is fixed for, whenever it is looked at."""
    referral = log_referral(now=EASTER_STRATEGY - DAY)
    held(referral, desk_sergeant, MeetingKind.STRATEGY_DISCUSSION, EASTER_STRATEGY)
    scheduled(referral, desk_sergeant, MeetingKind.INITIAL_CONFERENCE, starts_at, now=EASTER_STRATEGY + DAY)

    clock = clocks_of(referral)[INITIAL_CLOCK]

    assert clock.done_at == starts_at
    assert clock.is_late(EASTER_STRATEGY + DAY) is late
    assert clock.is_late(EASTER_INITIAL_DUE + 30 * DAY) is late


@time_machine.travel(EASTER_INITIAL_DUE + dt.timedelta(hours=3), tick=False)
def test_an_initial_conference_held_on_the_due_date_meets_the_clock(log_referral: Callable[..., Referral],
                                                                    desk_sergeant: Officer) -> None:
    referral = log_referral(now=EASTER_STRATEGY - DAY)
    held(referral, desk_sergeant, MeetingKind.STRATEGY_DISCUSSION, EASTER_STRATEGY)
    held(referral, desk_sergeant, MeetingKind.INITIAL_CONFERENCE, EASTER_INITIAL_DUE)

    clock = clocks_of(referral)[INITIAL_CLOCK]

    assert (clock.done_at, clock.is_late(EASTER_INITIAL_DUE + 60 * DAY)) == (EASTER_INITIAL_DUE, False)


@time_machine.travel(EASTER_STRATEGY + DAY, tick=False)
def test_a_cancelled_initial_conference_leaves_the_clock_running(log_referral: Callable[..., Referral],
                                                                 desk_sergeant: Officer) -> None:
    referral = log_referral(now=EASTER_STRATEGY - DAY)
    held(referral, desk_sergeant, MeetingKind.STRATEGY_DISCUSSION, EASTER_STRATEGY)
    conference = scheduled(referral, desk_sergeant, MeetingKind.INITIAL_CONFERENCE, EASTER_INITIAL_DUE - DAY,
                           now=EASTER_STRATEGY + DAY)
    services.meeting_cancel(meeting=conference, actor=desk_sergeant, now=EASTER_STRATEGY + DAY,
                            reason="Chair unavailable.")

    clock = clocks_of(referral)[INITIAL_CLOCK]

    assert clock.done_at is None
    assert lateness(clock, EASTER_INITIAL_DUE) == (False, False, True)


@time_machine.travel(EASTER_STRATEGY - DAY, tick=False)
def test_no_initial_conference_clock_until_a_strategy_discussion_is_held(log_referral: Callable[..., Referral],
                                                                         desk_sergeant: Officer) -> None:
    referral = log_referral(now=EASTER_STRATEGY - 2 * DAY)
    scheduled(referral, desk_sergeant, MeetingKind.STRATEGY_DISCUSSION, EASTER_STRATEGY,
              now=EASTER_STRATEGY - DAY)

    assert INITIAL_CLOCK not in clocks_of(referral)


# Friday 11 December 2026, 10:00 GMT. Christmas Day is a Friday, Boxing Day a Saturday (the holiday moves
# to Monday 28 December) and New Year's Day 2027 a Friday: fifteen working days is Wednesday 6 January.
CHRISTMAS_STRATEGY = london(2026, 12, 11)
CHRISTMAS_INITIAL_DUE = dt.datetime(2027, 1, 6, 10, 0, tzinfo=dt.UTC)


@time_machine.travel(CHRISTMAS_STRATEGY + dt.timedelta(hours=2), tick=False)
def test_the_initial_conference_clock_skips_the_christmas_and_new_year_holidays(
        log_referral: Callable[..., Referral], desk_sergeant: Officer) -> None:
    referral = log_referral(now=CHRISTMAS_STRATEGY - DAY)
    held(referral, desk_sergeant, MeetingKind.STRATEGY_MEETING, CHRISTMAS_STRATEGY)

    clock = clocks_of(referral)[INITIAL_CLOCK]

    assert clock.due_at == CHRISTMAS_INITIAL_DUE
    assert lateness(clock, CHRISTMAS_INITIAL_DUE) == (False, False, True)
    # Christmas week counts only Tuesday 29 to Thursday 31 December.
    assert not clock.is_late(dt.datetime(2027, 1, 5, 23, 59, tzinfo=dt.UTC))


# --- First core group: 10 working days after the initial conference ----------------------------------

# Tuesday 28 April 2026, 10:00 BST. Ten working days on, skipping the May Day holiday (4 May), is
# Wednesday 13 May, 10:00 BST.
INITIAL_HELD = london(2026, 4, 28)
CORE_GROUP_DUE = dt.datetime(2026, 5, 13, 9, 0, tzinfo=dt.UTC)


@time_machine.travel(INITIAL_HELD + dt.timedelta(hours=2), tick=False)
def test_the_first_core_group_is_due_10_working_days_after_the_held_initial_conference(
        log_referral: Callable[..., Referral], desk_sergeant: Officer) -> None:
    referral = log_referral(now=INITIAL_HELD - 30 * DAY)
    held(referral, desk_sergeant, MeetingKind.INITIAL_CONFERENCE, INITIAL_HELD)

    clock = clocks_of(referral)[CORE_GROUP_CLOCK]

    assert (clock.due_at, clock.done_at) == (CORE_GROUP_DUE, None)
    assert lateness(clock, CORE_GROUP_DUE) == (False, False, True)


@pytest.mark.parametrize(("starts_at", "late"), [
    (CORE_GROUP_DUE - MINUTE, False),
    (CORE_GROUP_DUE, False),
    (CORE_GROUP_DUE + MINUTE, True),
], ids=["a minute before", "on time", "a minute late"])
@time_machine.travel(INITIAL_HELD + dt.timedelta(hours=2), tick=False)
def test_a_core_group_scheduled_by_the_due_date_meets_the_clock(log_referral: Callable[..., Referral],
                                                               desk_sergeant: Officer, starts_at: dt.datetime,
                                                               late: bool) -> None:
    referral = log_referral(now=INITIAL_HELD - 30 * DAY)
    held(referral, desk_sergeant, MeetingKind.INITIAL_CONFERENCE, INITIAL_HELD)
    scheduled(referral, desk_sergeant, MeetingKind.CORE_GROUP, starts_at, now=INITIAL_HELD + dt.timedelta(hours=2))

    clock = clocks_of(referral)[CORE_GROUP_CLOCK]

    assert (clock.done_at, clock.is_late(INITIAL_HELD + 60 * DAY)) == (starts_at, late)


@time_machine.travel(INITIAL_HELD - DAY, tick=False)
def test_no_core_group_clock_until_the_initial_conference_is_held(log_referral: Callable[..., Referral],
                                                                  desk_sergeant: Officer) -> None:
    referral = log_referral(now=INITIAL_HELD - 30 * DAY)
    scheduled(referral, desk_sergeant, MeetingKind.INITIAL_CONFERENCE, INITIAL_HELD)

    clocks = clocks_of(referral)

    assert CORE_GROUP_CLOCK not in clocks
    assert FIRST_REVIEW_CLOCK not in clocks


# --- Review conferences: first within 3 months of the initial, then every 6 months --------------------

# Wednesday 14 January 2026, 10:00 GMT: three months on is Tuesday 14 April, 10:00 BST (09:00 UTC).
JANUARY_INITIAL = london(2026, 1, 14)
FIRST_REVIEW_DUE = dt.datetime(2026, 4, 14, 9, 0, tzinfo=dt.UTC)


@time_machine.travel(JANUARY_INITIAL + dt.timedelta(hours=2), tick=False)
def test_the_first_review_is_due_3_months_after_the_held_initial_conference(
        log_referral: Callable[..., Referral], desk_sergeant: Officer) -> None:
    referral = log_referral(now=JANUARY_INITIAL - 30 * DAY)
    held(referral, desk_sergeant, MeetingKind.INITIAL_CONFERENCE, JANUARY_INITIAL)

    clocks = clocks_of(referral)
    clock = clocks[FIRST_REVIEW_CLOCK]

    assert (clock.due_at, clock.done_at) == (FIRST_REVIEW_DUE, None)
    assert lateness(clock, FIRST_REVIEW_DUE) == (False, False, True)
    # A later review is only due once the first has been held.
    assert NEXT_REVIEW_CLOCK not in clocks


@pytest.mark.parametrize(("starts_at", "late"), [
    (FIRST_REVIEW_DUE - MINUTE, False),
    (FIRST_REVIEW_DUE, False),
    (FIRST_REVIEW_DUE + MINUTE, True),
], ids=["a minute before", "on time", "a minute late"])
@time_machine.travel(JANUARY_INITIAL + 30 * DAY, tick=False)
def test_a_first_review_scheduled_by_the_due_date_meets_the_clock(log_referral: Callable[..., Referral],
                                                                 desk_sergeant: Officer, starts_at: dt.datetime,
                                                                 late: bool) -> None:
    referral = log_referral(now=JANUARY_INITIAL - 30 * DAY)
    held(referral, desk_sergeant, MeetingKind.INITIAL_CONFERENCE, JANUARY_INITIAL)
    scheduled(referral, desk_sergeant, MeetingKind.REVIEW_CONFERENCE, starts_at, now=JANUARY_INITIAL + 30 * DAY)

    clocks = clocks_of(referral)

    assert (clocks[FIRST_REVIEW_CLOCK].done_at, clocks[FIRST_REVIEW_CLOCK].is_late(FIRST_REVIEW_DUE)) == (
        starts_at, late)
    assert NEXT_REVIEW_CLOCK not in clocks


# The first review is held a day early, Monday 13 April 2026 10:00 BST; the next is due six months after
# it, Tuesday 13 October 2026 10:00 BST; a second review held on Monday 12 October makes the third due on
# Monday 12 April 2027 10:00 BST, after the October and March clock changes.
FIRST_REVIEW_HELD = london(2026, 4, 13)
SECOND_REVIEW_DUE = dt.datetime(2026, 10, 13, 9, 0, tzinfo=dt.UTC)
SECOND_REVIEW_HELD = london(2026, 10, 12)
THIRD_REVIEW_DUE = dt.datetime(2027, 4, 12, 9, 0, tzinfo=dt.UTC)


@time_machine.travel(FIRST_REVIEW_HELD + dt.timedelta(hours=2), tick=False)
def test_later_reviews_are_due_6_months_after_the_previous_held_review(log_referral: Callable[..., Referral],
                                                                      desk_sergeant: Officer) -> None:
    referral = log_referral(now=JANUARY_INITIAL - 30 * DAY)
    held(referral, desk_sergeant, MeetingKind.INITIAL_CONFERENCE, JANUARY_INITIAL)
    held(referral, desk_sergeant, MeetingKind.REVIEW_CONFERENCE, FIRST_REVIEW_HELD)

    clocks = clocks_of(referral)

    assert (clocks[FIRST_REVIEW_CLOCK].done_at, clocks[FIRST_REVIEW_CLOCK].is_late(SECOND_REVIEW_DUE)) == (
        FIRST_REVIEW_HELD, False)
    second = clocks[NEXT_REVIEW_CLOCK]
    assert (second.due_at, second.done_at) == (SECOND_REVIEW_DUE, None)
    assert lateness(second, SECOND_REVIEW_DUE) == (False, False, True)


@time_machine.travel(SECOND_REVIEW_HELD + dt.timedelta(hours=2), tick=False)
def test_each_held_review_starts_the_next_six_month_clock(log_referral: Callable[..., Referral],
                                                          desk_sergeant: Officer) -> None:
    referral = log_referral(now=JANUARY_INITIAL - 30 * DAY)
    held(referral, desk_sergeant, MeetingKind.INITIAL_CONFERENCE, JANUARY_INITIAL)
    held(referral, desk_sergeant, MeetingKind.REVIEW_CONFERENCE, FIRST_REVIEW_HELD)
    held(referral, desk_sergeant, MeetingKind.REVIEW_CONFERENCE, SECOND_REVIEW_HELD)

    review_clocks = [clock for clock in services.conference_clocks(
        list(Meeting.objects.filter(referral=referral).order_by("starts_at")), {}, team_id=referral.team_id)
        if "review conference within" in clock.label]

    assert [(c.due_at, c.done_at) for c in review_clocks] == [
        (FIRST_REVIEW_DUE, FIRST_REVIEW_HELD),
        (SECOND_REVIEW_DUE, SECOND_REVIEW_HELD),
        (THIRD_REVIEW_DUE, None),
    ]
    assert lateness(review_clocks[-1], THIRD_REVIEW_DUE) == (False, False, True)


# --- Police report and pre-conference CRAM: 2 working days before an initial, 5 before a review ------


@pytest.mark.parametrize(("kind", "conference", "report_due"), [
    # Monday 20 April 2026: Thursday 16 April before an initial, Monday 13 April before a review.
    (MeetingKind.INITIAL_CONFERENCE, london(2026, 4, 20), london(2026, 4, 16)),
    (MeetingKind.REVIEW_CONFERENCE, london(2026, 4, 20), london(2026, 4, 13)),
    # Tuesday 7 April 2026, after Easter Monday and Good Friday: Wednesday 1 April before an initial;
    # Friday 27 March (10:00 GMT, before the clocks changed) before a review.
    (MeetingKind.INITIAL_CONFERENCE, london(2026, 4, 7), london(2026, 4, 1)),
    (MeetingKind.REVIEW_CONFERENCE, london(2026, 4, 7), london(2026, 3, 27)),
    # Monday 4 January 2027, after New Year's Day: Wednesday 30 December 2026 before an initial;
    # five working days before it skip New Year's Day and both Christmas holidays: Wednesday 23 December.
    (MeetingKind.INITIAL_CONFERENCE, london(2027, 1, 4), london(2026, 12, 30)),
    (MeetingKind.REVIEW_CONFERENCE, london(2027, 1, 4), london(2026, 12, 23)),
], ids=["initial on a Monday", "review on a Monday", "initial after Easter", "review after Easter",
        "initial after New Year", "review after New Year"])
@time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=False)
def test_the_report_is_due_working_days_before_the_conference(log_referral: Callable[..., Referral],
                                                              desk_sergeant: Officer, kind: str,
                                                              conference: dt.datetime,
                                                              report_due: dt.datetime) -> None:
    now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    referral = log_referral(now=now)

    meeting = scheduled(referral, desk_sergeant, kind, conference, now=now)

    stored = Meeting.objects.get(pk=meeting.pk)
    assert stored.report_due_at == report_due
    assert stored.report_due_at.astimezone(LONDON).strftime("%a %H:%M") == report_due.strftime("%a 10:00")


@pytest.mark.parametrize("kind", [MeetingKind.STRATEGY_MEETING, MeetingKind.CORE_GROUP, MeetingKind.MAPPA])
@time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=False)
def test_other_meetings_have_no_report_due(log_referral: Callable[..., Referral], desk_sergeant: Officer,
                                           kind: str) -> None:
    now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    referral = log_referral(now=now)

    meeting = scheduled(referral, desk_sergeant, kind, london(2026, 4, 20), now=now)

    assert Meeting.objects.get(pk=meeting.pk).report_due_at is None
    assert not any(label.startswith("Police report") for label in clocks_of(referral))


# Monday 20 April 2026 initial conference: the report is due on Thursday 16 April, 10:00 BST.
REPORT_CONFERENCE = london(2026, 4, 20)
REPORT_DUE = dt.datetime(2026, 4, 16, 9, 0, tzinfo=dt.UTC)
REPORT_CLOCK = "Police report and pre-conference CRAM for the initial child protection conference of 20/04/2026"


@pytest.mark.parametrize(("submitted_at", "late"), [
    (None, None),
    (REPORT_DUE - MINUTE, False),
    (REPORT_DUE, False),
    (REPORT_DUE + MINUTE, True),
], ids=["draft only", "a minute early", "on time", "a minute late"])
@time_machine.travel(REPORT_DUE + DAY, tick=False)
def test_a_submitted_report_closes_the_report_clock(log_referral: Callable[..., Referral], desk_sergeant: Officer,
                                                   submitted_at: dt.datetime | None, late: bool | None) -> None:
    """A draft leaves the clock open (late once the due time passes); a submitted report closes it,
    late if it was submitted after the due time."""
    referral = log_referral(now=REPORT_DUE - 20 * DAY)
    conference = scheduled(referral, desk_sergeant, MeetingKind.INITIAL_CONFERENCE, REPORT_CONFERENCE,
                           now=REPORT_DUE - 10 * DAY)
    PoliceReport.objects.create(
        meeting=conference, prepared_by=desk_sergeant, opened_at=REPORT_DUE - 5 * DAY,
        updated_at=submitted_at or REPORT_DUE - 5 * DAY,
        status=ReportStatus.SUBMITTED if submitted_at else ReportStatus.DRAFT, submitted_at=submitted_at,
        submitted_to="Val Moore" if submitted_at else "")

    clock = clocks_of(referral)[REPORT_CLOCK]

    assert (clock.due_at, clock.done_at) == (REPORT_DUE, submitted_at)
    if submitted_at is None:
        assert lateness(clock, REPORT_DUE) == (False, False, True)
    else:
        assert lateness(clock, REPORT_DUE) == (late, late, late)


# --- Minutes: 20 working days after the meeting ------------------------------------------------------

# Tuesday 13 October 2026, 10:00 BST (09:00 UTC). Twenty working days on is Tuesday 10 November; the
# clocks went back on 25 October, so 10:00 in London is then 10:00 UTC.
OCTOBER_MEETING = london(2026, 10, 13)
MINUTES_DUE = dt.datetime(2026, 11, 10, 10, 0, tzinfo=dt.UTC)
MINUTES_CLOCK = "Minutes of the strategy meeting of 13/10/2026"


@time_machine.travel(OCTOBER_MEETING + dt.timedelta(hours=2), tick=False)
def test_minutes_are_due_20_working_days_after_the_meeting_across_the_october_clock_change(
        log_referral: Callable[..., Referral], desk_sergeant: Officer) -> None:
    referral = log_referral(now=OCTOBER_MEETING - DAY)
    meeting = held(referral, desk_sergeant, MeetingKind.STRATEGY_MEETING, OCTOBER_MEETING)

    stored = Meeting.objects.get(pk=meeting.pk)
    clock = clocks_of(referral)[MINUTES_CLOCK]

    assert stored.minutes_due_at == MINUTES_DUE
    assert stored.minutes_due_at.astimezone(LONDON).strftime("%d/%m/%Y %H:%M") == "10/11/2026 10:00"
    assert (clock.due_at, clock.done_at) == (MINUTES_DUE, None)
    assert lateness(clock, MINUTES_DUE) == (False, False, True)
    assert (stored.minutes_late(MINUTES_DUE), stored.minutes_late(MINUTES_DUE + MINUTE)) == (False, True)


@pytest.mark.parametrize(("received_at", "late"), [
    (OCTOBER_MEETING, False),
    (MINUTES_DUE - MINUTE, False),
    (MINUTES_DUE, False),
    (MINUTES_DUE + MINUTE, True),
], ids=["the same day", "a minute early", "on time", "a minute late"])
@time_machine.travel(MINUTES_DUE + 5 * DAY, tick=False)
def test_recording_the_minutes_closes_the_clock(log_referral: Callable[..., Referral], desk_sergeant: Officer,
                                               received_at: dt.datetime, late: bool) -> None:
    now = MINUTES_DUE + 5 * DAY
    referral = log_referral(now=OCTOBER_MEETING - DAY)
    meeting = held(referral, desk_sergeant, MeetingKind.STRATEGY_MEETING, OCTOBER_MEETING)

    services.minutes_record(meeting=Meeting.objects.get(pk=meeting.pk), actor=desk_sergeant, now=now,
                            received_at=received_at)

    stored = Meeting.objects.get(pk=meeting.pk)
    clock = clocks_of(referral)[MINUTES_CLOCK]
    assert stored.minutes_received_at == received_at
    assert (clock.done_at, clock.is_late(now)) == (received_at, late)
    assert stored.minutes_late(now) is False
    assert not Meeting.objects.minutes_outstanding(now).filter(pk=meeting.pk).exists()
    entry = CaseLogEntry.objects.filter(referral=referral).order_by("-number").first()
    assert (entry.occurred_at, entry.recorded_at) == (received_at, now)
    assert entry.text == ("Minutes of the strategy meeting of 13/10/2026 10:00 received from Children's social "
                          f"care{' (late)' if late else ''}.")


@pytest.mark.parametrize(("received_at", "field_name"), [
    (MINUTES_DUE + MINUTE, "received_at"),
    (OCTOBER_MEETING - MINUTE, "received_at"),
], ids=["in the future", "before the meeting"])
@time_machine.travel(MINUTES_DUE, tick=False)
def test_minutes_cannot_arrive_in_the_future_or_before_the_meeting(log_referral: Callable[..., Referral],
                                                                  desk_sergeant: Officer,
                                                                  received_at: dt.datetime, field_name: str) -> None:
    referral = log_referral(now=OCTOBER_MEETING - DAY)
    meeting = held(referral, desk_sergeant, MeetingKind.STRATEGY_MEETING, OCTOBER_MEETING)
    entries = referral.case_log.count()

    with pytest.raises(ValidationError) as refused:
        services.minutes_record(meeting=meeting, actor=desk_sergeant, now=MINUTES_DUE, received_at=received_at)

    assert field_name in refused.value.message_dict
    assert Meeting.objects.get(pk=meeting.pk).minutes_received_at is None
    assert referral.case_log.count() == entries
    assert clocks_of(referral)[MINUTES_CLOCK].done_at is None


@time_machine.travel(OCTOBER_MEETING + DAY, tick=False)
def test_minutes_are_not_recorded_for_a_meeting_not_yet_held(log_referral: Callable[..., Referral],
                                                             desk_sergeant: Officer) -> None:
    """A meeting still in the diary has no minutes clock and takes no minutes."""
    referral = log_referral(now=OCTOBER_MEETING - DAY)
    meeting = scheduled(referral, desk_sergeant, MeetingKind.STRATEGY_MEETING, OCTOBER_MEETING)

    with pytest.raises(ValidationError, match="meeting that has been held"):
        services.minutes_record(meeting=meeting, actor=desk_sergeant, now=OCTOBER_MEETING + DAY,
                                received_at=OCTOBER_MEETING + dt.timedelta(hours=1))

    assert Meeting.objects.get(pk=meeting.pk).minutes_received_at is None
    assert MINUTES_CLOCK not in clocks_of(referral)
