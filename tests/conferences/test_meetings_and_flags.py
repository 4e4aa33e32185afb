"""Meetings from scheduling to holding, and the attendance flags of SPEC §1: no police supervisor at a
strategy meeting, no examining paediatrician at a physical-injury strategy meeting, no police at a
conference. Flags are stored on the meeting so they can be counted."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import time_machine
from django.core.exceptions import ValidationError

from cram_site.models import Officer, Rank
from conferences import services
from conferences.models import Attendance, Meeting, MeetingKind, MeetingStatus
from referrals.models import CaseLogEntry, CaseLogKind, Referral
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

# A Tuesday in March, before the clocks change: London is on GMT, so 10:00 UTC is 10:00 in London.
NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


# --- Helpers --------------------------------------------------------------------------------------


def meeting(referral: Referral, actor: Officer, *, kind: str = MeetingKind.STRATEGY_MEETING,
            starts_at: dt.datetime = NOW - HOUR, held: bool = True, now: dt.datetime = NOW) -> Meeting:
    return services.meeting_create(referral=referral, actor=actor, now=now, kind=kind, starts_at=starts_at,
                                   place="Tottenham Police Station", chair_name="Chris Hale",
                                   chair_agency="Children's social care", held=held)


def attend(meeting_: Meeting, actor: Officer, name: str, *, agency: str = "Metropolitan Police",
           rank: str = "", status: str = "attended", key_role: str = "", now: dt.datetime = NOW) -> Attendance:
    return services.attendance_add(meeting=meeting_, actor=actor, now=now, name=name, agency=agency,
                                   status=status, is_police=bool(rank), rank=rank, key_role=key_role)


def stored_flags(meeting_: Meeting) -> tuple[bool, bool, bool]:
    stored = Meeting.objects.get(pk=meeting_.pk)
    return stored.flag_no_police_supervisor, stored.flag_no_paediatrician, stored.flag_no_police


def log_texts(referral: Referral) -> list[str]:
    return list(CaseLogEntry.objects.filter(referral=referral).order_by("number").values_list("text", flat=True))


# --- Scheduling and recording ----------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_scheduling_a_meeting_stores_it_and_writes_a_case_log_entry(log_referral: Callable[..., Referral],
                                                                    desk_sergeant: Officer) -> None:
    """A meeting scheduled for Thursday is stored as scheduled, and the case log says when and where,
    in London time."""
    referral = log_referral(now=NOW)
    entries_before = referral.case_log.count()
    thursday = dt.datetime(2026, 3, 12, 14, 30, tzinfo=dt.UTC)
    child = referral.referral_people.get(role="victim").person

    created = services.meeting_create(referral=referral, actor=desk_sergeant, now=NOW,
                                      kind=MeetingKind.STRATEGY_MEETING, starts_at=thursday,
                                      place=" Tottenham Police Station ", chair_name="Chris Hale",
                                      chair_agency="Children's social care", children=[child])

    stored = Meeting.objects.get(pk=created.pk)
    assert (stored.status, stored.starts_at, stored.place, stored.team_id) == (
        MeetingStatus.SCHEDULED, thursday, "Tottenham Police Station", referral.team_id)
    assert (stored.held_at, stored.minutes_due_at, stored.report_due_at) == (None, None, None)
    assert list(stored.children.all()) == [child]
    entry = CaseLogEntry.objects.filter(referral=referral).order_by("-number").first()
    assert referral.case_log.count() == entries_before + 1
    assert entry.kind == CaseLogKind.MEETING
    assert entry.text == ("Strategy meeting scheduled for 12/03/2026 14:30 at Tottenham Police Station, "
                          "chaired by Chris Hale (Children's social care).")
    assert entry.author_rank == Rank.DS


@time_machine.travel(NOW, tick=False)
def test_scheduling_a_meeting_in_the_past_is_refused_and_stores_nothing(log_referral: Callable[..., Referral],
                                                                       desk_sergeant: Officer) -> None:
    """A meeting that has already started cannot be "scheduled": it must be recorded as held."""
    referral = log_referral(now=NOW)
    before = log_texts(referral)

    with pytest.raises(ValidationError) as refused:
        meeting(referral, desk_sergeant, starts_at=NOW - dt.timedelta(minutes=1), held=False)

    assert "starts_at" in refused.value.message_dict
    assert not Meeting.objects.filter(referral=referral).exists()
    assert log_texts(referral) == before


@time_machine.travel(NOW, tick=False)
def test_recording_a_held_meeting_in_the_future_is_refused_and_stores_nothing(
        log_referral: Callable[..., Referral], desk_sergeant: Officer) -> None:
    """A meeting cannot have been held at a time still to come."""
    referral = log_referral(now=NOW)
    before = log_texts(referral)

    with pytest.raises(ValidationError) as refused:
        meeting(referral, desk_sergeant, starts_at=NOW + dt.timedelta(minutes=1), held=True)

    assert "starts_at" in refused.value.message_dict
    assert not Meeting.objects.filter(referral=referral).exists()
    assert log_texts(referral) == before


@time_machine.travel(NOW, tick=False)
def test_a_meeting_starting_exactly_now_can_be_scheduled_or_recorded_as_held(
        log_referral: Callable[..., Referral], desk_sergeant: Officer) -> None:
    """The edge itself: "now" is neither in the past nor in the future."""
    referral = log_referral(now=NOW)

    scheduled = meeting(referral, desk_sergeant, starts_at=NOW, held=False)
    held = meeting(referral, desk_sergeant, starts_at=NOW, held=True)

    assert Meeting.objects.get(pk=scheduled.pk).status == MeetingStatus.SCHEDULED
    assert Meeting.objects.get(pk=held.pk).status == MeetingStatus.HELD


@time_machine.travel(NOW, tick=False)
def test_a_meeting_names_only_children_of_the_referral(log_referral: Callable[..., Referral],
                                                       desk_sergeant: Officer, haringey) -> None:
    """A child of another case cannot be attached to this meeting; nothing is stored."""
    referral = log_referral(now=NOW)
    stranger = PersonFactory(team=haringey, first_name="Lily", last_name="Stone")

    with pytest.raises(ValidationError, match="Lily Stone is not named on this referral"):
        services.meeting_create(referral=referral, actor=desk_sergeant, now=NOW, kind=MeetingKind.STRATEGY_MEETING,
                                starts_at=NOW + HOUR, place="Tottenham", chair_name="Chris Hale",
                                chair_agency="Children's social care", children=[stranger])

    assert not Meeting.objects.exists()


# --- Holding ---------------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_holding_a_meeting_sets_minutes_due_20_working_days_later_at_the_same_london_time(
        log_referral: Callable[..., Referral], desk_sergeant: Officer) -> None:
    """Tuesday 10 March 10:00 GMT: 20 working days, skipping Good Friday and Easter Monday, is Thursday
    9 April; the clocks went forward on 29 March, so 10:00 in London is then 09:00 UTC."""
    referral = log_referral(now=NOW)
    scheduled = meeting(referral, desk_sergeant, starts_at=NOW, held=False)

    with time_machine.travel(NOW + 2 * HOUR, tick=False):
        services.meeting_hold(meeting=scheduled, actor=desk_sergeant, now=NOW + 2 * HOUR)

    stored = Meeting.objects.get(pk=scheduled.pk)
    assert (stored.status, stored.held_at) == (MeetingStatus.HELD, NOW + 2 * HOUR)
    assert stored.minutes_due_at == dt.datetime(2026, 4, 9, 9, 0, tzinfo=dt.UTC)
    assert stored.minutes_received_at is None
    assert list(Meeting.objects.minutes_outstanding(NOW)) == [stored]
    entry = CaseLogEntry.objects.filter(referral=referral).order_by("-number").first()
    assert entry.occurred_at == NOW
    assert entry.text.startswith("Strategy meeting held on 10/03/2026 10:00.")
    assert entry.text.endswith("Minutes expected by 09/04/2026 10:00.")


@time_machine.travel(NOW, tick=False)
def test_a_meeting_cannot_be_held_before_it_starts(log_referral: Callable[..., Referral],
                                                   desk_sergeant: Officer) -> None:
    referral = log_referral(now=NOW)
    scheduled = meeting(referral, desk_sergeant, starts_at=NOW + HOUR, held=False)
    before = log_texts(referral)

    with pytest.raises(ValidationError, match="cannot be recorded as held before it starts"):
        services.meeting_hold(meeting=scheduled, actor=desk_sergeant, now=NOW + dt.timedelta(minutes=59))

    stored = Meeting.objects.get(pk=scheduled.pk)
    assert (stored.status, stored.held_at, stored.minutes_due_at) == (MeetingStatus.SCHEDULED, None, None)
    assert log_texts(referral) == before


@time_machine.travel(NOW, tick=False)
def test_a_meeting_cannot_be_held_twice(log_referral: Callable[..., Referral], desk_sergeant: Officer) -> None:
    """The second attempt is refused and the first record (held time, minutes date) stands."""
    referral = log_referral(now=NOW)
    held = meeting(referral, desk_sergeant, starts_at=NOW - HOUR)
    first = Meeting.objects.get(pk=held.pk)
    before = log_texts(referral)

    with pytest.raises(ValidationError, match="already held"):
        services.meeting_hold(meeting=Meeting.objects.get(pk=held.pk), actor=desk_sergeant, now=NOW + HOUR)

    stored = Meeting.objects.get(pk=held.pk)
    assert (stored.held_at, stored.minutes_due_at) == (first.held_at, first.minutes_due_at) == (
        NOW, dt.datetime(2026, 4, 9, 8, 0, tzinfo=dt.UTC))
    assert log_texts(referral) == before


@pytest.mark.parametrize("outcome", ["plan_made", "plan_continued"])
@time_machine.travel(NOW, tick=False)
def test_a_conference_that_makes_or_continues_a_plan_needs_the_category(
        log_referral: Callable[..., Referral], desk_sergeant: Officer, outcome: str) -> None:
    """Without a category the conference stays scheduled; with one, outcome and category are stored."""
    referral = log_referral(now=NOW)
    conference = meeting(referral, desk_sergeant, kind=MeetingKind.INITIAL_CONFERENCE, starts_at=NOW, held=False)

    with pytest.raises(ValidationError) as refused:
        services.meeting_hold(meeting=conference, actor=desk_sergeant, now=NOW + HOUR, outcome=outcome)
    assert "plan_category" in refused.value.message_dict
    assert Meeting.objects.get(pk=conference.pk).status == MeetingStatus.SCHEDULED

    services.meeting_hold(meeting=Meeting.objects.get(pk=conference.pk), actor=desk_sergeant, now=NOW + HOUR,
                          outcome=outcome, plan_category="physical")

    stored = Meeting.objects.get(pk=conference.pk)
    assert (stored.status, stored.outcome, stored.plan_category) == (MeetingStatus.HELD, outcome, "physical")
    assert "(physical abuse)." in log_texts(referral)[-1]


@time_machine.travel(NOW, tick=False)
def test_a_conference_that_ends_the_plan_needs_no_category(log_referral: Callable[..., Referral],
                                                           desk_sergeant: Officer) -> None:
    referral = log_referral(now=NOW)
    conference = meeting(referral, desk_sergeant, kind=MeetingKind.REVIEW_CONFERENCE, starts_at=NOW, held=False)

    services.meeting_hold(meeting=conference, actor=desk_sergeant, now=NOW + HOUR, outcome="plan_ended")

    stored = Meeting.objects.get(pk=conference.pk)
    assert (stored.status, stored.outcome, stored.plan_category) == (MeetingStatus.HELD, "plan_ended", "")


# --- Attendance ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fields", "field_name"), [
    ({"name": "  ", "agency": "Metropolitan Police"}, "name"),
    ({"name": "Sam Ruiz", "agency": ""}, "agency"),
    ({"name": "Sam Ruiz", "agency": "Metropolitan Police", "is_police": True, "rank": ""}, "rank"),
], ids=["no name", "no agency", "police without rank"])
@time_machine.travel(NOW, tick=False)
def test_attendance_without_name_agency_or_police_rank_is_refused(
        log_referral: Callable[..., Referral], desk_sergeant: Officer, fields: dict[str, object],
        field_name: str) -> None:
    """Each refusal names its field, stores no attendance and leaves the flags as they were."""
    referral = log_referral(now=NOW)
    held = meeting(referral, desk_sergeant)
    flags_before = stored_flags(held)

    with pytest.raises(ValidationError) as refused:
        services.attendance_add(meeting=held, actor=desk_sergeant, now=NOW, status="attended", **fields)

    assert field_name in refused.value.message_dict
    assert not Attendance.objects.filter(meeting=held).exists()
    assert stored_flags(held) == flags_before


@time_machine.travel(NOW, tick=False)
def test_attendance_stores_rank_only_for_police(log_referral: Callable[..., Referral],
                                                desk_sergeant: Officer) -> None:
    referral = log_referral(now=NOW)
    held = meeting(referral, desk_sergeant)

    officer = attend(held, desk_sergeant, " Sue Perkins ", rank=Rank.DS)
    social_worker = services.attendance_add(meeting=held, actor=desk_sergeant, now=NOW, name="Jo Bell",
                                            agency="Children's social care", status="attended", rank=Rank.DI)

    assert Attendance.objects.filter(pk=officer.pk).values_list("name", "is_police", "rank").get() == (
        "Sue Perkins", True, "DS")
    assert Attendance.objects.filter(pk=social_worker.pk).values_list("is_police", "rank").get() == (False, "")


@time_machine.travel(NOW, tick=False)
def test_nobody_can_have_attended_a_meeting_that_has_not_started(log_referral: Callable[..., Referral],
                                                                  desk_sergeant: Officer) -> None:
    referral = log_referral(now=NOW)
    future = meeting(referral, desk_sergeant, starts_at=NOW + HOUR, held=False)

    with pytest.raises(ValidationError) as refused:
        attend(future, desk_sergeant, "Sue Perkins", rank=Rank.DS)
    attend(future, desk_sergeant, "Sue Perkins", rank=Rank.DS, status="invited")

    assert "status" in refused.value.message_dict
    assert list(Attendance.objects.filter(meeting=future).values_list("status", flat=True)) == ["invited"]


# --- Flags: police supervisor at a strategy meeting --------------------------------------------------


@pytest.mark.parametrize(("police", "flagged"), [
    ([], True),
    ([("DC", "attended")], True),
    ([("PC", "attended")], True),
    ([("DC", "attended"), ("DS", "apologies")], True),
    ([("DS", "invited"), ("DI", "absent")], True),
    ([("DS", "attended")], False),
    ([("PS", "attended")], False),
    ([("DI", "attended")], False),
    ([("DCI", "attended")], False),
    ([("DC", "attended"), ("DS", "attended")], False),
], ids=["no police", "DC only", "PC only", "DS sent apologies", "DS invited, DI absent", "DS", "PS", "DI", "DCI",
        "DC and DS"])
@time_machine.travel(NOW, tick=False)
def test_a_held_strategy_meeting_without_an_attending_sergeant_or_above_is_flagged(
        log_referral: Callable[..., Referral], desk_sergeant: Officer, police: list[tuple[str, str]],
        flagged: bool) -> None:
    referral = log_referral(now=NOW, allegation_category="sexual")
    held = meeting(referral, desk_sergeant)

    for index, (rank, status) in enumerate(police):
        attend(held, desk_sergeant, f"Officer {index}", rank=rank, status=status)

    stored = Meeting.objects.get(pk=held.pk)
    assert stored.flag_no_police_supervisor is flagged
    assert ("No police supervisor (sergeant or above) attended" in stored.flags) is flagged
    assert (stored.flag_no_paediatrician, stored.flag_no_police) == (False, False)


@time_machine.travel(NOW, tick=False)
def test_a_strategy_discussion_is_flagged_the_same_way(log_referral: Callable[..., Referral],
                                                       desk_sergeant: Officer) -> None:
    referral = log_referral(now=NOW, allegation_category="neglect")
    discussion = meeting(referral, desk_sergeant, kind=MeetingKind.STRATEGY_DISCUSSION)
    attend(discussion, desk_sergeant, "Ian Vance", rank=Rank.DC)

    assert stored_flags(discussion) == (True, False, False)

    attend(discussion, desk_sergeant, "Sue Perkins", rank=Rank.DS)

    assert stored_flags(discussion) == (False, False, False)


@time_machine.travel(NOW, tick=False)
def test_attendance_recorded_before_the_meeting_is_held_sets_the_flags_when_it_is_held(
        log_referral: Callable[..., Referral], desk_sergeant: Officer) -> None:
    """While scheduled nothing is flagged; holding it reads the attendance already recorded, and the
    case-log entry for the meeting names the flag."""
    referral = log_referral(now=NOW, allegation_category="sexual")
    scheduled = meeting(referral, desk_sergeant, starts_at=NOW + HOUR, held=False)
    attend(scheduled, desk_sergeant, "Sue Perkins", rank=Rank.DS, status="invited")
    assert stored_flags(scheduled) == (False, False, False)

    later = NOW + 3 * HOUR
    with time_machine.travel(later, tick=False):
        attend(scheduled, desk_sergeant, "Ian Vance", rank=Rank.DC, now=later)
        services.meeting_hold(meeting=scheduled, actor=desk_sergeant, now=later)

    assert stored_flags(scheduled) == (True, False, False)
    assert "Flagged: No police supervisor (sergeant or above) attended." in log_texts(referral)[-1]


# --- Flags: examining paediatrician at a physical-injury strategy meeting ---------------------------


@pytest.mark.parametrize(("paediatrician", "flagged"), [
    (None, True),
    ("apologies", True),
    ("invited", True),
    ("attended", False),
], ids=["none", "apologies", "invited only", "attended"])
@time_machine.travel(NOW, tick=False)
def test_a_physical_injury_strategy_meeting_without_an_attending_examining_paediatrician_is_flagged(
        log_referral: Callable[..., Referral], desk_sergeant: Officer, paediatrician: str | None,
        flagged: bool) -> None:
    referral = log_referral(now=NOW, allegation_category="physical")
    held = meeting(referral, desk_sergeant)
    attend(held, desk_sergeant, "Sue Perkins", rank=Rank.DS)
    # A doctor who is not marked as the examining paediatrician does not count.
    attend(held, desk_sergeant, "Dr Ann Lowe", agency="Whittington Health", key_role="health_visitor")
    if paediatrician:
        attend(held, desk_sergeant, "Dr Rita Shah", agency="North Middlesex Hospital",
               key_role="examining_paediatrician", status=paediatrician)

    stored = Meeting.objects.get(pk=held.pk)
    assert stored.flag_no_paediatrician is flagged
    assert ("No examining paediatrician at a strategy meeting about physical injury" in stored.flags) is flagged
    assert stored.flag_no_police_supervisor is False


@time_machine.travel(NOW, tick=False)
def test_a_sexual_abuse_strategy_meeting_needs_no_paediatrician(log_referral: Callable[..., Referral],
                                                                desk_sergeant: Officer) -> None:
    referral = log_referral(now=NOW, allegation_category="sexual")
    held = meeting(referral, desk_sergeant)
    attend(held, desk_sergeant, "Sue Perkins", rank=Rank.DS)

    assert stored_flags(held) == (False, False, False)


@time_machine.travel(NOW, tick=False)
def test_a_conference_about_physical_injury_is_not_flagged_for_supervisor_or_paediatrician(
        log_referral: Callable[..., Referral], desk_sergeant: Officer) -> None:
    """Those two flags are about strategy meetings; at a conference a DC is police attendance enough."""
    referral = log_referral(now=NOW, allegation_category="physical")
    conference = meeting(referral, desk_sergeant, kind=MeetingKind.INITIAL_CONFERENCE)
    attend(conference, desk_sergeant, "Ian Vance", rank=Rank.DC)

    assert stored_flags(conference) == (False, False, False)


# --- Flags: police at a conference -------------------------------------------------------------------


@pytest.mark.parametrize("kind", [MeetingKind.INITIAL_CONFERENCE, MeetingKind.REVIEW_CONFERENCE])
@time_machine.travel(NOW, tick=False)
def test_a_held_conference_without_police_attendance_is_flagged(log_referral: Callable[..., Referral],
                                                                desk_sergeant: Officer, kind: str) -> None:
    """Partners attending, police only invited or sending apologies: flagged until an officer attends."""
    referral = log_referral(now=NOW)
    conference = meeting(referral, desk_sergeant, kind=kind)
    attend(conference, desk_sergeant, "Jo Bell", agency="Children's social care", key_role="social_worker")
    attend(conference, desk_sergeant, "Sue Perkins", rank=Rank.DS, status="apologies")
    attend(conference, desk_sergeant, "Ian Vance", rank=Rank.DC, status="invited")

    stored = Meeting.objects.get(pk=conference.pk)
    assert stored_flags(conference) == (False, False, True)
    assert stored.flags == ["No police attendance at the conference"]

    attend(conference, desk_sergeant, "Pat Quinn", rank=Rank.DC)

    assert stored_flags(conference) == (False, False, False)


@time_machine.travel(NOW, tick=False)
def test_other_meetings_are_never_flagged(log_referral: Callable[..., Referral], desk_sergeant: Officer) -> None:
    referral = log_referral(now=NOW, allegation_category="physical")
    held = [meeting(referral, desk_sergeant, kind=kind)
            for kind in (MeetingKind.CORE_GROUP, MeetingKind.MAPPA, MeetingKind.MULTI_AGENCY)]

    assert [stored_flags(m) for m in held] == [(False, False, False)] * 3


@time_machine.travel(NOW, tick=False)
def test_flags_can_be_counted_from_the_stored_meetings(log_referral: Callable[..., Referral],
                                                       desk_sergeant: Officer) -> None:
    """Two strategy meetings lack a supervisor, one has a DI; one conference had no police."""
    first, second = log_referral(now=NOW, allegation_category="sexual"), log_referral(now=NOW,
                                                                                      allegation_category="sexual")
    without_a_sergeant = meeting(first, desk_sergeant)
    attend(without_a_sergeant, desk_sergeant, "Ian Vance", rank=Rank.DC)
    meeting(second, desk_sergeant, kind=MeetingKind.STRATEGY_DISCUSSION)
    with_an_inspector = meeting(second, desk_sergeant, starts_at=NOW - 2 * HOUR)
    attend(with_an_inspector, desk_sergeant, "Dee Ingram", rank=Rank.DI)
    meeting(first, desk_sergeant, kind=MeetingKind.INITIAL_CONFERENCE)
    # Scheduled, not yet held: not counted.
    meeting(first, desk_sergeant, starts_at=NOW + HOUR, held=False)

    assert Meeting.objects.filter(flag_no_police_supervisor=True).count() == 2
    assert Meeting.objects.filter(flag_no_police=True).count() == 1
    assert Meeting.objects.filter(flag_no_paediatrician=True).count() == 0
