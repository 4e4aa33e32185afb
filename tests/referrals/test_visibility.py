"""Who may see and do what: another team sees nothing of Haringey's, on every address; roles are checked."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
import time_machine
from django.urls import reverse

from cram_site.models import AuditEvent, Officer
from referrals import services, urls
from referrals.models import Action, CaseLogEntry, Person, Referral

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)


@dataclass
class Case:
    referral: Referral
    action: Action
    child: Person


@pytest.fixture
def hy_case(log_referral, desk_sergeant: Officer, investigator: Officer) -> Case:
    """A Haringey phone referral, awaiting assessment, with one open action."""
    with time_machine.travel(NOW, tick=False):
        referral = log_referral(channel="phone")
        action = services.action_create(referral=referral, actor=desk_sergeant, now=NOW,
                                        description="Check school attendance records", owner=investigator,
                                        due_at=NOW + dt.timedelta(days=2))
    return Case(referral=referral, action=action, child=referral.lead_child)


def _address(name: str, case: Case) -> str:
    urn = case.referral.urn
    if name == "action_finish":
        return reverse("referrals:action_finish", args=[urn, case.action.pk])
    if name == "person":
        return reverse("referrals:person", args=[case.child.pk])
    if name == "disclosure_respond":
        request = case.referral.disclosure_requests.first() or services.disclosure_request_record(
            referral=case.referral, actor=case.referral.logged_by, now=NOW, received_at=NOW,
            requested_by="Family court")
        return reverse("referrals:disclosure_respond", args=[urn, request.pk])
    return reverse(f"referrals:{name}", args=[urn])


def _valid_post(name: str, case: Case, officers: dict[str, Officer]) -> dict[str, str]:
    """What a Haringey officer would send; a leak would let it through and write something."""
    return {
        "assess": {"urgency": "urgent", "route": "social_services_only", "rationale": "Seen at school.",
                   "crime_report_number": "CR/9999/26"},
        "allocate": {"owner": str(officers["investigator"].pk), "reason": "Taken over."},
        "log_add": {"kind": "information", "text": "Entry from another team."},
        "log_correct": {"corrects": str(case.referral.case_log.get(number=1).pk), "text": "Corrected from EN."},
        "written_followup": {"received_at": "2026-03-10T09:30", "note": "Arrived."},
        "social_services_update": {"received_at": "2026-03-10T09:30", "note": "Seen by the social worker."},
        "action_add": {"description": "Another team's action", "owner": str(officers["investigator"].pk),
                       "due_at": "2026-03-12T10:00"},
        "action_finish": {"status": "done", "note": "Closed by another team."},
        "joint_visit": {"visited_at": "2026-03-10T09:30"},
        "outcome": {"outcome": "charged", "outcome_at": "2026-03-10T09:30"},
        "disclosure_add": {"received_at": "2026-03-10T09:30", "requested_by": "Family court, Enfield",
                           "proceedings_reference": "", "decision": "pending", "responded_at": ""},
        "disclosure_respond": {"decision": "disclosed", "responded_at": "2026-03-10T09:45"},
    }[name]


# Every address of a single referral or person, with the methods it answers.
CASE_ADDRESSES = [
    ("case", "GET"),
    ("assess", "GET"), ("assess", "POST"),
    ("allocate", "GET"), ("allocate", "POST"),
    ("log_add", "POST"),
    ("log_correct", "POST"),
    ("written_followup", "GET"), ("written_followup", "POST"),
    ("social_services_update", "GET"), ("social_services_update", "POST"),
    ("action_add", "GET"), ("action_add", "POST"),
    ("action_finish", "GET"), ("action_finish", "POST"),
    ("person", "GET"),
    ("investigation", "GET"), ("joint_visit", "POST"), ("outcome", "POST"),
    ("disclosure_add", "POST"), ("disclosure_respond", "POST"),
]
# Addresses that list or search rather than show one record: each has its own test below.
LIST_ADDRESSES = {"list", "desk", "create", "person_matches", "search"}
# The legacy import's pages: administrators only, and a run only to its own team
# (tests/referrals/test_legacy_import.py tests both).
IMPORT_ADDRESSES = {"import", "import_run", "import_run_progress", "import_run_report", "import_run_again"}
CASE_TABS = ["chronology", "people", "actions", "audit"]


def _snapshot(case: Case) -> tuple[object, ...]:
    referral = Referral.objects.get(pk=case.referral.pk)
    return (referral.status, referral.owner_id, referral.crime_report_number, referral.written_followup_received_at,
            CaseLogEntry.objects.filter(referral=referral).count(), Action.objects.filter(referral=referral).count(),
            Action.objects.get(pk=case.action.pk).status)


def test_every_address_of_the_referrals_app_is_covered_here() -> None:
    """A new address in referrals/urls.py must be added to these visibility tests."""
    names = {pattern.name for pattern in urls.urlpatterns}
    assert names == {name for name, _ in CASE_ADDRESSES} | LIST_ADDRESSES | IMPORT_ADDRESSES


@pytest.mark.parametrize(("name", "method"), CASE_ADDRESSES)
def test_another_team_gets_not_found_on_every_address_of_a_case(client, hy_case: Case, other_team_sergeant: Officer,
                                                                supervisor: Officer, investigator: Officer,
                                                                name: str, method: str) -> None:
    """Enfield's sergeant (desk sergeant and supervisor there) gets 404 and changes nothing; Haringey's gets in."""
    address = _address(name, hy_case)
    data = _valid_post(name, hy_case, {"investigator": investigator}) if method == "POST" else None
    before = _snapshot(hy_case)

    client.force_login(other_team_sergeant)
    with time_machine.travel(NOW, tick=False):
        response = client.post(address, data) if method == "POST" else client.get(address)

    assert response.status_code == 404
    assert "There is no record at this address that you can see." in response.content.decode()
    assert hy_case.referral.urn not in response.content.decode()
    assert _snapshot(hy_case) == before

    # The same request from Haringey's supervisor is not refused, so the 404 above is the team rule.
    client.force_login(supervisor)
    with time_machine.travel(NOW, tick=False):
        response = client.post(address, data) if method == "POST" else client.get(address)
    assert response.status_code in (200, 302)


@pytest.mark.parametrize("tab", CASE_TABS)
def test_another_team_gets_not_found_on_every_tab_of_the_case_page(client, hy_case: Case,
                                                                  other_team_sergeant: Officer, tab: str) -> None:
    """No tab of the case page, the audit tab included, shows another team's case."""
    client.force_login(other_team_sergeant)

    response = client.get(hy_case.referral.get_absolute_url(), {"tab": tab})

    assert response.status_code == 404
    assert hy_case.referral.urn not in response.content.decode()


def test_another_team_does_not_find_the_case_by_urn_or_by_the_childs_name(client, hy_case: Case,
                                                                         other_team_sergeant: Officer,
                                                                         desk_sergeant: Officer) -> None:
    """Searching Enfield's records for a Haringey URN or child finds nothing; Haringey's sergeant finds both."""
    urn = hy_case.referral.urn
    client.force_login(other_team_sergeant)
    by_urn = client.get(reverse("referrals:search"), {"q": urn}).content.decode()
    by_name = client.get(reverse("referrals:search"), {"q": "Okafor"}).content.decode()

    assert f"No referral you can see has the URN {urn}." in by_urn
    assert f">{urn}</a>" not in by_urn
    assert "Amara Okafor" not in by_name
    assert "No matching people." in by_name

    client.force_login(desk_sergeant)
    assert f">{urn}</a>" in client.get(reverse("referrals:search"), {"q": urn}).content.decode()
    assert "Amara Okafor" in client.get(reverse("referrals:search"), {"q": "Okafor"}).content.decode()


@pytest.mark.parametrize("address", [reverse("referrals:list"), reverse("referrals:list") + "?show=awaiting",
                                     reverse("referrals:desk")])
def test_another_teams_lists_and_desk_leave_the_case_out(client, hy_case: Case, other_team_sergeant: Officer,
                                                         desk_sergeant: Officer, address: str) -> None:
    """Enfield's referral list and desk do not show a Haringey referral; Haringey's do."""
    urn = hy_case.referral.urn
    with time_machine.travel(NOW, tick=False):
        client.force_login(other_team_sergeant)
        theirs = client.get(address).content.decode()
        client.force_login(desk_sergeant)
        ours = client.get(address).content.decode()

    assert urn not in theirs
    assert urn in ours


def test_another_team_is_not_offered_haringey_people_as_matches(client, hy_case: Case, other_team_sergeant: Officer,
                                                               desk_sergeant: Officer) -> None:
    """Typing a Haringey child's name while logging an Enfield referral offers nobody."""
    query = {"prefix": "people-0", "index": "0", "people-0-last_name": "Okafor", "people-0-first_name": "Amara"}
    address = reverse("referrals:person_matches")

    client.force_login(other_team_sergeant)
    theirs = client.get(address, query).content.decode()
    client.force_login(desk_sergeant)
    ours = client.get(address, query).content.decode()

    assert "Okafor" not in theirs
    assert f'value="0:{hy_case.child.pk}"' in ours


def test_refused_request_is_audited_with_the_officer_and_path(client, hy_case: Case,
                                                             other_team_sergeant: Officer) -> None:
    """A 404 for another team's case is recorded: who, which address, from where."""
    client.force_login(other_team_sergeant)
    address = hy_case.referral.get_absolute_url() + "?tab=people"

    client.get(address)

    refusal = AuditEvent.objects.get(action=AuditEvent.Action.REFUSED)
    assert refusal.object_repr == address
    assert refusal.actor == other_team_sergeant
    assert refusal.remote_addr == "127.0.0.1"
    assert refusal.additional_data == {"reason": "not found or not visible to this officer"}
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.ACCESS, referral_id=hy_case.referral.pk).exists()


# --- Roles ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["performance_manager", "auditor"])
def test_performance_manager_and_auditor_may_not_log_or_assess(client, request, hy_case: Case,
                                                               referral_form_data, role: str) -> None:
    """Logging and assessing are desk work: other roles get 403, nothing is written, and the refusal is audited."""
    officer = request.getfixturevalue(role)
    client.force_login(officer)
    referrals_before = Referral.objects.count()
    assess = reverse("referrals:assess", args=[hy_case.referral.urn])

    with time_machine.travel(NOW, tick=False):
        responses = [
            client.get(reverse("referrals:create")),
            client.post(reverse("referrals:create"), referral_form_data()),
            client.get(assess),
            client.post(assess, {"urgency": "routine", "route": "no_further_action", "rationale": "No concern."}),
        ]

    assert [r.status_code for r in responses] == [403, 403, 403, 403]
    assert "Your role does not allow this." in responses[0].content.decode()
    assert Referral.objects.count() == referrals_before
    assert Referral.objects.get(pk=hy_case.referral.pk).status == "new"
    assert AuditEvent.objects.filter(action=AuditEvent.Action.REFUSED, actor=officer).count() == 4


def test_investigator_may_not_open_the_audit_tab(client, hy_case: Case, investigator: Officer) -> None:
    """The audit tab is for supervisors and auditors; the tab is not even offered to an investigator."""
    client.force_login(investigator)

    refused = client.get(hy_case.referral.get_absolute_url(), {"tab": "audit"})
    chronology = client.get(hy_case.referral.get_absolute_url()).content.decode()

    assert refused.status_code == 403
    assert "Who viewed and changed this case" not in refused.content.decode()
    assert "?tab=audit" not in chronology


@pytest.mark.parametrize("role", ["supervisor", "auditor"])
def test_supervisor_and_auditor_see_the_audit_tab(client, request, hy_case: Case, role: str) -> None:
    """The audit tab lists the case's events for a supervisor or an auditor."""
    client.force_login(request.getfixturevalue(role))

    body = client.get(hy_case.referral.get_absolute_url(), {"tab": "audit"}).content.decode()

    assert "Who viewed and changed this case" in body
    assert f"referral: {hy_case.referral.urn}" in body


def test_performance_manager_sees_the_case_without_its_free_text(client, hy_case: Case,
                                                                performance_manager: Officer) -> None:
    """Figures, not narratives: the case page shows the URN and status but no summary or case-log text."""
    client.force_login(performance_manager)

    body = client.get(hy_case.referral.get_absolute_url()).content.decode()

    assert hy_case.referral.urn in body
    assert "Awaiting assessment" in body
    assert hy_case.referral.summary not in body
    assert "Referral logged:" not in body
    assert "Text not shown to your role." in body
    assert "Add to the case log" not in body


@pytest.mark.parametrize("name", sorted({name for name, _ in CASE_ADDRESSES} | LIST_ADDRESSES))
def test_anonymous_visitor_is_sent_to_sign_in(client, hy_case: Case, name: str) -> None:
    """No address answers without signing in; the visitor is sent to the login page and back afterwards."""
    address = reverse(f"referrals:{name}") if name in LIST_ADDRESSES else _address(name, hy_case)

    response = client.get(address)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")
