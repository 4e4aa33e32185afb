"""Another team sees nothing of Haringey's meetings, medicals and police protection, on every address,
and changes nothing; the supervisors' lists keep to the officer's own team."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import time_machine
from django.urls import reverse

from conferences import services, urls
from conferences.models import (
    AgreedAction,
    Attendance,
    MedicalExamination,
    Meeting,
    MeetingKind,
    PoliceProtection,
    PoliceReport,
    StrategyRecord,
)
from cram_site.calendar import LONDON
from cram_site.models import Officer, Rank
from referrals import services as referral_services
from referrals.models import CaseLogEntry, Person, Referral

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)

# Every address of one referral's meetings, medicals and police reports, with the methods tried.
# Each POST-only address answers a GET with a redirect to its page, so both are tried.
CASE_ADDRESSES = [
    ("meetings", "GET"), ("meetings", "POST"),
    ("meeting", "GET"), ("meeting", "POST"),
    ("attendance_add", "GET"), ("attendance_add", "POST"),
    ("hold", "GET"), ("hold", "POST"),
    ("cancel", "GET"), ("cancel", "POST"),
    ("minutes", "GET"), ("minutes", "POST"),
    ("strategy_record", "GET"), ("strategy_record", "POST"),
    ("countersign", "GET"), ("countersign", "POST"),
    ("medicals", "GET"), ("medicals", "POST"),
    ("medical_add", "GET"), ("medical_add", "POST"),
    ("protection_start", "GET"), ("protection_start", "POST"),
    ("protection_end", "GET"), ("protection_end", "POST"),
    # The police report (conferences/report_views.py): its print and PDF pages answer GET only.
    ("report", "GET"), ("report", "POST"),
    ("report_print", "GET"),
    ("report_pdf", "GET"),
]
# Addresses that list across referrals rather than show one: tested for the team rule below
# (the conference diary by the report's own tests).
LIST_ADDRESSES = {"medicals_without_police", "flagged_meetings", "diary"}
# Addresses that show a page and take no POST of their own.
READ_ONLY = {"meeting", "medicals", "report_print", "report_pdf"}


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@dataclass
class Case:
    referral: Referral
    child: Person
    sibling: Person  # not in police protection
    strategy: Meeting  # held, flagged, with a draft strategy record
    scheduled: Meeting  # scheduled yesterday for an hour ago, so it can be held or cancelled
    conference: Meeting  # an initial conference next week, for the police report
    protection: PoliceProtection  # running


def _case_of(referral: Referral, officer: Officer) -> Case:
    child = referral.lead_child
    sibling = next(person for person in referral.children() if person != child)
    strategy = services.meeting_create(referral=referral, actor=officer, now=NOW, kind=MeetingKind.STRATEGY_MEETING,
                                       starts_at=NOW - 2 * HOUR, place="Station", chair_name="Jo Chair",
                                       chair_agency="CSC", children=[child], held=True)
    services.attendance_add(meeting=strategy, actor=officer, now=NOW, name="Ian Vance", agency="Police",
                            status="attended", is_police=True, rank=Rank.DC)
    services.strategy_record_save(meeting=strategy, actor=officer, now=NOW, decisions="Joint enquiry.",
                                  agreed_actions=[services.AgreedActionInput("Visit school", "CSC", officer,
                                                                             NOW + DAY)])
    with time_machine.travel(NOW - DAY, tick=False):
        scheduled = services.meeting_create(referral=referral, actor=officer, now=NOW - DAY,
                                            kind=MeetingKind.CORE_GROUP, starts_at=NOW - HOUR, place="School",
                                            chair_name="Ann Chair", chair_agency="CSC")
    conference = services.meeting_create(referral=referral, actor=officer, now=NOW,
                                         kind=MeetingKind.INITIAL_CONFERENCE, starts_at=NOW + 7 * DAY,
                                         place="Civic Centre", chair_name="Ann Chair", chair_agency="Safeguarding")
    services.medical_record(referral=referral, actor=officer, now=NOW, child=child, examined_at=NOW - HOUR,
                            kind="physical", examiner_name="Dr Rao", examiner_role="Paediatrician",
                            police_attended=False, non_attendance_reason=f"No officer free in {referral.team.code}.",
                            deciding_officer=officer)
    protection = services.protection_start(referral=referral, actor=officer, now=NOW, child=child,
                                           started_at=NOW - 10 * HOUR, designated_officer=officer,
                                           reason="Left alone.")
    return Case(referral, child, sibling, strategy, scheduled, conference, protection)


@pytest.fixture
def hy_case(log_referral: Callable[..., Referral], investigator: Officer) -> Case:
    return _case_of(log_referral(), investigator)


@pytest.fixture
def en_case(other_team_sergeant: Officer) -> Case:
    """Enfield's own case, with the same kinds of records."""
    referral = referral_services.referral_log(
        team=other_team_sergeant.team, actor=other_team_sergeant, now=NOW, received_at=NOW - HOUR,
        channel="email", source_agency="School", allegation_category="physical", summary="Bruising.",
        people=[referral_services.PersonDetails(role="victim", first_name="Esme", last_name="Enfield-Child",
                                                date_of_birth=dt.date(2018, 1, 1)),
                referral_services.PersonDetails(role="sibling", first_name="Eli", last_name="Enfield-Child",
                                                date_of_birth=dt.date(2020, 1, 1))])
    return _case_of(referral, other_team_sergeant)


def _typed(moment: dt.datetime) -> str:
    return moment.astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")


def _address(name: str, case: Case) -> str:
    urn = case.referral.urn
    meeting = {"hold": case.scheduled, "cancel": case.scheduled, "report": case.conference,
               "report_print": case.conference, "report_pdf": case.conference}.get(name, case.strategy)
    if name in {"meetings", "medicals", "medical_add", "protection_start"}:
        return reverse(f"conferences:{name}", args=[urn])
    if name == "protection_end":
        return reverse("conferences:protection_end", args=[urn, case.protection.pk])
    return reverse(f"conferences:{name}", args=[urn, meeting.pk])


def _valid_post(name: str, case: Case, officer: Officer) -> dict[str, object]:
    """What a Haringey officer would send; a leak would let it through and write something."""
    return {
        "meetings": {"kind": "core_group", "starts_at": _typed(NOW + 2 * DAY), "place": "School",
                     "chair_name": "Ann Chair", "chair_agency": "CSC", "children": [str(case.child.pk)]},
        "meeting": {"name": "Someone", "agency": "Police"},
        "attendance_add": {"name": "Sue Perkins", "agency": "Police", "is_police": "on", "rank": "DS",
                           "status": "attended"},
        "hold": {},
        "cancel": {"reason": "Chair ill."},
        "minutes": {"received_at": _typed(NOW)},
        "strategy_record": {"decisions": "Changed by another team.", "agreed-TOTAL_FORMS": "0",
                            "agreed-INITIAL_FORMS": "0"},
        "countersign": {"chair_name": "Jo Chair"},
        "medicals": {"examiner_name": "Someone"},
        "medical_add": {"child": str(case.child.pk), "examined_at": _typed(NOW - HOUR), "kind": "sexual",
                        "examiner_name": "Dr Lee", "examiner_role": "FME", "police_attended": "yes"},
        "protection_start": {"child": str(case.sibling.pk), "started_at": _typed(NOW - HOUR),
                             "designated_officer": str(officer.pk), "reason": "Another child."},
        "protection_end": {f"end-{case.protection.pk}-ended_at": _typed(NOW - HOUR)},
        "report": {"intent": "open"},
    }[name]


def _snapshot(case: Case) -> tuple[object, ...]:
    referral = Referral.objects.get(pk=case.referral.pk)
    meetings = tuple(Meeting.objects.filter(referral=referral).order_by("pk")
                     .values_list("status", "minutes_received_at", "cancelled_reason", "flag_no_police_supervisor"))
    records = tuple(StrategyRecord.objects.filter(meeting__referral=referral)
                    .values_list("decisions", "countersigned_at"))
    return (meetings, records, Attendance.objects.filter(meeting__referral=referral).count(),
            AgreedAction.objects.filter(record__meeting__referral=referral).count(),
            MedicalExamination.objects.filter(referral=referral).count(),
            tuple(PoliceProtection.objects.filter(referral=referral).values_list("ended_at", flat=True)),
            PoliceReport.objects.filter(meeting__referral=referral).count(),
            CaseLogEntry.objects.filter(referral=referral).count(), referral.police_protection_ends_by)


def test_every_address_of_the_conferences_app_is_covered_here() -> None:
    """A new address in conferences/urls.py must be added to these visibility tests."""
    names = {pattern.name for pattern in urls.urlpatterns}
    assert names == {name for name, _ in CASE_ADDRESSES} | LIST_ADDRESSES


@pytest.mark.parametrize(("name", "method"), CASE_ADDRESSES)
def test_another_team_gets_not_found_on_every_address_of_a_case(client, hy_case: Case, other_team_sergeant: Officer,
                                                                supervisor: Officer, name: str, method: str) -> None:
    """Enfield's sergeant (desk sergeant and supervisor there) gets 404 and changes nothing; Haringey's
    supervisor sending the same is let through, and a POST of theirs writes something."""
    address = _address(name, hy_case)
    data = _valid_post(name, hy_case, supervisor) if method == "POST" else None
    before = _snapshot(hy_case)

    client.force_login(other_team_sergeant)
    response = client.post(address, data) if method == "POST" else client.get(address)

    body = response.content.decode()
    assert response.status_code == 404
    assert "There is no record at this address that you can see." in body
    assert hy_case.referral.urn not in body
    assert "Okafor" not in body
    assert _snapshot(hy_case) == before

    client.force_login(supervisor)
    response = client.post(address, data) if method == "POST" else client.get(address)
    if method == "POST" and name in READ_ONLY:
        assert response.status_code == 405
    elif method == "POST":
        assert response.status_code == 302, response.content.decode()[-3000:]
        assert _snapshot(hy_case) != before
    elif name == "report_pdf":
        assert response["Content-Type"] == "application/pdf"
    elif name in READ_ONLY | {"meetings", "report"}:
        assert response.status_code == 200
        assert hy_case.referral.urn in response.content.decode()
    else:
        assert response.status_code == 302


@pytest.mark.parametrize("name", ["medicals_without_police", "flagged_meetings"])
def test_the_supervisors_lists_show_only_the_officers_own_team(client, hy_case: Case, en_case: Case,
                                                               other_team_sergeant: Officer, supervisor: Officer,
                                                               name: str) -> None:
    """Enfield's supervisor sees Enfield's flagged meeting and medical, not Haringey's; and the reverse."""
    address = reverse(f"conferences:{name}")

    client.force_login(other_team_sergeant)
    theirs = client.get(address).content.decode()
    client.force_login(supervisor)
    ours = client.get(address).content.decode()

    assert en_case.referral.urn in theirs and hy_case.referral.urn not in theirs
    assert hy_case.referral.urn in ours and en_case.referral.urn not in ours
    if name == "medicals_without_police":
        assert "No officer free in EN." in theirs and "No officer free in HY." not in theirs
        assert "Esme Enfield-Child" in theirs and "Amara Okafor" not in theirs


@pytest.mark.parametrize(("name", "method"), [(name, method) for name, method in CASE_ADDRESSES
                                              if method == "POST" and name not in READ_ONLY | {"report"}])
def test_a_performance_manager_may_look_but_not_write(client, hy_case: Case, performance_manager: Officer,
                                                      supervisor: Officer, name: str, method: str) -> None:
    """Recording meetings, medicals and protection is operational work: a performance manager gets 403."""
    before = _snapshot(hy_case)
    client.force_login(performance_manager)

    response = client.post(_address(name, hy_case), _valid_post(name, hy_case, supervisor))

    assert response.status_code == 403
    assert "Your role does not allow this." in response.content.decode()
    assert _snapshot(hy_case) == before


def test_a_performance_manager_sees_the_meetings_without_free_text(client, hy_case: Case,
                                                                   performance_manager: Officer) -> None:
    """Figures, not narratives: the meeting and its flags are shown; decisions and reasons are not; no forms."""
    client.force_login(performance_manager)

    meeting = client.get(hy_case.strategy.get_absolute_url()).content.decode()
    medicals = client.get(reverse("conferences:medicals", args=[hy_case.referral.urn])).content.decode()

    assert "No police supervisor (sergeant or above) attended" in meeting
    assert "Joint enquiry." not in meeting
    assert "Add to the attendance" not in meeting
    assert "No officer free in HY." not in medicals
    assert "Dr Rao" in medicals
    assert "Record the examination" not in medicals


@pytest.mark.parametrize("name", sorted({name for name, _ in CASE_ADDRESSES} | LIST_ADDRESSES))
def test_anonymous_visitor_is_sent_to_sign_in(client, hy_case: Case, name: str) -> None:
    """No address answers without signing in."""
    address = reverse(f"conferences:{name}") if name in LIST_ADDRESSES else _address(name, hy_case)

    response = client.get(address)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")
