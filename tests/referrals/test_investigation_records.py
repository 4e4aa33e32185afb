"""The investigation tab: a joint visit, the outcome and requests for disclosure in family proceedings,
each stored with a case-log entry and audited; bad input stores nothing; another team gets a 404."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from cram_site.models import AuditEvent, Officer
from referrals import services
from referrals.models import CaseLogEntry, DisclosureDecision, DisclosureRequest, Referral

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 31, 22, 30, tzinfo=dt.UTC)  # 23:30 BST
RECEIVED = dt.datetime(2026, 3, 30, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def investigation(log_referral: Callable[..., Referral], desk_sergeant: Officer, investigator: Officer) -> Referral:
    referral = log_referral(now=RECEIVED + dt.timedelta(minutes=5), received_at=RECEIVED)
    services.referral_assess(referral=referral, actor=desk_sergeant, now=RECEIVED + dt.timedelta(hours=1),
                             urgency="routine", route="joint_investigation", rationale="Disclosure at school.",
                             owner=investigator, supervising_officer=None)
    referral.refresh_from_db()
    return referral


def _entries(referral: Referral) -> list[str]:
    return list(CaseLogEntry.objects.filter(referral=referral).order_by("number").values_list("text", flat=True))


def _post(client, name: str, referral: Referral, data: dict[str, str], *args: object):
    return client.post(reverse(f"referrals:{name}", args=[referral.urn, *args]), data)


def test_a_joint_visit_is_stored_and_logged(client, investigation: Referral, investigator: Officer) -> None:
    client.force_login(investigator)

    response = _post(client, "joint_visit", investigation, {"visited_at": "2026-03-31T14:15"})

    assert response.status_code == 302
    investigation.refresh_from_db()
    assert investigation.joint_visit_at == dt.datetime(2026, 3, 31, 13, 15, tzinfo=dt.UTC)  # 14:15 BST
    assert _entries(investigation)[-1] == "Joint visit with children's social care on 31/03/2026 14:15."
    page = client.get(reverse("referrals:investigation", args=[investigation.urn])).content.decode()
    assert "visited together on 31/03/2026 14:15" in page
    assert AuditEvent.objects.filter(content_type=ContentType.objects.get_for_model(Referral),
                                     object_pk=str(investigation.pk), changes__icontains="joint_visit_at").exists()


def test_a_correction_of_the_joint_visit_says_what_it_corrects(investigation: Referral, investigator: Officer) -> None:
    first = dt.datetime(2026, 3, 31, 9, 0, tzinfo=dt.UTC)
    services.joint_visit_record(referral=investigation, actor=investigator, now=NOW, visited_at=first)

    services.joint_visit_record(referral=investigation, actor=investigator, now=NOW,
                                visited_at=first + dt.timedelta(hours=2))

    assert _entries(investigation)[-1] == ("Joint visit with children's social care on 31/03/2026 12:00. "
                                           "This corrects the time recorded before (31/03/2026 10:00).")


@pytest.mark.parametrize(("visited_at", "message"), [
    ("2026-04-01T09:00", "A joint visit cannot be recorded before it happens."),
    ("2026-03-29T09:00", "The joint visit cannot be before the referral was received (30/03/2026 10:00)."),
    ("yesterday", "Enter a valid date/time."),
])
def test_a_bad_joint_visit_is_explained_and_nothing_is_stored(client, investigation: Referral, investigator: Officer,
                                                             visited_at: str, message: str) -> None:
    client.force_login(investigator)
    before = _entries(investigation)

    response = _post(client, "joint_visit", investigation, {"visited_at": visited_at})

    html = response.content.decode()
    assert response.status_code == 200
    assert message in html.split('id="id_visited_at"')[1][:800]
    investigation.refresh_from_db()
    assert investigation.joint_visit_at is None
    assert _entries(investigation) == before


def test_an_outcome_is_stored_and_logged_as_a_detection(client, investigation: Referral, investigator: Officer) -> None:
    client.force_login(investigator)

    _post(client, "outcome", investigation, {"outcome": "charged", "outcome_at": "2026-03-31T16:00"})

    investigation.refresh_from_db()
    assert (investigation.outcome, investigation.outcome_at) == ("charged",
                                                                 dt.datetime(2026, 3, 31, 15, 0, tzinfo=dt.UTC))
    assert _entries(investigation)[-1] == ("Investigation outcome: Charged or summonsed, on 31/03/2026 16:00 "
                                           "(a detection).")


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"outcome": "charged", "outcome_at": "2026-03-29T16:00"}, "outcome_at",
     "The outcome cannot be before the referral was received (30/03/2026 10:00)."),
    ({"outcome": "charged", "outcome_at": "2026-04-02T16:00"}, "outcome_at", "The outcome cannot be in the future."),
    ({"outcome": "acquitted", "outcome_at": "2026-03-31T16:00"}, "outcome", "Select a valid choice."),
])
def test_a_bad_outcome_is_explained_and_nothing_is_stored(client, investigation: Referral, investigator: Officer,
                                                         data: dict[str, str], field: str, message: str) -> None:
    client.force_login(investigator)
    before = _entries(investigation)

    html = _post(client, "outcome", investigation, data).content.decode()

    assert message in html.split(f'id="id_{field}"')[1][:1500]
    investigation.refresh_from_db()
    assert investigation.outcome == "" and investigation.outcome_at is None
    assert _entries(investigation) == before


def test_an_outcome_is_refused_on_a_referral_that_is_not_an_investigation(log_referral, investigator: Officer) -> None:
    referral = log_referral(now=RECEIVED, received_at=RECEIVED)

    with pytest.raises(Exception, match="police or joint investigation"):
        services.investigation_outcome_record(referral=referral, actor=investigator, now=NOW, outcome="charged",
                                              outcome_at=NOW)
    referral.refresh_from_db()
    assert referral.outcome == ""


def test_a_disclosure_request_and_its_response_are_stored_logged_and_audited(client, investigation: Referral,
                                                                            investigator: Officer) -> None:
    client.force_login(investigator)

    _post(client, "disclosure_add", investigation, {
        "received_at": "2026-03-31T10:00", "requested_by": "Family court, Wood Green", "proceedings_reference": "ZW26C001",
        "decision": "pending", "responded_at": ""})
    request = DisclosureRequest.objects.get(referral=investigation)
    _post(client, "disclosure_respond", investigation, {
        f"respond-{request.pk}-decision": "partly_disclosed", f"respond-{request.pk}-responded_at": "2026-03-31T18:00"},
        request.pk)

    request.refresh_from_db()
    assert (request.requested_by, request.proceedings_reference, request.decision) == (
        "Family court, Wood Green", "ZW26C001", DisclosureDecision.PARTLY_DISCLOSED)
    assert request.received_at == dt.datetime(2026, 3, 31, 9, 0, tzinfo=dt.UTC)
    assert request.responded_at == dt.datetime(2026, 3, 31, 17, 0, tzinfo=dt.UTC)
    assert request.recorded_by == investigator
    assert _entries(investigation)[-2:] == [
        "Request for disclosure in family proceedings received 31/03/2026 10:00 from Family court, Wood Green "
        "(proceedings ZW26C001).",
        "Response to the request for disclosure from Family court, Wood Green sent 31/03/2026 18:00: partly disclosed.",
    ]
    events = AuditEvent.objects.filter(content_type=ContentType.objects.get_for_model(DisclosureRequest),
                                       object_pk=str(request.pk))
    assert events.count() == 2 and set(events.values_list("referral_id", flat=True)) == {investigation.pk}
    page = client.get(reverse("referrals:investigation", args=[investigation.urn])).content.decode()
    assert "ZW26C001" in page and "Partly disclosed" in page


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"received_at": "2026-04-01T10:00", "requested_by": "Court", "decision": "pending"}, "received_at",
     "A request cannot be received in the future."),
    ({"received_at": "2026-03-29T10:00", "requested_by": "Court", "decision": "pending"}, "received_at",
     "The request cannot be before the referral was received (30/03/2026 10:00)."),
    ({"received_at": "2026-03-31T10:00", "requested_by": "Court", "decision": "disclosed"}, "responded_at",
     "Give the date the response was sent."),
    ({"received_at": "2026-03-31T10:00", "requested_by": "Court", "decision": "refused",
      "responded_at": "2026-03-31T09:00"}, "responded_at", "The response cannot be before the request was received."),
    ({"received_at": "2026-03-31T10:00", "requested_by": "", "decision": "pending"}, "requested_by",
     "This field is required."),
])
def test_a_bad_disclosure_request_is_explained_and_nothing_is_stored(client, investigation: Referral,
                                                                    investigator: Officer, data: dict[str, str],
                                                                    field: str, message: str) -> None:
    client.force_login(investigator)
    before = _entries(investigation)

    html = _post(client, "disclosure_add", investigation, {"proceedings_reference": "", "responded_at": ""} | data
                 ).content.decode()

    assert message in html.split(f'id="id_{field}"')[1][:1500]
    assert not DisclosureRequest.objects.exists()
    assert _entries(investigation) == before


def test_another_teams_officer_gets_not_found(client, investigation: Referral, other_team_sergeant: Officer) -> None:
    client.force_login(other_team_sergeant)

    assert client.get(reverse("referrals:investigation", args=[investigation.urn])).status_code == 404
    assert _post(client, "joint_visit", investigation, {"visited_at": "2026-03-31T14:15"}).status_code == 404
    assert _post(client, "outcome", investigation, {"outcome": "charged",
                                                     "outcome_at": "2026-03-31T14:15"}).status_code == 404
    assert _post(client, "disclosure_add", investigation, {"received_at": "2026-03-31T10:00", "requested_by": "Court",
                                                            "decision": "pending"}).status_code == 404
    investigation.refresh_from_db()
    assert investigation.joint_visit_at is None and investigation.outcome == ""
    assert not DisclosureRequest.objects.exists()


def test_the_performance_manager_reads_the_tab_but_records_nothing(client, investigation: Referral,
                                                                   performance_manager: Officer) -> None:
    client.force_login(performance_manager)

    page = client.get(reverse("referrals:investigation", args=[investigation.urn]))
    refused = _post(client, "joint_visit", investigation, {"visited_at": "2026-03-31T14:15"})

    assert page.status_code == 200 and "No joint visit recorded." in page.content.decode()
    assert "Save the joint visit" not in page.content.decode()
    assert refused.status_code == 403
