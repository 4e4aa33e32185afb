"""The referral desk's pages: logging a referral, the desk assessment and writing to the case log."""
from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterator

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from cram_site.calendar import LONDON
from cram_site.models import Officer, Team
from referrals import services
from referrals.models import CaseLogEntry, Person, Referral, ReferralPerson, UrnSequence
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _field_error(body: str, field_id: str, message: str) -> bool:
    """Whether `message` is shown as the error of the field with this id (crispy's markup)."""
    return f'<p id="error_1_id_{field_id}"><strong>{html.escape(message)}</strong></p>' in body


def _stored_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in (Referral, Person, CaseLogEntry, UrnSequence)}


def _london(moment: dt.datetime) -> str:
    return moment.astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")


# --- Desk assessment ------------------------------------------------------------------------------


def _assess(client, referral: Referral, **fields: object):
    data = {"urgency": "routine", "route": "social_services_only", "rationale": "Single-agency matter.",
            "owner": "", "supervising_officer": "", "crime_report_number": ""}
    data.update({name: str(value) for name, value in fields.items()})
    return client.post(reverse("referrals:assess", args=[referral.urn]), data)


def test_assessment_without_rationale_shows_the_error_and_stores_nothing(client, log_referral,
                                                                         desk_sergeant: Officer) -> None:
    """The rationale goes into the case log, so it is required; the referral stays awaiting assessment."""
    referral = log_referral()
    client.force_login(desk_sergeant)

    response = _assess(client, referral, rationale="  ")

    assert response.status_code == 200
    assert _field_error(response.content.decode(), "rationale", "This field is required.")
    referral.refresh_from_db()
    assert (referral.status, referral.route, referral.case_log_count) == ("new", "", 1)
    assert referral.case_log.count() == 1


def test_duplicate_crime_report_number_is_refused_with_a_clear_message(client, log_referral,
                                                                      desk_sergeant: Officer) -> None:
    """A crime report number belongs to one referral; typing it again (in any case) is refused."""
    first = log_referral()
    services.referral_assess(referral=first, actor=desk_sergeant, now=NOW, urgency="routine",
                             route="social_services_only", rationale="Single agency.", owner=None,
                             supervising_officer=None, crime_report_number="CR/1234/26")
    second = log_referral()
    client.force_login(desk_sergeant)

    response = _assess(client, second, crime_report_number="cr/1234/26")

    assert _field_error(response.content.decode(), "crime_report_number",
                        "That crime report number is already on another referral.")
    second.refresh_from_db()
    assert (second.status, second.crime_report_number, second.case_log.count()) == ("new", None, 1)


def test_service_refuses_a_duplicate_crime_report_number_and_rolls_back(log_referral, desk_sergeant: Officer) -> None:
    """Should two sergeants race past the form's check, the database's unique rule refuses the second whole."""
    first = log_referral()
    services.referral_assess(referral=first, actor=desk_sergeant, now=NOW, urgency="routine",
                             route="social_services_only", rationale="Single agency.", owner=None,
                             supervising_officer=None, crime_report_number="CR/1234/26")
    second = log_referral()

    with pytest.raises(ValidationError) as refusal:
        services.referral_assess(referral=second, actor=desk_sergeant, now=NOW, urgency="routine",
                                 route="social_services_only", rationale="Single agency.", owner=None,
                                 supervising_officer=None, crime_report_number="CR/1234/26")

    assert refusal.value.message_dict == {
        "crime_report_number": ["That crime report number is already on another referral."]}
    second.refresh_from_db()
    assert (second.status, second.route, second.crime_report_number) == ("new", "", None)
    assert second.case_log.count() == 1


@pytest.mark.parametrize("route", ["police_investigation", "joint_investigation"])
def test_investigation_without_an_investigating_officer_is_refused(client, log_referral, desk_sergeant: Officer,
                                                                    route: str) -> None:
    """An investigation needs someone to investigate: the error is on the officer field, nothing is stored."""
    referral = log_referral()
    client.force_login(desk_sergeant)

    response = _assess(client, referral, route=route, rationale="Injury to a toddler.")

    assert _field_error(response.content.decode(), "owner", "An investigation needs an investigating officer.")
    referral.refresh_from_db()
    assert (referral.status, referral.route, referral.owner_id) == ("new", "", None)
    assert referral.case_log.count() == 1


def test_assessment_redirects_to_the_case_and_shows_the_route(client, log_referral, desk_sergeant: Officer,
                                                              investigator: Officer, supervisor: Officer) -> None:
    """After a good assessment the sergeant lands on the case page with the route, officer and crime number."""
    referral = log_referral()
    client.force_login(desk_sergeant)

    response = _assess(client, referral, urgency="urgent", route="police_investigation",
                       rationale="Injury to a toddler.", owner=investigator.pk, supervising_officer=supervisor.pk,
                       crime_report_number="cr/5555/26")

    assert response.status_code == 302
    assert response["Location"] == referral.get_absolute_url()
    body = client.get(response["Location"]).content.decode()
    assert f"{referral.urn} assessed: Police investigation." in body
    assert '<span class="badge text-bg-info">Police investigation</span>' in body
    assert "DC Ian Vance DC202" in body
    assert "CR/5555/26" in body
    referral.refresh_from_db()
    assert (referral.status, referral.urgency, referral.owner, referral.assessed_at) == (
        "open", "urgent", investigator, NOW)


def test_assessed_referral_cannot_be_assessed_again(client, log_referral, desk_sergeant: Officer) -> None:
    """The assessment page of an assessed referral sends the sergeant back to the case with a note."""
    referral = log_referral()
    client.force_login(desk_sergeant)
    _assess(client, referral)

    response = _assess(client, referral, route="no_further_action", rationale="Changed my mind.")

    assert response.status_code == 302
    assert "This referral has already been assessed." in client.get(response["Location"]).content.decode()
    referral.refresh_from_db()
    assert referral.route == "social_services_only"
    assert referral.case_log.filter(text__contains="Changed my mind").count() == 0


def test_desk_shows_as_received_today_what_arrived_after_midnight_london_time(client, log_referral,
                                                                            desk_sergeant: Officer) -> None:
    """In summer (BST) half past midnight is already the new day on the desk, though still yesterday in UTC."""
    with time_machine.travel(dt.datetime(2026, 6, 11, 8, 0, tzinfo=dt.UTC), tick=False):
        # 00:30 BST on 11 June, and 23:30 BST on 10 June
        after_midnight = log_referral(received_at=dt.datetime(2026, 6, 10, 23, 30, tzinfo=dt.UTC))
        before_midnight = log_referral(received_at=dt.datetime(2026, 6, 10, 22, 30, tzinfo=dt.UTC))
        client.force_login(desk_sergeant)
        body = client.get(reverse("referrals:desk")).content.decode()

    received_today = body.split('id="today-heading"', 1)[1]
    assert "Received today (1)" in received_today
    assert after_midnight.urn in received_today
    assert before_midnight.urn not in received_today
    assert "Awaiting assessment (2)" in body


# --- Logging a referral ------------------------------------------------------------------------------


def test_logging_a_referral_issues_a_urn_and_opens_the_case(client, desk_sergeant: Officer,
                                                            referral_form_data) -> None:
    """Save issues the next URN, stores the child, and shows the new case."""
    client.force_login(desk_sergeant)

    response = client.post(reverse("referrals:create"), referral_form_data())

    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:case", args=["HY-26-00001"])
    referral = Referral.objects.get(urn="HY-26-00001")
    assert (referral.team, referral.logged_by, referral.source_agency) == (
        desk_sergeant.team, desk_sergeant, "St Ann's Primary School")
    assert [(link.person.full_name, link.role) for link in referral.referral_people.all()] == [
        ("Grace Mensah", "victim")]
    body = client.get(response["Location"]).content.decode()
    assert "Referral logged. Its URN is HY-26-00001." in body
    assert "Grace Mensah" in body


@pytest.mark.parametrize(("change", "field_id", "message"), [
    ({"source_agency": "", "summary": ""}, "source_agency", "This field is required."),
    ({"source_agency": "", "summary": ""}, "summary", "This field is required."),
    ({"received_at": _london(NOW + dt.timedelta(minutes=5))}, "received_at",
     "The referral cannot be received in the future."),
    ({"offence_date": "2026-03-11"}, "offence_date", "The date of the alleged offence cannot be in the future."),
    ({"people-0-date_of_birth": "2026-03-11"}, "people-0-date_of_birth", "A date of birth cannot be in the future."),
    ({"people-0-last_name": ""}, "people-0-last_name", "Give a surname, or choose an existing person."),
])
def test_referral_with_a_mistake_shows_the_error_and_writes_nothing(client, desk_sergeant: Officer,
                                                                    referral_form_data, change: dict[str, str],
                                                                    field_id: str, message: str) -> None:
    """Each mistake is shown next to its field; no referral, person, entry or URN number is used."""
    client.force_login(desk_sergeant)
    before = _stored_counts()

    response = client.post(reverse("referrals:create"), referral_form_data(**change))

    assert response.status_code == 200
    assert _field_error(response.content.decode(), field_id, message)
    assert _stored_counts() == before


def test_referral_naming_no_child_is_refused_and_writes_nothing(client, desk_sergeant: Officer,
                                                                referral_form_data) -> None:
    """A referral concerns a child: with only a suspect named, the form says so and nothing is stored."""
    client.force_login(desk_sergeant)
    before = _stored_counts()

    response = client.post(reverse("referrals:create"), referral_form_data(people=[
        {"role": "suspect", "first_name": "Mark", "last_name": "Dorsey"},
    ]))

    assert "Name at least one child, as victim or sibling." in response.content.decode()
    assert _stored_counts() == before


def test_add_person_shows_one_more_row_and_keeps_what_was_typed(client, desk_sergeant: Officer,
                                                                referral_form_data) -> None:
    """Adding a row re-shows the form with everything typed so far, and saves nothing."""
    client.force_login(desk_sergeant)
    data = referral_form_data(summary="Disclosed to a dinner lady.")
    del data["save"]
    data["add_person"] = "1"
    before = _stored_counts()

    body = client.post(reverse("referrals:create"), data).content.decode()

    assert 'name="people-TOTAL_FORMS" value="2"' in body
    assert 'name="people-1-role"' in body
    assert 'name="people-2-role"' not in body
    assert 'value="Mensah"' in body
    assert 'value="2018-05-01"' in body
    assert "Disclosed to a dinner lady." in body
    assert 'value="St Ann&#x27;s Primary School"' in body
    assert _stored_counts() == before


def test_choosing_an_existing_person_links_them_and_shows_their_household(client, log_referral,
                                                                          desk_sergeant: Officer,
                                                                          referral_form_data) -> None:
    """Choosing a known child fills the row, shows their household's referrals, and saving links the record."""
    earlier = log_referral()
    amara = Person.objects.get(first_name="Amara", last_name="Okafor")
    client.force_login(desk_sergeant)
    data = referral_form_data(people=[{"role": "victim", "last_name": "Okafer"}])
    del data["save"]
    data["choose"] = f"0:{amara.pk}"

    body = client.post(reverse("referrals:create"), data).content.decode()

    assert "Linked to the existing record of Amara Okafor</strong>, born 14 Mar 2019" in body
    assert f'name="people-0-existing_person" value="{amara.pk}"' in body
    assert f">{earlier.urn}</a>" in body
    assert "Tobi Okafor" in body

    # When the sergeant saves with the person linked
    people_before = Person.objects.count()
    saved = referral_form_data(people=[{"role": "victim", "existing_person": str(amara.pk)}])
    response = client.post(reverse("referrals:create"), saved)

    assert response.status_code == 302
    referral = Referral.objects.get(urn="HY-26-00002")
    assert list(referral.referral_people.values_list("person_id", flat=True)) == [amara.pk]
    assert Person.objects.count() == people_before


@pytest.fixture
def enfield_child(enfield: Team) -> Person:
    return PersonFactory(team=enfield, first_name="Lily", last_name="Baptiste", date_of_birth=dt.date(2017, 2, 2))


def test_choosing_another_teams_person_is_ignored(client, desk_sergeant: Officer, referral_form_data,
                                                  enfield_child: Person) -> None:
    """An Enfield person's id sent by hand is not linked, and nothing about them is shown."""
    client.force_login(desk_sergeant)
    data = referral_form_data()
    del data["save"]
    data["choose"] = f"0:{enfield_child.pk}"

    body = client.post(reverse("referrals:create"), data).content.decode()

    assert "Linked to the existing record" not in body
    assert "Baptiste" not in body
    assert 'name="people-0-existing_person" value="' not in body


def test_saving_with_another_teams_person_is_refused(client, desk_sergeant: Officer, referral_form_data,
                                                     enfield_child: Person) -> None:
    """Saving with an Enfield person's id is refused on the row, and nothing is stored."""
    client.force_login(desk_sergeant)
    before = _stored_counts()
    links_before = ReferralPerson.objects.filter(person=enfield_child).count()

    response = client.post(reverse("referrals:create"), referral_form_data(
        people=[{"role": "victim", "existing_person": str(enfield_child.pk)}]))

    body = response.content.decode()
    assert "That person record could not be found." in body
    assert "Baptiste" not in body
    assert _stored_counts() == before
    assert ReferralPerson.objects.filter(person=enfield_child).count() == links_before


# --- Case log, follow-up and actions on the case page ---------------------------------------------


def test_officer_adds_a_case_log_entry(client, log_referral, investigator: Officer) -> None:
    """A new entry gets the next number and shows on the chronology with its author."""
    referral = log_referral()
    client.force_login(investigator)

    response = client.post(reverse("referrals:log_add", args=[referral.urn]),
                           {"kind": "partner_contact", "text": "Called the health visitor.",
                            "occurred_at": _london(NOW - dt.timedelta(hours=2))})

    assert response["Location"] == referral.get_absolute_url() + "?tab=chronology"
    body = client.get(response["Location"]).content.decode()
    assert "Entry 2 added to the case log." in body
    assert "Called the health visitor." in body
    entry = referral.case_log.get(number=2)
    assert (entry.kind, entry.author, entry.occurred_at, entry.recorded_at) == (
        "partner_contact", investigator, NOW - dt.timedelta(hours=2), NOW)


@pytest.mark.parametrize(("data", "field_id", "message"), [
    ({"kind": "information", "text": ""}, "text", "This field is required."),
    ({"kind": "information", "text": "Seen.", "occurred_at": _london(NOW + dt.timedelta(hours=1))}, "occurred_at",
     "When it happened cannot be in the future."),
    ({"kind": "system", "text": "Pretending to be the system."}, "kind",
     "Select a valid choice. system is not one of the available choices."),
])
def test_case_log_entry_with_a_mistake_is_not_stored(client, log_referral, investigator: Officer,
                                                     data: dict[str, str], field_id: str, message: str) -> None:
    """A blank entry, one dated in the future, or one posing as a system entry is refused."""
    referral = log_referral()
    client.force_login(investigator)

    response = client.post(reverse("referrals:log_add", args=[referral.urn]), data)

    assert _field_error(response.content.decode(), field_id, message)
    assert referral.case_log.count() == 1


def test_officer_corrects_an_entry_from_the_case_page(client, log_referral, investigator: Officer) -> None:
    """The correction form adds a correction naming the entry; the original is untouched."""
    referral = log_referral()
    original = referral.case_log.get(number=1)
    client.force_login(investigator)

    response = client.post(reverse("referrals:log_correct", args=[referral.urn]),
                           {"corrects": original.pk, "text": "The referrer was the school nurse."})

    assert response.status_code == 302
    correction = referral.case_log.get(number=2)
    assert (correction.kind, correction.corrects, correction.text) == (
        "correction", original, "The referrer was the school nurse.")
    assert CaseLogEntry.objects.get(pk=original.pk).text == original.text


def test_recording_the_written_referral_closes_the_prompt(client, log_referral, investigator: Officer) -> None:
    """Once the written referral is recorded the case no longer shows the follow-up as due."""
    referral = log_referral(channel="phone")
    client.force_login(investigator)
    assert "Written follow-up due" in client.get(referral.get_absolute_url()).content.decode()

    response = client.post(reverse("referrals:written_followup", args=[referral.urn]),
                           {"received_at": _london(NOW - dt.timedelta(minutes=20)), "note": "From the GP."})

    body = client.get(response["Location"]).content.decode()
    assert "Written referral recorded." in body
    assert "Written follow-up due" not in body
    referral.refresh_from_db()
    assert referral.written_followup_received_at == NOW - dt.timedelta(minutes=20)


def test_action_is_set_and_finished_from_the_case_page(client, log_referral, investigator: Officer) -> None:
    """An action shows on the actions tab, and finishing it records the note in the case log."""
    referral = log_referral()
    client.force_login(investigator)

    client.post(reverse("referrals:action_add", args=[referral.urn]),
                {"description": "Obtain nursery records", "owner": investigator.pk,
                 "due_at": _london(NOW + dt.timedelta(days=3))})
    action = referral.actions.get()
    response = client.post(reverse("referrals:action_finish", args=[referral.urn, action.pk]),
                           {"status": "done", "note": "Records received."})

    body = client.get(response["Location"]).content.decode()
    assert "Obtain nursery records" in body
    assert "Actions (0 open)" in body
    assert referral.case_log.order_by("number").last().text == (
        "Action done: Obtain nursery records. Note: Records received.")
