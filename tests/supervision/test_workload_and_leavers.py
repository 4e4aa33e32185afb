"""Workload by officer and allocation with skills; leavers: the leaving date, the exit checklist and
the bulk reallocation of a leaver's work in one transaction (SPEC §1 "officer left; case not
reallocated", §5, §6)."""
from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cram_site.models import AuditEvent, Officer, Rank, Team
from referrals import services as referral_services
from referrals.models import Action, ActionStatus, CaseLogEntry, CaseLogKind, Referral
from supervision import services
from supervision.models import Reminder, ReminderKind, ReminderState, SweepRun
from supervision.services import Move
from tests.factories import OfficerFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)  # a Tuesday, 10:00 in London (GMT)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
_names = itertools.count(1)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@dataclass
class Cast:
    desk: Officer
    investigator: Officer
    supervisor: Officer
    specialist: Officer
    leaver: Officer
    other_team: Officer


@pytest.fixture
def cast(desk_sergeant: Officer, investigator: Officer, supervisor: Officer, haringey: Team,
         other_team_sergeant: Officer) -> Cast:
    """Besides the usual cast: a specialist in sexual offences, and a sergeant who leaves at the month's end."""
    Officer.objects.filter(pk=investigator.pk).update(skills=["Physical abuse", "ABE interviewing"])
    investigator.refresh_from_db()
    specialist = OfficerFactory(username="specialist-hy", first_name="Nina", last_name="Shah", rank=Rank.DC,
                                staff_number="DC505", team=haringey, roles=["investigator"],
                                skills=["Sexual offences", "ABE interviewing"])
    leaver = OfficerFactory(username="leaver-hy", first_name="Lee", last_name="Moore", rank=Rank.DS,
                            staff_number="DS777", team=haringey, roles=["investigator", "supervisor"],
                            leaving_date=dt.date(2026, 3, 31))
    return Cast(desk_sergeant, investigator, supervisor, specialist, leaver, other_team_sergeant)


def open_case(cast: Cast, *, owner: Officer | None, supervisor: Officer | None = None,
              route: str = "police_investigation", team_desk: Officer | None = None, allegation: str = "physical",
              rating: str = "") -> Referral:
    desk = team_desk or cast.desk
    number = next(_names)
    referral = referral_services.referral_log(
        team=desk.team, actor=desk, now=NOW - 2 * HOUR, received_at=NOW - 3 * HOUR, channel="email",
        source_agency="School", allegation_category=allegation, summary="Disclosure to a teacher.",
        people=[referral_services.PersonDetails(role="victim", first_name=f"Child{number}", last_name="Baker",
                                                date_of_birth=dt.date(2017, 5, 5))])
    referral_services.referral_assess(referral=referral, actor=desk, now=NOW - HOUR, urgency="routine", route=route,
                                      rationale="Disclosure.", owner=owner, supervising_officer=supervisor)
    if rating:
        # The CRAM summary on the referral, kept by the risk services; here set directly.
        Referral.objects.filter(pk=referral.pk).update(rating=rating)
    return Referral.objects.get(pk=referral.pk)


def action(cast: Cast, referral: Referral, owner: Officer, *, due: dt.datetime, text: str = "Visit") -> Action:
    return referral_services.action_create(referral=referral, actor=cast.supervisor, now=NOW - HOUR,
                                           description=text, owner=owner, due_at=due)


def reminder(owner: Officer, referral: Referral, *, kind: str, due: dt.datetime,
             state: str = ReminderState.NOTIFIED, subject_id: int | None = None) -> Reminder:
    subject_type = "referrals.action" if kind == ReminderKind.ACTION else "referrals.referral"
    return Reminder.objects.create(kind=kind, subject_type=subject_type, subject_id=subject_id or referral.pk,
                                   referral=referral, title=f"{referral.urn}: {kind}", owner=owner,
                                   notify_at=due, due_at=due, state=state, created_at=due - DAY)


def cells(body: str, testid: str) -> dict[str, str]:
    """The data-testid'd cells of one table row, as text."""
    row = re.search(rf'data-testid="{testid}">(.*?)</tr>', body, re.S)
    assert row, testid
    return {key: re.sub(r"<[^>]+>", "", value).strip()
            for key, value in re.findall(r'data-testid="([a-z]+)">(.*?)</td>', row.group(1), re.S)}


# --- Workload --------------------------------------------------------------------------------------

def test_workload_counts_each_officers_open_referrals_by_rating_actions_and_overdue_items(client, cast: Cast) -> None:
    """The investigator: two high, one medium, one unrated; three open actions, one overdue and one
    finished; an overdue reminder of their own (an overdue action's reminder is not counted twice)."""
    high = [open_case(cast, owner=cast.investigator, rating="high") for _ in range(2)]
    open_case(cast, owner=cast.investigator, rating="medium")
    open_case(cast, owner=cast.investigator)
    open_case(cast, owner=cast.specialist, rating="standard")
    open_case(cast, owner=None, route="no_further_action", rating="high")
    enfield = Officer.objects.filter(team=cast.other_team.team)
    open_case(cast, owner=None, team_desk=cast.other_team, route="no_further_action")
    late = action(cast, high[0], cast.investigator, due=NOW - HOUR + dt.timedelta(minutes=30))
    action(cast, high[0], cast.investigator, due=NOW + DAY)
    action(cast, high[1], cast.investigator, due=NOW + 2 * DAY)
    finished = action(cast, high[1], cast.investigator, due=NOW - HOUR + dt.timedelta(minutes=30))
    referral_services.action_finish(action=finished, actor=cast.investigator, now=NOW, status="done", note="Done.")
    reminder(cast.investigator, high[0], kind=ReminderKind.CRAM_REVIEW, due=NOW - DAY)
    reminder(cast.investigator, high[0], kind=ReminderKind.ACTION, due=late.due_at, subject_id=late.pk)
    reminder(cast.investigator, high[1], kind=ReminderKind.INACTIVITY, due=NOW - DAY, state=ReminderState.RESOLVED)
    reminder(cast.investigator, high[1], kind=ReminderKind.CRAM_SIGNOFF, due=NOW + DAY)
    client.force_login(cast.supervisor)

    body = client.get(reverse("supervision:workload")).content.decode()

    assert cells(body, "officer-investigator-hy") == {"high": "2", "medium": "1", "standard": "0", "none": "1",
                                                      "referrals": "4", "actions": "3", "overdue": "2"}
    assert cells(body, "officer-specialist-hy") == {"high": "0", "medium": "0", "standard": "1", "none": "0",
                                                    "referrals": "1", "actions": "0", "overdue": "0"}
    assert "Sexual offences, ABE interviewing" in body
    assert all(f"officer-{officer.username}" not in body for officer in enfield)


def test_reallocating_from_the_workload_shows_skills_match_and_load_then_logs_the_change(client, cast: Cast) -> None:
    sexual = open_case(cast, owner=cast.investigator, supervisor=cast.supervisor, allegation="sexual")
    open_case(cast, owner=cast.specialist, rating="high")
    client.force_login(cast.supervisor)

    lookup = client.get(reverse("supervision:workload"), {"urn": sexual.urn.lower()})
    assert lookup.status_code == 302
    page = client.get(lookup["Location"]).content.decode()
    specialist_row = re.search(r'data-testid="candidate-specialist-hy">(.*?)</tr>', page, re.S).group(1)
    investigator_row = re.search(r'data-testid="candidate-investigator-hy">(.*?)</tr>', page, re.S).group(1)
    assert "Sexual offences, ABE interviewing" in specialist_row and "<strong>Yes</strong>" in specialist_row
    assert "1 (1 / 0 / 0 / 0)" in specialist_row
    assert "(has it now)" in investigator_row and ">No<" in investigator_row

    response = client.post(lookup["Location"], {"owner": cast.specialist.pk, "reason": "Sexual offences trained.",
                                                "next": reverse("supervision:workload")})

    assert response["Location"] == reverse("supervision:workload")
    assert Referral.objects.get(pk=sexual.pk).owner == cast.specialist
    assert sexual.case_log.order_by("-number").first().text == (
        "Allocation changed: investigating officer DC Nina Shah DC505, supervisor DS Sue Perkins DS303. "
        "Reason: Sexual offences trained.")


def test_reallocating_an_unknown_or_other_teams_urn_is_refused(client, cast: Cast) -> None:
    enfield = open_case(cast, owner=None, team_desk=cast.other_team, route="no_further_action")
    client.force_login(cast.supervisor)

    for urn in ("HY-26-09999", enfield.urn):
        response = client.get(reverse("supervision:workload"), {"urn": urn})
        assert response.status_code == 200
        assert f"No open referral you can see has the URN {urn}." in response.content.decode()
    assert client.get(reverse("supervision:allocate", args=[enfield.urn])).status_code == 404


# --- Leaving dates ----------------------------------------------------------------------------------

def test_setting_a_leaving_date_stores_it_with_an_audit_event(client, cast: Cast) -> None:
    client.force_login(cast.supervisor)

    response = client.post(reverse("supervision:leavers"), {"officer": cast.investigator.pk,
                                                            "leaving_date": "2026-04-30"})

    assert response.status_code == 302
    assert Officer.objects.get(pk=cast.investigator.pk).leaving_date == dt.date(2026, 4, 30)
    event = AuditEvent.objects.get(object_pk=str(cast.investigator.pk), action=AuditEvent.Action.UPDATE)
    assert (event.actor, event.changes) == (cast.supervisor, {"leaving_date": ["None", "2026-04-30"]})
    body = client.get(reverse("supervision:leavers")).content.decode()
    assert "DC Ian Vance DC202" in re.search(r'data-testid="leaver-investigator-hy">(.*?)</tr>', body, re.S).group(1)


def test_a_past_leaving_date_or_an_officer_of_another_team_is_refused(client, cast: Cast) -> None:
    client.force_login(cast.supervisor)

    past = client.post(reverse("supervision:leavers"), {"officer": cast.investigator.pk, "leaving_date": "2026-03-09"})
    other = client.post(reverse("supervision:leavers"), {"officer": cast.other_team.pk, "leaving_date": "2026-04-30"})

    assert "The leaving date cannot be in the past." in past.content.decode()
    assert "Select a valid choice" in other.content.decode()
    assert list(Officer.objects.filter(leaving_date__isnull=False)) == [cast.leaver]
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE).exists()
    with pytest.raises(ValidationError):
        services.officer_leaving_date_set(officer=cast.other_team, actor=cast.supervisor, now=NOW,
                                          leaving_date=dt.date(2026, 4, 30))


def test_the_leavers_page_lists_the_teams_leavers_with_their_open_work(client, cast: Cast) -> None:
    OfficerFactory(username="leaver-en", team=cast.other_team.team, leaving_date=dt.date(2026, 3, 20))
    open_case(cast, owner=cast.leaver)
    open_case(cast, owner=cast.investigator, supervisor=cast.leaver)
    action(cast, open_case(cast, owner=cast.investigator), cast.leaver, due=NOW + DAY)
    client.force_login(cast.supervisor)

    body = client.get(reverse("supervision:leavers")).content.decode()

    assert re.findall(r'data-testid="leaver-([a-z-]+)"', body) == ["leaver-hy"]
    row = re.search(r'data-testid="leaver-leaver-hy">(.*?)</tr>', body, re.S).group(1)
    assert re.findall(r"<td>(.*?)</td>", row)[:3] == ["31/03/2026", "2", "1"]


# --- The exit checklist and bulk reallocation --------------------------------------------------------

@dataclass
class LeaversWork:
    investigation: Referral
    supervised: Referral
    social_services: Referral
    action: Action


@pytest.fixture
def work(cast: Cast) -> LeaversWork:
    """The leaver owns an investigation and a social-services referral, supervises another case, and owns
    an action on it; a finished action and another officer's case are not theirs to hand over."""
    investigation = open_case(cast, owner=cast.leaver, supervisor=cast.supervisor)
    supervised = open_case(cast, owner=cast.investigator, supervisor=cast.leaver)
    social_services = open_case(cast, owner=cast.leaver, supervisor=cast.leaver, route="social_services_only")
    leavers_action = action(cast, supervised, cast.leaver, due=NOW + DAY, text="Chase the GP records")
    finished = action(cast, supervised, cast.leaver, due=NOW + DAY, text="Book the interview suite")
    referral_services.action_finish(action=finished, actor=cast.leaver, now=NOW, status="done", note="Booked.")
    open_case(cast, owner=cast.investigator, supervisor=cast.supervisor)
    return LeaversWork(investigation, supervised, social_services, leavers_action)


def checklist_url(cast: Cast) -> str:
    return reverse("supervision:leaver", args=[cast.leaver.pk])


def test_the_checklist_lists_every_open_referral_investigation_and_action_of_the_leaver(
        client, cast: Cast, work: LeaversWork) -> None:
    client.force_login(cast.supervisor)

    body = client.get(checklist_url(cast)).content.decode()

    assert re.findall(r'data-testid="item-([a-z]+-\d+)"', body) == [
        f"referral-{work.investigation.pk}", f"referral-{work.supervised.pk}", f"referral-{work.social_services.pk}",
        f"action-{work.action.pk}"]
    counts = dict(re.findall(r'data-testid="([a-z]+)-count">(\d+)<', body))
    assert counts == {"referral": "3", "investigation": "1", "action": "1"}
    assert "Investigating officer (investigation)" in body and "Investigating officer; Supervisor" in body
    assert "Chase the GP records" in body and "Book the interview suite" not in body


def _post(cast: Cast, work: LeaversWork, **overrides: str) -> dict[str, str]:
    data = {
        f"referral-{work.investigation.pk}-owner": str(cast.specialist.pk),
        f"referral-{work.investigation.pk}-rationale": "Lightest caseload.",
        f"referral-{work.supervised.pk}-owner": str(cast.supervisor.pk),
        f"referral-{work.supervised.pk}-rationale": "Team sergeant takes supervision.",
        f"referral-{work.social_services.pk}-owner": str(cast.investigator.pk),
        f"referral-{work.social_services.pk}-rationale": "Knows the family.",
        f"action-{work.action.pk}-owner": str(cast.investigator.pk),
        f"action-{work.action.pk}-rationale": "Owns the case.",
    }
    data.update(overrides)
    return data


def _log_counts(*referrals: Referral) -> list[int]:
    return [CaseLogEntry.objects.filter(referral=referral).count() for referral in referrals]


def test_bulk_reallocation_moves_each_item_with_one_case_log_entry_each(client, cast: Cast, work: LeaversWork) -> None:
    late = reminder(cast.leaver, work.investigation, kind=ReminderKind.CRAM_REVIEW, due=NOW - DAY)
    before = _log_counts(work.investigation, work.supervised, work.social_services)
    client.force_login(cast.supervisor)

    response = client.post(checklist_url(cast), _post(cast, work))

    assert response.status_code == 302
    assert _log_counts(work.investigation, work.supervised, work.social_services) == [
        before[0] + 1, before[1] + 2, before[2] + 1]
    investigation, supervised, social_services = (Referral.objects.get(pk=r.pk) for r in (
        work.investigation, work.supervised, work.social_services))
    assert (investigation.owner, investigation.supervising_officer) == (cast.specialist, cast.supervisor)
    assert (supervised.owner, supervised.supervising_officer) == (cast.investigator, cast.supervisor)
    assert (social_services.owner, social_services.supervising_officer) == (cast.investigator, cast.investigator)
    assert Action.objects.get(pk=work.action.pk).owner == cast.investigator
    assert investigation.case_log.order_by("-number").first().text == (
        "Allocation changed: investigating officer DC Nina Shah DC505, supervisor DS Sue Perkins DS303. "
        "Reason: DS Lee Moore DS777 (leaving 31/03/2026) — Lightest caseload.")
    assert list(supervised.case_log.order_by("-number").values_list("kind", "text")[:2]) == [
        (CaseLogKind.SYSTEM, "Action reallocated from DS Lee Moore DS777 to DC Ian Vance DC202: DS Lee Moore DS777 "
                             "(leaving 31/03/2026) — Owns the case. (action: Chase the GP records)"),
        (CaseLogKind.SYSTEM, "Allocation changed: investigating officer DC Ian Vance DC202, supervisor DS Sue Perkins "
                             "DS303. Reason: DS Lee Moore DS777 (leaving 31/03/2026) — Team sergeant takes "
                             "supervision."),
    ]
    assert Reminder.objects.get(pk=late.pk).owner == cast.specialist
    assert "has no open work left" in client.get(checklist_url(cast)).content.decode()


def test_a_missing_rationale_stores_nothing_and_says_so_beside_the_row(client, cast: Cast, work: LeaversWork) -> None:
    before = _log_counts(work.investigation, work.supervised, work.social_services)
    client.force_login(cast.supervisor)

    response = client.post(checklist_url(cast), _post(cast, work, **{f"action-{work.action.pk}-rationale": " "}))

    assert response.status_code == 200
    body = response.content.decode()
    assert re.search(rf'data-testid="error-action-{work.action.pk}-rationale">Give the rationale for this move.<', body)
    assert _log_counts(work.investigation, work.supervised, work.social_services) == before
    assert Referral.objects.get(pk=work.investigation.pk).owner == cast.leaver
    assert Action.objects.get(pk=work.action.pk).owner == cast.leaver


def test_moving_work_to_the_leaver_or_another_team_is_refused_beside_the_row(client, cast: Cast,
                                                                             work: LeaversWork) -> None:
    before = _log_counts(work.investigation, work.supervised, work.social_services)
    client.force_login(cast.supervisor)

    response = client.post(checklist_url(cast), _post(cast, work, **{
        f"referral-{work.investigation.pk}-owner": str(cast.other_team.pk),
        f"referral-{work.supervised.pk}-owner": str(cast.leaver.pk)}))

    body = response.content.decode()
    refusal = "Choose an active officer of this team, other than the one leaving."
    assert f'data-testid="error-referral-{work.investigation.pk}">{refusal}<' in body
    assert f'data-testid="error-referral-{work.supervised.pk}">{refusal}<' in body
    assert _log_counts(work.investigation, work.supervised, work.social_services) == before


def test_the_service_checks_every_move_before_storing_any(cast: Cast, work: LeaversWork) -> None:
    before = _log_counts(work.investigation, work.supervised, work.social_services)
    moves = [Move("referral", work.investigation.pk, cast.specialist, "Lightest caseload."),
             Move("referral", work.supervised.pk, cast.other_team, "Spare capacity."),
             Move("referral", work.social_services.pk, cast.leaver, "Stays with them."),
             Move("action", work.action.pk, cast.investigator, "")]

    with pytest.raises(ValidationError) as refusal:
        services.leaver_work_reallocate(leaver=cast.leaver, actor=cast.supervisor, now=NOW, moves=moves)

    assert refusal.value.message_dict == {
        f"referral-{work.supervised.pk}": ["DS Owen Tate DS909 is not in this team."],
        f"referral-{work.social_services.pk}": ["Choose someone other than the officer who is leaving."],
        f"action-{work.action.pk}": ["Give the rationale for this move."],
    }
    assert _log_counts(work.investigation, work.supervised, work.social_services) == before
    assert Referral.objects.get(pk=work.investigation.pk).owner == cast.leaver


def test_a_failure_part_way_through_undoes_the_moves_already_made(cast: Cast, work: LeaversWork,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """All moves are one transaction: the referral moved before a failing action move is moved back."""
    before = _log_counts(work.investigation, work.supervised)

    def broken(**kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "action_reallocate", broken)
    with pytest.raises(RuntimeError):
        services.leaver_work_reallocate(leaver=cast.leaver, actor=cast.supervisor, now=NOW, moves=[
            Move("referral", work.investigation.pk, cast.specialist, "Lightest caseload."),
            Move("action", work.action.pk, cast.investigator, "Owns the case.")])

    assert Referral.objects.get(pk=work.investigation.pk).owner == cast.leaver
    assert _log_counts(work.investigation, work.supervised) == before


def test_an_action_reallocation_needs_an_open_action_and_a_rationale(cast: Cast, work: LeaversWork) -> None:
    with pytest.raises(ValidationError):
        services.action_reallocate(action=work.action, actor=cast.supervisor, now=NOW, owner=cast.investigator,
                                   rationale="  ")
    referral_services.action_finish(action=work.action, actor=cast.leaver, now=NOW, status="cancelled",
                                    note="No longer needed.")
    with pytest.raises(ValidationError):
        services.action_reallocate(action=work.action, actor=cast.supervisor, now=NOW, owner=cast.investigator,
                                   rationale="Owns the case.")
    assert Action.objects.get(pk=work.action.pk).status == ActionStatus.CANCELLED
    assert Action.objects.get(pk=work.action.pk).owner == cast.leaver


# --- Query counts -----------------------------------------------------------------------------------

def _pages(cast: Cast, referral: Referral) -> dict[str, str]:
    return {
        "workload": reverse("supervision:workload"),
        "leavers": reverse("supervision:leavers"),
        "exit checklist": checklist_url(cast),
        "allocation": reverse("supervision:allocate", args=[referral.urn]),
    }


# Session, officer, roles, team (page header), the request's savepoint and its release, and the last sweep:
# 7 on every page. Workload: officers, referrals by rating, actions, reminders. Leavers: the leavers with their
# counts, and the officers of the form. Exit checklist: the leaver, referrals and their people, actions with
# their referrals, the candidate officers. Allocation: the referral, the candidates and their three counts.
PINS = {"workload": 11, "leavers": 9, "exit checklist": 12, "allocation": 12}


def _query_counts(client, addresses: dict[str, str]) -> dict[str, int]:
    counts = {}
    for page, address in addresses.items():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(address)
        assert response.status_code == 200, page
        counts[page] = len(captured.captured_queries)
    return counts


def _more_work(cast: Cast, copies: int) -> Referral:
    first = None
    for _ in range(copies):
        for owner in (cast.investigator, cast.specialist, cast.leaver):
            referral = open_case(cast, owner=owner, supervisor=cast.leaver, rating="high")
            action(cast, referral, cast.leaver, due=NOW + DAY)
            action(cast, referral, owner, due=NOW + DAY)
            reminder(owner, referral, kind=ReminderKind.CRAM_REVIEW, due=NOW - DAY)
            first = first or referral
    return first


def test_workload_and_leavers_pages_make_the_same_queries_at_two_sizes(client, cast: Cast,
                                                                       django_assert_max_num_queries) -> None:
    referral = _more_work(cast, 1)
    SweepRun.objects.create(started_at=NOW - 2 * HOUR, finished_at=NOW - 2 * HOUR, as_of=NOW - 2 * HOUR)
    client.force_login(cast.supervisor)
    addresses = _pages(cast, referral)
    _query_counts(client, addresses)
    small = _query_counts(client, addresses)

    _more_work(cast, 4)
    OfficerFactory(username="leaver-two", team=cast.investigator.team, roles=["investigator"],
                   leaving_date=dt.date(2026, 5, 1))
    large = _query_counts(client, addresses)

    assert large == small, "pages whose query count grew with the data"
    shown = {"workload": "DC Nina Shah DC505", "leavers": "DS Lee Moore DS777", "exit checklist": "Reallocate",
             "allocation": "Sexual offences, ABE interviewing"}
    for page, most in PINS.items():
        with django_assert_max_num_queries(most):
            body = client.get(addresses[page]).content.decode()
        assert shown[page] in body and "Reminders last ran" in body, page
