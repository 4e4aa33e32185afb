"""Working days in England and Wales, clock arithmetic in London time, and the due dates of SPEC §5
at their edges: weekends, bank holidays and the March and October clock changes."""
from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from cram_site.calendar import LONDON, add_working_days, is_working_day, shift
from cram_site.models import DEFAULT_TIMESCALES, Clock, Officer, Team, Timescale, TimeUnit
from cram_site.timescales import due_after, due_before, team_timescales_create
from referrals import services as referral_services
from referrals.models import Referral
from risk import services as risk_services


def london(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LONDON)


def elapsed(start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    """Real time between two moments (Python subtracts two London times as wall-clock times)."""
    return end.astimezone(dt.UTC) - start.astimezone(dt.UTC)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


# --- Working days ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "days", "expected"), [
    # Weekends: Friday + 1 is Monday, Thursday + 3 is Tuesday.
    (dt.date(2026, 3, 13), 1, dt.date(2026, 3, 16)),
    (dt.date(2026, 3, 12), 3, dt.date(2026, 3, 17)),
    (dt.date(2026, 3, 10), 0, dt.date(2026, 3, 10)),
    # Easter 2026: Good Friday 3 April and Easter Monday 6 April are not working days.
    (dt.date(2026, 4, 2), 1, dt.date(2026, 4, 7)),
    (dt.date(2026, 4, 1), 2, dt.date(2026, 4, 7)),
    (dt.date(2026, 4, 2), 3, dt.date(2026, 4, 9)),
    # Christmas 2026: 25 December is a Friday; Boxing Day's substitute is Monday 28 December.
    (dt.date(2026, 12, 24), 1, dt.date(2026, 12, 29)),
    (dt.date(2026, 12, 23), 3, dt.date(2026, 12, 30)),
    # Backwards.
    (dt.date(2026, 3, 16), -1, dt.date(2026, 3, 13)),
    (dt.date(2026, 4, 7), -1, dt.date(2026, 4, 2)),
    (dt.date(2026, 12, 29), -2, dt.date(2026, 12, 23)),
    (dt.date(2026, 4, 9), -5, dt.date(2026, 3, 31)),
])
def test_add_working_days_skips_weekends_and_bank_holidays(start: dt.date, days: int, expected: dt.date) -> None:
    """Counting working days steps over Saturdays, Sundays and the bank holidays of England and Wales."""
    assert add_working_days(start, days) == expected


@pytest.mark.parametrize(("day", "working"), [
    (dt.date(2026, 4, 2), True),     # Maundy Thursday
    (dt.date(2026, 4, 3), False),    # Good Friday
    (dt.date(2026, 4, 6), False),    # Easter Monday
    (dt.date(2026, 12, 25), False),  # Christmas Day, a Friday
    (dt.date(2026, 12, 28), False),  # Boxing Day (substitute day)
    (dt.date(2026, 12, 29), True),
    (dt.date(2026, 5, 25), False),   # Spring bank holiday
    (dt.date(2026, 3, 14), False),   # a Saturday
    (dt.date(2026, 3, 17), True),    # St Patrick's Day is not a holiday in England
])
def test_is_working_day(day: dt.date, working: bool) -> None:
    """England and Wales bank holidays, not those of Scotland or Northern Ireland."""
    assert is_working_day(day) is working


# --- shift(): hours are elapsed, days and months keep the wall clock ------------------------------------------


def test_72_hours_across_the_march_change_are_72_real_hours() -> None:
    """Saturday 28 March 12:00 GMT + 72 h is Tuesday 31 March 13:00 BST: the clock jumped an hour."""
    start = london(2026, 3, 28, 12, 0)

    end = shift(start, 72, TimeUnit.HOURS)

    assert elapsed(start, end) == dt.timedelta(hours=72)
    assert end == utc(2026, 3, 31, 12, 0)
    assert end.astimezone(LONDON).hour == 13


def test_72_hours_across_the_october_change_are_72_real_hours() -> None:
    """Saturday 24 October 12:00 BST + 72 h is Tuesday 27 October 11:00 GMT."""
    start = london(2026, 10, 24, 12, 0)

    end = shift(start, 72, TimeUnit.HOURS)

    assert elapsed(start, end) == dt.timedelta(hours=72)
    assert end.astimezone(LONDON).replace(tzinfo=None) == dt.datetime(2026, 10, 27, 11, 0)


@pytest.mark.parametrize(("start", "amount", "unit", "wall_clock", "real_time"), [
    # Days keep the London time: 71 real hours over the March change, 73 over October's.
    (london(2026, 3, 28, 12, 0), 3, TimeUnit.DAYS, dt.datetime(2026, 3, 31, 12, 0), dt.timedelta(hours=71)),
    (london(2026, 10, 24, 12, 0), 3, TimeUnit.DAYS, dt.datetime(2026, 10, 27, 12, 0), dt.timedelta(hours=73)),
    (london(2026, 3, 31, 12, 0), -3, TimeUnit.DAYS, dt.datetime(2026, 3, 28, 12, 0), -dt.timedelta(hours=71)),
    # Months too: January GMT to April BST, September BST to November GMT.
    (london(2026, 1, 15, 9, 0), 3, TimeUnit.MONTHS, dt.datetime(2026, 4, 15, 9, 0), None),
    (london(2026, 9, 15, 9, 0), 2, TimeUnit.MONTHS, dt.datetime(2026, 11, 15, 9, 0), None),
    (london(2026, 11, 15, 9, 0), -6, TimeUnit.MONTHS, dt.datetime(2026, 5, 15, 9, 0), None),
    # A month on from the 31st is the last day of the shorter month.
    (london(2026, 8, 31, 9, 0), 6, TimeUnit.MONTHS, dt.datetime(2027, 2, 28, 9, 0), None),
    # Working days keep the wall clock over Easter and the change on 29 March.
    (london(2026, 3, 27, 16, 0), 5, TimeUnit.WORKING_DAYS, dt.datetime(2026, 4, 7, 16, 0), None),
    (london(2026, 4, 7, 16, 0), -5, TimeUnit.WORKING_DAYS, dt.datetime(2026, 3, 27, 16, 0), None),
])
def test_days_months_and_working_days_keep_the_london_wall_clock(start: dt.datetime, amount: int, unit: str,
                                                                 wall_clock: dt.datetime,
                                                                 real_time: dt.timedelta | None) -> None:
    """Something due "in 3 days" at noon is due at noon, whichever side of a clock change."""
    end = shift(start, amount, unit)

    assert end.astimezone(LONDON).replace(tzinfo=None) == wall_clock
    if real_time is not None:
        assert elapsed(start, end) == real_time


def test_a_wall_clock_time_the_march_change_skips_is_read_as_the_hour_after() -> None:
    """01:30 on 29 March 2026 does not exist in London; a day after 01:30 on the 28th lands at 02:30 BST."""
    end = shift(london(2026, 3, 28, 1, 30), 1, TimeUnit.DAYS)

    assert end == utc(2026, 3, 29, 1, 30)
    assert end.astimezone(LONDON).replace(tzinfo=None) == dt.datetime(2026, 3, 29, 2, 30)


def test_a_wall_clock_time_the_october_change_repeats_is_read_as_the_first_one() -> None:
    """01:30 on 25 October 2026 happens twice; a day after 01:30 on the 24th is the first, still BST."""
    end = shift(london(2026, 10, 24, 1, 30), 1, TimeUnit.DAYS)

    # Compared in UTC: Python never calls a London time in the repeated hour equal to one in another zone.
    assert end.astimezone(dt.UTC) == utc(2026, 10, 25, 0, 30)
    assert end.astimezone(LONDON).strftime("%H:%M %Z") == "01:30 BST"


def test_an_unknown_unit_is_an_error() -> None:
    with pytest.raises(ValueError, match="fortnights"):
        shift(london(2026, 3, 10, 9, 0), 1, "fortnights")


# --- The timescale table ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("clock", list(Clock))
def test_a_team_without_a_row_gets_the_default_of_the_spec(haringey: Team, clock: str) -> None:
    """Every clock has a default, used until an administrator sets the team's own."""
    row = Timescale.objects.for_team(haringey.pk, clock)

    assert (row.amount, row.unit) == DEFAULT_TIMESCALES[clock]
    assert row.pk is None


def test_the_defaults_are_those_of_the_spec() -> None:
    """SPEC §5: the CRAM cycle of 42 days and the sign-off in 3 working days, among the rest."""
    assert DEFAULT_TIMESCALES[Clock.CRAM_REVIEW] == (42, TimeUnit.DAYS)
    assert DEFAULT_TIMESCALES[Clock.CRAM_SIGNOFF] == (3, TimeUnit.WORKING_DAYS)
    assert DEFAULT_TIMESCALES[Clock.DESK_ASSESSMENT_URGENT] == (2, TimeUnit.HOURS)
    assert DEFAULT_TIMESCALES[Clock.DESK_ASSESSMENT] == (1, TimeUnit.WORKING_DAYS)
    assert DEFAULT_TIMESCALES[Clock.WRITTEN_FOLLOWUP] == (1, TimeUnit.WORKING_DAYS)
    assert DEFAULT_TIMESCALES[Clock.SOCIAL_SERVICES_UPDATE] == (14, TimeUnit.DAYS)
    assert set(DEFAULT_TIMESCALES) == set(Clock)


@pytest.mark.django_db
def test_a_team_row_overrides_the_default_for_that_team_only(haringey: Team, enfield: Team) -> None:
    """Haringey's CRAM review at 28 days leaves Enfield on 42."""
    Timescale.objects.create(team=haringey, clock=Clock.CRAM_REVIEW, amount=28, unit=TimeUnit.DAYS)
    start = london(2026, 3, 10, 10, 0)

    assert due_after(team=haringey, clock=Clock.CRAM_REVIEW, start=start) == london(2026, 4, 7, 10, 0)
    assert due_after(team=enfield, clock=Clock.CRAM_REVIEW, start=start) == london(2026, 4, 21, 10, 0)


@pytest.mark.django_db
def test_due_before_counts_back_from_a_conference(haringey: Team) -> None:
    """The report for a review conference on Thursday 9 April is due 5 working days before: 31 March."""
    conference = london(2026, 4, 9, 10, 0)

    assert due_before(team=haringey, clock=Clock.REPORT_BEFORE_REVIEW, deadline=conference) == london(
        2026, 3, 31, 10, 0)
    assert due_before(team=haringey, clock=Clock.REPORT_BEFORE_INITIAL, deadline=conference) == london(
        2026, 4, 7, 10, 0)


@pytest.mark.django_db
def test_team_timescales_create_fills_in_defaults_and_keeps_the_teams_own(haringey: Team) -> None:
    """Every clock gets a row; a row the team already set is not overwritten, and a second run adds nothing."""
    Timescale.objects.create(team=haringey, clock=Clock.CRAM_REVIEW, amount=28, unit=TimeUnit.DAYS)

    team_timescales_create(team=haringey)
    team_timescales_create(team=haringey)

    rows = {row.clock: (row.amount, row.unit) for row in Timescale.objects.filter(team=haringey)}
    assert set(rows) == set(Clock)
    assert rows[Clock.CRAM_REVIEW] == (28, TimeUnit.DAYS)
    assert rows[Clock.CRAM_SIGNOFF] == (3, TimeUnit.WORKING_DAYS)


# --- Desk assessment and the written follow-up ------------------------------------------------------------


def _logged(log_referral, received: dt.datetime, **fields: object) -> Referral:
    """Log a referral received at `received`, with the clock frozen a few minutes later."""
    moment = received + dt.timedelta(minutes=5)
    with time_machine.travel(moment, tick=False):
        referral = log_referral(now=moment, received_at=received, **fields)
    return Referral.objects.get(pk=referral.pk)


@pytest.mark.django_db
@pytest.mark.parametrize(("received", "urgent", "due"), [
    # Urgent: two real hours, day or night, working day or not.
    (london(2026, 3, 13, 16, 30), True, london(2026, 3, 13, 18, 30)),
    (london(2026, 3, 14, 23, 0), True, london(2026, 3, 15, 1, 0)),
    # Across the March change: 00:30 GMT + 2 h is 03:30 BST.
    (london(2026, 3, 29, 0, 30), True, utc(2026, 3, 29, 2, 30)),
    # Otherwise one working day, at the same London time.
    (london(2026, 3, 10, 11, 0), False, london(2026, 3, 11, 11, 0)),
    # A Friday-afternoon referral is due on Monday.
    (london(2026, 3, 13, 16, 30), False, london(2026, 3, 16, 16, 30)),
    # Before the spring bank holiday Monday it is due on Tuesday.
    (london(2026, 5, 22, 15, 0), False, london(2026, 5, 26, 15, 0)),
    # The Thursday before Easter: due on the Tuesday after Easter Monday.
    (london(2026, 4, 2, 14, 0), False, london(2026, 4, 7, 14, 0)),
    # The Friday before the clocks change: Monday at the same London time (71 real hours later).
    (london(2026, 3, 27, 15, 0), False, london(2026, 3, 30, 15, 0)),
])
def test_desk_assessment_due(log_referral, received: dt.datetime, urgent: bool, due: dt.datetime) -> None:
    """SPEC §5: urgent 2 hours, otherwise 1 working day, from receipt."""
    referral = _logged(log_referral, received, urgent=urgent)

    assert referral.assessment_due_at == due


@pytest.mark.django_db
def test_a_friday_referral_is_not_overdue_until_monday_afternoon(log_referral) -> None:
    """Just before the due minute it is waiting; at and after it, it is overdue on the desk's queue."""
    referral = _logged(log_referral, london(2026, 3, 13, 16, 30))
    due = london(2026, 3, 16, 16, 30)
    assert referral.assessment_due_at == due

    def overdue_at(moment: dt.datetime) -> bool:
        with time_machine.travel(moment, tick=False):
            return Referral.objects.awaiting_assessment().filter(assessment_due_at__lte=timezone.now(),
                                                                 pk=referral.pk).exists()

    assert not overdue_at(london(2026, 3, 14, 10, 0))
    assert not overdue_at(due - dt.timedelta(minutes=1))
    assert overdue_at(due)
    assert overdue_at(due + dt.timedelta(minutes=1))


@pytest.mark.django_db
@pytest.mark.parametrize(("received", "due"), [
    (london(2026, 3, 10, 11, 0), london(2026, 3, 11, 11, 0)),
    (london(2026, 12, 24, 11, 0), london(2026, 12, 29, 11, 0)),
    (london(2026, 4, 2, 17, 45), london(2026, 4, 7, 17, 45)),
])
def test_written_follow_up_of_a_phone_referral_is_due_in_one_working_day(log_referral, received: dt.datetime,
                                                                          due: dt.datetime) -> None:
    """A phone referral waits one working day for the written one; Christmas and Easter are skipped."""
    referral = _logged(log_referral, received, channel="phone")

    assert referral.written_followup_due_at == due
    assert referral.awaiting_written_followup


@pytest.mark.django_db
def test_an_email_referral_has_no_written_follow_up_clock(log_referral) -> None:
    """Only a phone referral needs a written one."""
    referral = _logged(log_referral, london(2026, 3, 10, 11, 0), channel="email")

    assert referral.written_followup_due_at is None


# --- Update from social services -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("chosen", "due"), [
    (london(2026, 3, 10, 11, 0), london(2026, 3, 24, 11, 0)),
    # Across the October change: Monday 19 October 10:00 BST to Monday 2 November 10:00 GMT.
    (london(2026, 10, 19, 10, 0), london(2026, 11, 2, 10, 0)),
    # Calendar days: Christmas counts.
    (london(2026, 12, 18, 9, 0), london(2027, 1, 1, 9, 0)),
])
def test_social_services_update_is_due_14_days_after_the_route_is_chosen(log_referral, desk_sergeant: Officer,
                                                                         chosen: dt.datetime,
                                                                         due: dt.datetime) -> None:
    """The route "social services only" starts a 14-day clock, shown on the case log in London time."""
    referral = _logged(log_referral, chosen - dt.timedelta(hours=2))

    with time_machine.travel(chosen, tick=False):
        referral_services.referral_assess(referral=referral, actor=desk_sergeant, now=chosen, urgency="routine",
                                          route="social_services_only", rationale="Section 17 assessment only.",
                                          owner=None, supervising_officer=None)

    stored = Referral.objects.get(pk=referral.pk)
    assert stored.social_services_update_due_at == due
    assert stored.awaiting_social_services_update
    assert (f"An update from social services is due by {due:%d/%m/%Y %H:%M}."
            in stored.case_log.order_by("number").last().text)


@pytest.mark.django_db
def test_a_due_time_in_the_skipped_hour_is_logged_as_the_time_it_really_is(log_referral,
                                                                          desk_sergeant: Officer) -> None:
    """Chosen at 01:30 on Sunday 15 March, the update is due 14 days on, at 01:30 on 29 March, an hour
    the clocks skip: it is stored as 02:30 BST and the case log says 02:30, not a time that never was."""
    chosen = london(2026, 3, 15, 1, 30)
    referral = _logged(log_referral, chosen - dt.timedelta(hours=2))

    with time_machine.travel(chosen, tick=False):
        referral_services.referral_assess(referral=referral, actor=desk_sergeant, now=chosen, urgency="urgent",
                                          route="social_services_only", rationale="Section 17 assessment only.",
                                          owner=None, supervising_officer=None)

    stored = Referral.objects.get(pk=referral.pk)
    assert stored.social_services_update_due_at == utc(2026, 3, 29, 1, 30)
    assert stored.case_log.order_by("number").last().text.endswith(
        "An update from social services is due by 29/03/2026 02:30.")


@pytest.mark.django_db
def test_other_routes_start_no_social_services_clock(log_referral, desk_sergeant: Officer) -> None:
    """No further police action waits for nothing from social services."""
    chosen = london(2026, 3, 10, 11, 0)
    referral = _logged(log_referral, chosen - dt.timedelta(hours=2))

    with time_machine.travel(chosen, tick=False):
        referral_services.referral_assess(referral=referral, actor=desk_sergeant, now=chosen, urgency="routine",
                                          route="no_further_action", rationale="No offence disclosed.",
                                          owner=None, supervising_officer=None)

    assert Referral.objects.get(pk=referral.pk).social_services_update_due_at is None


# --- CRAM review and sign-off -------------------------------------------------------------------------------


def _complete_cram(referral: Referral, actor: Officer, at: dt.datetime, kind: str = "initial"):
    with time_machine.travel(at, tick=False):
        assessment = risk_services.assessment_start(referral=referral, kind=kind, actor=actor, now=at)
        answers = {a.code: risk_services.AnswerInput("no") for a in assessment.answers.all()}
        data = risk_services.AssessmentInput(revision=assessment.revision, answers=answers, rating="standard")
        return risk_services.assessment_save(assessment=assessment, data=data, actor=actor, now=at, complete=True)


@pytest.mark.django_db
def test_the_cram_review_falls_due_42_days_on_at_the_same_london_time(log_referral, desk_sergeant: Officer) -> None:
    """Completed Tuesday 10 March 10:00 GMT, the review is due Tuesday 21 April 10:00 BST (09:00 UTC),
    one hour sooner in real time than 42 × 24 hours; overdue from that minute and not before."""
    referral = _logged(log_referral, london(2026, 3, 10, 8, 0))
    _complete_cram(referral, desk_sergeant, london(2026, 3, 10, 10, 0))
    due = london(2026, 4, 21, 10, 0)
    assert Referral.objects.get(pk=referral.pk).cram_review_due_at == due == utc(2026, 4, 21, 9, 0)

    def review_overdue_at(moment: dt.datetime) -> bool:
        with time_machine.travel(moment, tick=False):
            return Referral.objects.open().filter(cram_review_due_at__lte=timezone.now()).exists()

    assert not review_overdue_at(due - dt.timedelta(minutes=1))
    assert review_overdue_at(due)
    assert review_overdue_at(due + dt.timedelta(days=1))


@pytest.mark.django_db
@pytest.mark.parametrize(("offset", "next_due"), [
    # A review completed just before its due date restarts the 42 days from then…
    (-dt.timedelta(minutes=1), london(2026, 6, 2, 9, 59)),
    # …on it…
    (dt.timedelta(0), london(2026, 6, 2, 10, 0)),
    # …or a day late: the cycle runs from the last completed CRAM, not from the old due date.
    (dt.timedelta(days=1), london(2026, 6, 3, 10, 0)),
])
def test_the_next_review_runs_42_days_from_the_last_completed_cram(log_referral, desk_sergeant: Officer,
                                                                   offset: dt.timedelta,
                                                                   next_due: dt.datetime) -> None:
    """The referral's review date moves on to 42 days after the review, and the log says so."""
    referral = _logged(log_referral, london(2026, 3, 10, 8, 0))
    initial = _complete_cram(referral, desk_sergeant, london(2026, 3, 10, 10, 0))
    assert initial.next_review_due_at == london(2026, 4, 21, 10, 0)

    review = _complete_cram(referral, desk_sergeant, initial.next_review_due_at + offset, kind="review")

    assert review.next_review_due_at == next_due
    assert Referral.objects.get(pk=referral.pk).cram_review_due_at == next_due
    assert f"Next review due {next_due:%d/%m/%Y}" in referral.case_log.order_by("number").last().text


@pytest.mark.django_db
def test_a_teams_own_review_cycle_sets_the_next_review(log_referral, desk_sergeant: Officer,
                                                       haringey: Team) -> None:
    """With Haringey's CRAM review set to 28 days, the next completion is due back in 28 days."""
    Timescale.objects.create(team=haringey, clock=Clock.CRAM_REVIEW, amount=28, unit=TimeUnit.DAYS)
    referral = _logged(log_referral, london(2026, 3, 10, 8, 0))

    assessment = _complete_cram(referral, desk_sergeant, london(2026, 3, 10, 10, 0))

    assert assessment.next_review_due_at == london(2026, 4, 7, 10, 0)
    assert Referral.objects.get(pk=referral.pk).cram_review_due_at == london(2026, 4, 7, 10, 0)


@pytest.mark.django_db
@pytest.mark.parametrize(("completed", "due"), [
    # Tuesday: Friday.
    (london(2026, 3, 10, 10, 0), london(2026, 3, 13, 10, 0)),
    # Thursday before Easter: Tuesday 7, Wednesday 8, Thursday 9 April.
    (london(2026, 4, 2, 14, 0), london(2026, 4, 9, 14, 0)),
    # Wednesday 23 December: Thursday 24, Tuesday 29, Wednesday 30 December.
    (london(2026, 12, 23, 16, 0), london(2026, 12, 30, 16, 0)),
    # Friday before the spring bank holiday: Tuesday, Wednesday, Thursday.
    (london(2026, 5, 22, 11, 0), london(2026, 5, 28, 11, 0)),
])
def test_sign_off_is_due_three_working_days_after_completion(log_referral, desk_sergeant: Officer,
                                                             completed: dt.datetime, due: dt.datetime) -> None:
    """Bank-holiday weekends do not count towards the supervisor's three working days."""
    referral = _logged(log_referral, completed - dt.timedelta(hours=1))

    assessment = _complete_cram(referral, desk_sergeant, completed)

    assert assessment.signoff_due_at == due
    assert Referral.objects.get(pk=referral.pk).cram_signoff_due_at == due
