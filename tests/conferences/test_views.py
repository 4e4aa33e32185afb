"""The meetings and medicals pages through the browser's eyes: what an officer sends, what is stored,
what the page then says. Time is frozen on a Tuesday in March (GMT, so London time is UTC)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conferences import services
from conferences.models import (
    AgreedAction,
    Attendance,
    MedicalExamination,
    Meeting,
    MeetingKind,
    MeetingStatus,
    PoliceProtection,
    StrategyRecord,
)
from cram_site.calendar import LONDON
from cram_site.models import Officer, Rank
from referrals.models import Action, CaseLogEntry, Person, Referral

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


def typed(moment: dt.datetime) -> str:
    """A moment as an officer types it into a datetime-local input (London time)."""
    return moment.astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@dataclass
class Case:
    referral: Referral
    child: Person
    sibling: Person


@pytest.fixture
def case(log_referral: Callable[..., Referral]) -> Case:
    """A Haringey referral of physical abuse: Amara (victim), her brother Tobi, and a suspect adult."""
    referral = log_referral()
    people = {link.person.first_name: link.person for link in referral.referral_people.select_related("person")}
    return Case(referral=referral, child=people["Amara"], sibling=people["Tobi"])


def meeting_post(case: Case, **fields: object) -> dict[str, object]:
    post: dict[str, object] = {
        "kind": MeetingKind.STRATEGY_MEETING, "starts_at": typed(NOW + 2 * DAY), "place": "Haringey Civic Centre",
        "chair_name": "Jo Chair", "chair_agency": "Children's social care", "children": [str(case.child.pk)],
        "police_attendee": "",
    }
    post.update(fields)
    return post


def held_strategy_meeting(case: Case, actor: Officer, *, kind: str = MeetingKind.STRATEGY_MEETING,
                          starts_at: dt.datetime = NOW - 2 * HOUR) -> Meeting:
    return services.meeting_create(referral=case.referral, actor=actor, now=NOW, kind=kind, starts_at=starts_at,
                                   place="Wood Green police station", chair_name="Jo Chair",
                                   chair_agency="Children's social care", children=[case.child], held=True)


def meeting_url(name: str, meeting: Meeting) -> str:
    return reverse(f"conferences:{name}", args=[meeting.referral.urn, meeting.pk])


# --- Meetings --------------------------------------------------------------------------------------


def test_scheduling_a_meeting_stores_it_and_lists_it(client, case: Case, investigator: Officer) -> None:
    """A strategy meeting for Thursday is stored as scheduled, with its child and police attendee, and listed."""
    client.force_login(investigator)

    response = client.post(reverse("conferences:meetings", args=[case.referral.urn]),
                           meeting_post(case, police_attendee=str(investigator.pk)), follow=True)

    meeting = Meeting.objects.get(referral=case.referral)
    assert meeting.status == MeetingStatus.SCHEDULED
    assert meeting.starts_at == NOW + 2 * DAY
    assert list(meeting.children.all()) == [case.child]
    assert meeting.police_attendee == investigator
    assert "Strategy meeting scheduled." in response.content.decode()
    tab = client.get(reverse("conferences:meetings", args=[case.referral.urn])).content.decode()
    assert f'href="{meeting.get_absolute_url()}">Strategy meeting</a>' in tab
    assert "12/03/2026 10:00" in tab
    assert "Haringey Civic Centre" in tab


def test_a_meeting_in_the_past_cannot_be_scheduled(client, case: Case, investigator: Officer) -> None:
    """Yesterday's meeting sent as "scheduled" is refused beside the date, and nothing is stored."""
    client.force_login(investigator)
    log_before = CaseLogEntry.objects.filter(referral=case.referral).count()

    response = client.post(reverse("conferences:meetings", args=[case.referral.urn]),
                           meeting_post(case, starts_at=typed(NOW - DAY)))

    body = response.content.decode()
    assert response.status_code == 200
    assert "This date is in the past: record the meeting as held, or give the date it will take place." in body
    assert 'id="error_1_id_starts_at"' in body
    assert not Meeting.objects.exists()
    assert CaseLogEntry.objects.filter(referral=case.referral).count() == log_before


def test_a_meeting_already_held_is_recorded_as_held(client, case: Case, investigator: Officer) -> None:
    """The same past date with "Already held" ticked is recorded as held, with its minutes clock."""
    client.force_login(investigator)

    client.post(reverse("conferences:meetings", args=[case.referral.urn]),
                meeting_post(case, starts_at=typed(NOW - DAY), held="on"))

    meeting = Meeting.objects.get(referral=case.referral)
    assert meeting.status == MeetingStatus.HELD
    assert meeting.minutes_due_at is not None


def row_with(body: str, text: str) -> str:
    """The table row of a page that contains `text`."""
    rows = [row for row in body.split("<tr>") if text in row]
    assert len(rows) == 1, f"{len(rows)} rows contain {text!r}"
    return rows[0].split("</tr>")[0]


def test_the_meetings_tab_shows_late_clocks_in_red_and_done_ones(client, case: Case, investigator: Officer) -> None:
    """A strategy meeting 40 days ago with no conference since and no minutes: both clocks are late, in
    red; a core group whose minutes came on time shows its minutes clock done."""
    services.meeting_create(referral=case.referral, actor=investigator, now=NOW, kind=MeetingKind.STRATEGY_MEETING,
                            starts_at=NOW - 40 * DAY, place="Station", chair_name="Jo Chair", chair_agency="CSC",
                            held=True)
    core = services.meeting_create(referral=case.referral, actor=investigator, now=NOW, kind=MeetingKind.CORE_GROUP,
                                   starts_at=NOW - 10 * DAY, place="School", chair_name="Ann Chair",
                                   chair_agency="CSC", held=True)
    services.minutes_record(meeting=core, actor=investigator, now=NOW, received_at=NOW - 5 * DAY)
    client.force_login(investigator)

    body = client.get(reverse("conferences:meetings", args=[case.referral.urn])).content.decode()

    initial_clock = row_with(body, "Initial conference within 15 working days of the strategy discussion")
    assert '<span class="overdue">Late</span>' in initial_clock
    strategy_minutes = row_with(body, "Minutes of the strategy meeting of 29/01/2026")
    assert '<span class="overdue">Late</span>' in strategy_minutes
    core_minutes = row_with(body, "Minutes of the core group of 28/02/2026")
    assert "Done 05/03/2026" in core_minutes and "overdue" not in core_minutes
    # In the list of meetings, the strategy meeting's missing minutes are marked late.
    assert "(late)" in row_with(body, 'Station</td>')


def test_attendance_needs_a_name_an_agency_and_a_police_rank(client, case: Case, investigator: Officer) -> None:
    """A row without a name or agency is refused beside both fields; a police attendee without a rank
    is refused beside the rank; nothing is stored."""
    meeting = held_strategy_meeting(case, investigator)
    client.force_login(investigator)
    address = meeting_url("attendance_add", meeting)

    blank = client.post(address, {"name": " ", "agency": "", "status": "attended"}).content.decode()
    no_rank = client.post(address, {"name": "Ian Vance", "agency": "Police", "is_police": "on", "rank": "",
                                    "status": "attended"}).content.decode()

    assert "Give the person&#x27;s name." in blank
    assert "Give the person&#x27;s agency." in blank
    assert 'id="error_1_id_name"' in blank and 'id="error_1_id_agency"' in blank
    assert "Give the rank of a police attendee." in no_rank
    assert 'id="error_1_id_rank"' in no_rank
    assert not Attendance.objects.exists()


def test_strategy_meeting_with_only_a_dc_is_flagged_until_a_ds_attends(client, case: Case, investigator: Officer,
                                                                      supervisor: Officer) -> None:
    """A physical-abuse strategy meeting held with only a DC shows both flags on its page and on the
    supervisor's list; an attending DS clears the supervisor flag but not the paediatrician's."""
    client.force_login(investigator)
    client.post(reverse("conferences:meetings", args=[case.referral.urn]),
                meeting_post(case, starts_at=typed(NOW - 2 * HOUR), held="on"))
    meeting = Meeting.objects.get(referral=case.referral)
    client.post(meeting_url("attendance_add", meeting), {"name": "Ian Vance", "agency": "Metropolitan Police",
                                                         "is_police": "on", "rank": Rank.DC, "status": "attended"})

    page = client.get(meeting.get_absolute_url()).content.decode()
    client.force_login(supervisor)
    flagged = client.get(reverse("conferences:flagged_meetings")).content.decode()

    no_supervisor = "No police supervisor (sergeant or above) attended"
    no_paediatrician = "No examining paediatrician at a strategy meeting about physical injury"
    assert no_supervisor in page and no_paediatrician in page
    assert "Ian Vance" in page and "Yes, DC" in page
    assert case.referral.urn in flagged
    assert no_supervisor in flagged and no_paediatrician in flagged

    # When a DS is recorded as attending, the supervisor flag goes.
    client.post(meeting_url("attendance_add", meeting), {"name": "Sue Perkins", "agency": "Metropolitan Police",
                                                         "is_police": "on", "rank": Rank.DS, "status": "attended"})

    page = client.get(meeting.get_absolute_url()).content.decode()
    flagged = client.get(reverse("conferences:flagged_meetings")).content.decode()
    assert no_supervisor not in page and no_paediatrician in page
    assert no_supervisor not in flagged and no_paediatrician in flagged
    assert Meeting.objects.get(pk=meeting.pk).flag_no_police_supervisor is False


def test_holding_a_scheduled_conference_needs_the_plan_category(client, case: Case, investigator: Officer) -> None:
    """A plan made without its category is refused beside the category; with it, the conference is held."""
    with time_machine.travel(NOW - 3 * DAY, tick=False):
        conference = services.meeting_create(
            referral=case.referral, actor=investigator, now=NOW - 3 * DAY, kind=MeetingKind.INITIAL_CONFERENCE,
            starts_at=NOW - 2 * HOUR, place="Civic Centre", chair_name="Ann Chair", chair_agency="Safeguarding")
    client.force_login(investigator)

    refused = client.post(meeting_url("hold", conference), {"outcome": "plan_made", "plan_category": ""})
    assert "Give the category of the plan." in refused.content.decode()
    assert Meeting.objects.get(pk=conference.pk).status == MeetingStatus.SCHEDULED

    client.post(meeting_url("hold", conference), {"outcome": "plan_made", "plan_category": "physical"})
    held = Meeting.objects.get(pk=conference.pk)
    assert (held.status, held.outcome, held.plan_category) == (MeetingStatus.HELD, "plan_made", "physical")
    # No police attended, so the conference is flagged.
    assert "No police attendance at the conference" in client.get(held.get_absolute_url()).content.decode()


def _strategy_post(decisions: str, owner: Officer, *, description: str = "Joint visit to the school") -> dict:
    return {"decisions": decisions,
            "agreed-TOTAL_FORMS": "2", "agreed-INITIAL_FORMS": "0", "agreed-MIN_NUM_FORMS": "0",
            "agreed-MAX_NUM_FORMS": "30",
            "agreed-0-description": description, "agreed-0-owner_agency": "Children's social care",
            "agreed-0-owner": str(owner.pk), "agreed-0-due_at": typed(NOW + 3 * DAY),
            "agreed-1-description": "", "agreed-1-owner_agency": "", "agreed-1-owner": "", "agreed-1-due_at": ""}


def test_a_countersigned_strategy_record_cannot_be_changed(client, case: Case, investigator: Officer) -> None:
    """Once the chair countersigns, the agreed action is a case action, the page is read-only, and a
    POST editing the record says it cannot be changed and stores nothing."""
    meeting = held_strategy_meeting(case, investigator)
    client.force_login(investigator)
    client.post(meeting_url("strategy_record", meeting), _strategy_post("Joint s47 enquiry.", investigator))
    assert StrategyRecord.objects.get(meeting=meeting).decisions == "Joint s47 enquiry."
    assert not Action.objects.filter(referral=case.referral, description__startswith="Joint visit").exists()

    countersigned = client.post(meeting_url("countersign", meeting), {"chair_name": "Jo Chair"}, follow=True)

    action = Action.objects.get(referral=case.referral, description__startswith="Joint visit")
    assert action.description == "Joint visit to the school (Children's social care)"
    assert (action.owner, action.due_at) == (investigator, NOW + 3 * DAY)
    assert AgreedAction.objects.get(record__meeting=meeting).action == action
    assert "Countersigned by Jo Chair at 10/03/2026 10:00" in countersigned.content.decode()

    edited = client.post(meeting_url("strategy_record", meeting),
                         _strategy_post("Rewritten afterwards.", investigator, description="Something else"))
    again = client.post(meeting_url("countersign", meeting), {"chair_name": "Someone Else"})

    assert "cannot be changed" in edited.content.decode()
    assert "cannot be changed" in again.content.decode()
    record = StrategyRecord.objects.get(meeting=meeting)
    assert (record.decisions, record.countersigned_by) == ("Joint s47 enquiry.", "Jo Chair")
    agreed_actions = AgreedAction.objects.filter(record=record)
    assert [agreed.description for agreed in agreed_actions] == ["Joint visit to the school"]
    assert Action.objects.filter(referral=case.referral, description__contains="Something else").count() == 0
    assert 'action="' + meeting_url("strategy_record", meeting) not in edited.content.decode()


def test_minutes_cannot_arrive_before_the_meeting(client, case: Case, investigator: Officer) -> None:
    """Minutes dated before the meeting are refused beside the date; on time, they close the clock."""
    meeting = held_strategy_meeting(case, investigator)
    client.force_login(investigator)

    refused = client.post(meeting_url("minutes", meeting), {"received_at": typed(NOW - DAY)}).content.decode()
    assert "Minutes cannot arrive before the meeting." in refused
    assert Meeting.objects.get(pk=meeting.pk).minutes_received_at is None

    client.post(meeting_url("minutes", meeting), {"received_at": typed(NOW)})
    assert Meeting.objects.get(pk=meeting.pk).minutes_received_at == NOW


# --- Medical examinations --------------------------------------------------------------------------


def medical_post(case: Case, **fields: object) -> dict[str, object]:
    post: dict[str, object] = {
        "child": str(case.child.pk), "examined_at": typed(NOW - 3 * HOUR), "kind": "physical",
        "examiner_name": "Dr Rao", "examiner_role": "Consultant paediatrician", "police_attended": "no",
        "non_attendance_reason": "", "deciding_officer": "",
    }
    post.update(fields)
    return post


def test_a_medical_without_police_needs_a_reason_and_a_deciding_officer(client, case: Case,
                                                                         investigator: Officer) -> None:
    """Police did not attend, and nobody said why or who decided: both are asked for, nothing is stored."""
    client.force_login(investigator)

    response = client.post(reverse("conferences:medical_add", args=[case.referral.urn]), medical_post(case))

    body = response.content.decode()
    assert "Say why police did not attend." in body
    assert 'id="error_1_id_non_attendance_reason"' in body
    assert "Name the officer who decided police would not attend." in body
    assert 'id="error_1_id_deciding_officer"' in body
    assert not MedicalExamination.objects.exists()


def test_a_medical_without_police_is_on_the_supervisors_list_with_the_deciding_officers_rank(
        client, case: Case, investigator: Officer, supervisor: Officer) -> None:
    """With a reason and the deciding officer it is stored, and the supervisors' list shows both."""
    client.force_login(investigator)
    client.post(reverse("conferences:medical_add", args=[case.referral.urn]),
                medical_post(case, non_attendance_reason="No officer free; paediatrician took the first account.",
                             deciding_officer=str(supervisor.pk)))

    examination = MedicalExamination.objects.get(referral=case.referral)
    assert examination.police_attended is False
    assert examination.deciding_officer == supervisor
    client.force_login(supervisor)
    listing = client.get(reverse("conferences:medicals_without_police")).content.decode()
    assert case.referral.urn in listing
    assert "No officer free; paediatrician took the first account." in listing
    assert "DS Sue Perkins DS303" in listing
    assert "Amara Okafor" in listing


def test_the_supervisors_lists_are_refused_to_an_investigator(client, investigator: Officer) -> None:
    """The two monitoring lists are for supervisors and auditors."""
    client.force_login(investigator)

    responses = [client.get(reverse("conferences:medicals_without_police")),
                 client.get(reverse("conferences:flagged_meetings"))]

    assert [response.status_code for response in responses] == [403, 403]
    assert "Medicals without police" not in client.get(reverse("referrals:list")).content.decode()


# --- Police protection ---------------------------------------------------------------------------


def start_protection(case: Case, actor: Officer, started_at: dt.datetime) -> PoliceProtection:
    return services.protection_start(referral=case.referral, actor=actor, now=NOW, child=case.child,
                                     started_at=started_at, designated_officer=actor, reason="Left alone at home.")


def test_police_protection_cannot_end_before_it_starts_or_after_72_hours(client, case: Case,
                                                                        investigator: Officer) -> None:
    """Taken 80 hours ago: an end before the start and one past the 72 hours are refused beside the end."""
    protection = start_protection(case, investigator, NOW - 80 * HOUR)
    client.force_login(investigator)
    address = reverse("conferences:protection_end", args=[case.referral.urn, protection.pk])
    prefix = f"end-{protection.pk}"

    before_start = client.post(address, {f"{prefix}-ended_at": typed(NOW - 81 * HOUR)}).content.decode()
    too_late = client.post(address, {f"{prefix}-ended_at": typed(NOW - HOUR)}).content.decode()

    assert "Police protection cannot end before it starts." in before_start
    assert "Police protection cannot run past 72 hours (by 10/03/2026 02:00)." in too_late
    assert f'id="error_1_id_{prefix}-ended_at"' in too_late
    assert PoliceProtection.objects.get(pk=protection.pk).ended_at is None

    client.post(address, {f"{prefix}-ended_at": typed(NOW - 9 * HOUR)})
    assert PoliceProtection.objects.get(pk=protection.pk).ended_at == NOW - 9 * HOUR
    assert Referral.objects.get(pk=case.referral.pk).police_protection_ends_by is None


def test_a_running_protection_shows_its_countdown_in_the_case_header(client, case: Case,
                                                                     investigator: Officer) -> None:
    """Started through the page 60 hours ago, it must end in 12 hours: the header says so, in red."""
    client.force_login(investigator)
    client.post(reverse("conferences:protection_start", args=[case.referral.urn]),
                {"child": str(case.child.pk), "started_at": typed(NOW - 60 * HOUR),
                 "designated_officer": str(investigator.pk), "reason": "Found alone, injured."})

    case_page = client.get(case.referral.get_absolute_url()).content.decode()
    medicals = client.get(reverse("conferences:medicals", args=[case.referral.urn])).content.decode()

    countdown = "Police protection must end by 10/03/2026 22:00 (12 hours left)"
    assert countdown in case_page and countdown in medicals
    assert 'class="mt-2 mb-0 overdue" data-testid="protection-countdown"' in case_page
    assert "Running: 12 hours left" in medicals


def test_a_protection_just_started_is_counted_down_without_alarm(client, case: Case, investigator: Officer) -> None:
    """With 71 hours left the countdown is shown but not in red."""
    start_protection(case, investigator, NOW - HOUR)
    client.force_login(investigator)

    body = client.get(case.referral.get_absolute_url()).content.decode()

    assert "Police protection must end by 13/03/2026 09:00 (71 hours left)" in body
    assert 'class="mt-2 mb-0 fw-semibold" data-testid="protection-countdown"' in body


# --- Query counts ----------------------------------------------------------------------------------


@dataclass
class WorkedCase:
    case: Case
    countersigned: Meeting
    draft: Meeting


def _worked_case(case: Case, officer: Officer, *, size: int) -> WorkedCase:
    """Meetings of every kind (`size` core groups and review conferences), each with `size` attendees;
    a strategy meeting whose record of `size` agreed actions is countersigned, and a strategy
    discussion whose record of `size` agreed actions is still a draft; a medical examination."""
    start = NOW - 400 * DAY
    with time_machine.travel(start - DAY, tick=False):
        meetings = [services.meeting_create(
            referral=case.referral, actor=officer, now=start - DAY, kind=kind, starts_at=start + index * 20 * DAY,
            place="Civic Centre", chair_name="Jo Chair", chair_agency="CSC", children=[case.child, case.sibling])
            for index, kind in enumerate([MeetingKind.STRATEGY_MEETING, MeetingKind.STRATEGY_DISCUSSION,
                                          MeetingKind.INITIAL_CONFERENCE] + [MeetingKind.CORE_GROUP] * size
                                         + [MeetingKind.REVIEW_CONFERENCE] * size)]
    for meeting in meetings:
        for number in range(size):
            services.attendance_add(meeting=meeting, actor=officer, now=NOW, name=f"Attendee {number}",
                                    agency="Police", status="attended", is_police=True, rank=Rank.DC)
        services.meeting_hold(meeting=meeting, actor=officer, now=NOW, outcome="", plan_category="")
        services.minutes_record(meeting=meeting, actor=officer, now=NOW, received_at=NOW - HOUR)
    countersigned, draft = meetings[0], meetings[1]
    for meeting in (countersigned, draft):
        services.strategy_record_save(
            meeting=meeting, actor=officer, now=NOW, decisions=f"Decisions of the {meeting.get_kind_display()}.",
            agreed_actions=[services.AgreedActionInput(f"Action {number}", "CSC", officer, NOW + DAY)
                            for number in range(size)])
    services.strategy_record_countersign(record=StrategyRecord.objects.get(meeting=countersigned), actor=officer,
                                         now=NOW, chair_name="Jo Chair")
    for number in range(size):
        services.medical_record(referral=case.referral, actor=officer, now=NOW, child=case.child,
                                examined_at=NOW - HOUR, kind="physical", examiner_name="Dr Rao", examiner_role="Paed",
                                police_attended=False, non_attendance_reason="None free", deciding_officer=officer)
    return WorkedCase(case, countersigned, draft)


def _another_case(log_referral: Callable[..., Referral]) -> Case:
    referral = log_referral()
    people = {link.person.first_name: link.person for link in referral.referral_people.select_related("person")}
    return Case(referral=referral, child=people["Amara"], sibling=people["Tobi"])


# Each page with the most queries it may make, whatever the number of meetings, attendees and actions,
# and a text it must show (so a page that fails early cannot pass on a low count).
PAGES: dict[str, tuple[Callable[[WorkedCase], str], int, str]] = {
    "meetings tab": (lambda worked: reverse("conferences:meetings", args=[worked.case.referral.urn]), 17,
                     "First review conference within 3 months"),
    "countersigned strategy meeting": (lambda worked: worked.countersigned.get_absolute_url(), 15,
                                       "Countersigned by Jo Chair"),
    "draft strategy record": (lambda worked: worked.draft.get_absolute_url(), 16,
                              "Record the countersignature"),
    "medicals tab": (lambda worked: reverse("conferences:medicals", args=[worked.case.referral.urn]), 13,
                     "Dr Rao (Paed)"),
}


def _query_counts(client, addresses: dict[str, str]) -> dict[str, int]:
    counts = {}
    for page, address in addresses.items():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(address)
        assert response.status_code == 200, page
        counts[page] = len(captured.captured_queries)
    return counts


def test_meeting_pages_make_the_same_queries_for_a_small_and_a_large_case(
        client, case: Case, log_referral, supervisor: Officer, django_assert_max_num_queries) -> None:
    """Five core groups, five reviews, five attendees and five agreed actions each cost no more queries
    than one of each; every page is then held to its pin."""
    small_case = _worked_case(case, supervisor, size=1)
    large_case = _worked_case(_another_case(log_referral), supervisor, size=5)
    client.force_login(supervisor)
    small = {page: address_of(small_case) for page, (address_of, _, _) in PAGES.items()}
    large = {page: address_of(large_case) for page, (address_of, _, _) in PAGES.items()}
    _query_counts(client, small)  # the first requests fill the content-type cache

    assert _query_counts(client, large) == _query_counts(client, small), "pages whose query count grew"
    for page, (_, most, shown) in PAGES.items():
        with django_assert_max_num_queries(most):
            body = client.get(large[page]).content.decode()
        assert shown in body, page
