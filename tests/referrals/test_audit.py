"""The audit trail: who viewed and changed which case, written in the same transaction as the change."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from cram_site.models import AuditEvent, Officer
from referrals import services
from referrals.models import CaseLogEntry, Person, Referral, ReferralPerson

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _type_of(model: type) -> ContentType:
    return ContentType.objects.get_for_model(model)


def test_viewing_the_case_page_is_recorded_with_officer_case_and_address(client, log_referral,
                                                                        investigator: Officer) -> None:
    """Opening a case writes an access event naming the officer, the case, the tab and where from."""
    referral = log_referral()
    client.force_login(investigator)

    client.get(referral.get_absolute_url(), {"tab": "people"})

    event = AuditEvent.objects.get(action=AuditEvent.Action.ACCESS)
    assert event.actor == investigator
    assert event.referral_id == referral.pk
    assert (event.content_type, event.object_pk) == (_type_of(Referral), str(referral.pk))
    assert event.remote_addr == "127.0.0.1"
    assert event.additional_data == {"viewed": "people"}
    assert event.timestamp == NOW


def test_viewing_a_person_is_recorded(client, log_referral, investigator: Officer) -> None:
    """Opening a person's page writes an access event for that person."""
    child = log_referral().lead_child
    client.force_login(investigator)

    client.get(reverse("referrals:person", args=[child.pk]))

    event = AuditEvent.objects.get(action=AuditEvent.Action.ACCESS)
    assert (event.content_type, event.object_pk, event.actor) == (_type_of(Person), str(child.pk), investigator)


def test_logging_a_referral_records_every_record_created_under_the_case(client, desk_sergeant: Officer,
                                                                        referral_form_data) -> None:
    """The referral, its people links and its case-log entries each get a create event carrying the case id."""
    client.force_login(desk_sergeant)

    client.post(reverse("referrals:create"), referral_form_data(channel="phone"))

    referral = Referral.objects.get()
    created = AuditEvent.objects.filter(action=AuditEvent.Action.CREATE)
    for model, objects in [(Referral, [referral]),
                           (ReferralPerson, list(referral.referral_people.all())),
                           (CaseLogEntry, list(referral.case_log.all()))]:
        events = created.filter(content_type=_type_of(model))
        assert sorted(events.values_list("object_pk", flat=True)) == sorted(str(o.pk) for o in objects)
        assert set(events.values_list("referral_id", "actor_id", "remote_addr")) == {
            (referral.pk, desk_sergeant.pk, "127.0.0.1")}
    assert created.filter(content_type=_type_of(CaseLogEntry)).count() == 2
    assert created.filter(content_type=_type_of(Person)).count() == 1


def test_nothing_is_audited_when_logging_fails_part_way(log_referral, monkeypatch) -> None:
    """If the case log cannot be written, the referral, its people and their audit events all vanish together."""
    events_before = AuditEvent.objects.count()

    def broken_append(**kwargs: object) -> None:
        assert Referral.objects.exists(), "fails after the referral is created"
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "case_log_append", broken_append)
    with pytest.raises(RuntimeError, match="disk full"):
        log_referral()

    assert not Referral.objects.exists()
    assert not ReferralPerson.objects.exists()
    assert not Person.objects.exists()
    assert AuditEvent.objects.count() == events_before
    assert not AuditEvent.objects.filter(content_type=_type_of(Referral)).exists()


def test_nothing_is_audited_when_the_logging_request_fails(client, desk_sergeant: Officer, referral_form_data,
                                                           monkeypatch) -> None:
    """A request that fails half-way leaves no referral and no audit event (one transaction per request)."""
    client.raise_request_exception = False
    client.force_login(desk_sergeant)
    events_before = AuditEvent.objects.count()

    def broken_append(**kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "case_log_append", broken_append)
    response = client.post(reverse("referrals:create"), referral_form_data())

    assert response.status_code == 500
    assert not Referral.objects.exists()
    assert AuditEvent.objects.count() == events_before


def test_assessment_is_recorded_as_a_change_of_the_referral(log_referral, desk_sergeant: Officer,
                                                           investigator: Officer) -> None:
    """The desk assessment's change of status and route appears in the audit trail with old and new values."""
    referral = log_referral()

    services.referral_assess(referral=referral, actor=desk_sergeant, now=NOW, urgency="routine",
                             route="police_investigation", rationale="Disclosure.", owner=investigator,
                             supervising_officer=None)

    changes = [event.changes_dict for event in AuditEvent.objects.filter(
        action=AuditEvent.Action.UPDATE, content_type=_type_of(Referral), referral_id=referral.pk)]
    assert {"status": ["new", "open"], "route": ["", "police_investigation"]}.items() <= changes[0].items()


def test_supervisors_audit_tab_lists_who_viewed_the_case(client, log_referral, investigator: Officer,
                                                          supervisor: Officer) -> None:
    """The audit tab shows the investigator's visit: name, what was viewed and from where."""
    referral = log_referral()
    other = log_referral()
    client.force_login(investigator)
    client.get(referral.get_absolute_url(), {"tab": "actions"})
    client.get(other.get_absolute_url(), {"tab": "people"})

    client.force_login(supervisor)
    body = client.get(referral.get_absolute_url(), {"tab": "audit"}).content.decode()

    cell = r"\s*<td[^>]*>([^<]*)</td>"
    rows = [row[1:] for row in re.findall(r"<tr[^>]*>" + cell * 5, body)]
    assert ("DC Ian Vance DC202", "access (actions)", f"referral: {referral.urn}", "127.0.0.1") in rows
    assert ("System", "create", f"referral: {referral.urn}", "—") in rows
    assert not any(row[1] == "access (people)" for row in rows), "another case's visit is not listed"
