"""The auditor's search of the audit trail: every view of one child's record last week, exactly, by
officer, record, action and London-time range; team auditors see their own team's events only; the
search is itself recorded; nothing on any screen changes or deletes an event.

The database trigger that refuses UPDATE and DELETE of an audit event is tested in
tests/referrals/test_urn_and_case_log.py (test_database_refuses_raw_sql_changes_to_the_audit_trail).
"""
from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import time_machine
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.test import RequestFactory
from django.urls import reverse

from cram_site.models import AuditEvent, Officer, Rank, Team
from referrals.models import Person, Referral
from tests.factories import OfficerFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)  # a Tuesday, 10:00 in London (GMT)
DAY = dt.timedelta(days=1)
SECOND = dt.timedelta(seconds=1)
SEARCH = "/audit/"


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def enfield_auditor(enfield: Team) -> Officer:
    return OfficerFactory(username="auditor-en", first_name="Esme", last_name="Bright", rank=Rank.STAFF,
                          staff_number="S808", team=enfield, roles=["auditor"])


@pytest.fixture
def force_auditor(haringey: Team) -> Officer:
    return OfficerFactory(username="auditor-force", first_name="Faye", last_name="Ward", rank=Rank.STAFF,
                          staff_number="S999", team=haringey, force_wide=True, roles=["auditor"])


@dataclass
class Week:
    """A child's referral logged nine days ago, and the views of it by two officers since."""

    referral: Referral
    child: Person
    sibling: Person
    other_referral: Referral


def _visit(client, officer: Officer, at: dt.datetime, address: str, **query: str) -> None:
    with time_machine.travel(at, tick=False):
        client.force_login(officer)
        assert client.get(address, query).status_code == 200


@pytest.fixture
def week(client, log_referral: Callable[..., Referral], investigator: Officer, desk_sergeant: Officer) -> Week:
    """Views of Amara's person page and of her referral across eight days.

    | when (London)             | officer        | what                              | in the last 7 days |
    | 02/03 10:00 (8 days ago)  | investigator   | Amara's person page               | no                 |
    | 03/03 09:59:59            | desk sergeant  | her case page                     | no: 1 s before     |
    | 03/03 10:00:00            | investigator   | her case page (people tab)        | yes: the edge      |
    | 05/03 14:30               | desk sergeant  | Amara's person page               | yes                |
    | 07/03 08:15               | investigator   | her case page                     | yes                |
    | 08/03 11:00               | desk sergeant  | Tobi's (her brother's) person page| yes, but not Amara |
    | 09/03 10:00               | desk sergeant  | her case page (actions tab)       | yes                |
    | 09/03 16:45               | investigator   | another child's case page         | yes, but not Amara |
    | 10/03 09:00               | investigator   | Amara's person page               | yes                |
    """
    with time_machine.travel(NOW - 9 * DAY, tick=False):
        referral = log_referral(now=NOW - 9 * DAY)
        other = log_referral(now=NOW - 9 * DAY, people=[_child("Jonah", "Reid")])
    child = referral.lead_child
    sibling = next(person for person in referral.children() if person.pk != child.pk)
    person_page = reverse("referrals:person", args=[child.pk])
    _visit(client, investigator, NOW - 8 * DAY, person_page)
    _visit(client, desk_sergeant, NOW - 7 * DAY - SECOND, referral.get_absolute_url())
    _visit(client, investigator, NOW - 7 * DAY, referral.get_absolute_url(), tab="people")
    _visit(client, desk_sergeant, NOW - 5 * DAY + dt.timedelta(hours=4, minutes=30), person_page)
    _visit(client, investigator, NOW - 3 * DAY - dt.timedelta(hours=1, minutes=45), referral.get_absolute_url())
    _visit(client, desk_sergeant, NOW - 2 * DAY + dt.timedelta(hours=1),
           reverse("referrals:person", args=[sibling.pk]))
    _visit(client, desk_sergeant, NOW - DAY, referral.get_absolute_url(), tab="actions")
    _visit(client, investigator, NOW - DAY + dt.timedelta(hours=6, minutes=45), other.get_absolute_url())
    _visit(client, investigator, NOW - dt.timedelta(hours=1), person_page)
    client.logout()
    return Week(referral=referral, child=child, sibling=sibling, other_referral=other)


def _child(first_name: str, last_name: str) -> object:
    from referrals.services import PersonDetails

    return PersonDetails(role="victim", first_name=first_name, last_name=last_name,
                         date_of_birth=dt.date(2018, 7, 1))


def _rows(body: str) -> list[tuple[str, ...]]:
    """The results table as the auditor reads it: one tuple of cell texts a row."""
    table = body.split('data-testid="audit-events"')[1].split("</table>")[0]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)[1:]:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
        rows.append(tuple(html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell))).strip()
                          for cell in cells))
    return [row for row in rows if len(row) == 6]


def _views(body: str) -> list[tuple[str, str, str]]:
    """(when, officer, record) of each view listed."""
    return [(when, officer, record) for when, officer, action, record, _where, _detail in _rows(body)
            if action == "access"]


def _search(client, auditor: Officer, **query: object) -> str:
    client.force_login(auditor)
    response = client.get(SEARCH, query)
    assert response.status_code == 200
    return response.content.decode()


# --- Every view of one child's record last week ------------------------------------------------------


def test_last_weeks_views_of_the_child_and_her_referral_are_exactly_those_inside_the_range(
        client, week: Week, auditor: Officer) -> None:
    """The default range is the last seven days to the minute: a view one second before it is not
    shown, a view at its first second is; the brother's page and another child's case are not."""
    body = _search(client, auditor, person=week.child.pk, include_referrals="on")

    urn = week.referral.urn
    assert _views(body) == [
        ("10/03/2026 09:00:00", "DC Ian Vance DC202", "person: Amara Okafor"),
        ("09/03/2026 10:00:00", "DS Dawn Price DS101", f"referral: {urn}"),
        ("07/03/2026 08:15:00", "DC Ian Vance DC202", f"referral: {urn}"),
        ("05/03/2026 14:30:00", "DS Dawn Price DS101", "person: Amara Okafor"),
        ("03/03/2026 10:00:00", "DC Ian Vance DC202", f"referral: {urn}"),
    ]
    # Nothing else happened to her record in the range (she was logged nine days ago).
    assert [row[2] for row in _rows(body)] == ["access"] * 5
    assert 'data-testid="event-count">5 events from 03/03/2026 10:00 to 10/03/2026 10:00' in body
    rows = body.split('data-testid="audit-events"')[1]
    assert f'href="{week.referral.get_absolute_url()}"' in rows
    assert f'href="{week.child.get_absolute_url()}"' in rows
    assert {row[5] for row in _rows(body)} == {"viewed: actions", "viewed: people", "viewed: chronology", "—"}


def test_the_person_alone_leaves_out_her_referrals_and_the_urn_alone_leaves_out_her_page(
        client, week: Week, auditor: Officer) -> None:
    only_person = _search(client, auditor, person=week.child.pk)
    only_referral = _search(client, auditor, urn=week.referral.urn.lower())

    assert [when for when, _officer, _record in _views(only_person)] == [
        "10/03/2026 09:00:00", "05/03/2026 14:30:00"]
    assert [when for when, _officer, _record in _views(only_referral)] == [
        "09/03/2026 10:00:00", "07/03/2026 08:15:00", "03/03/2026 10:00:00"]


def test_a_chosen_range_ends_with_the_minute_it_names(client, week: Week, auditor: Officer) -> None:
    """From 8 days ago to yesterday 10:00: the eight-day-old view is in, today's is out."""
    body = _search(client, auditor, person=week.child.pk, include_referrals="on",
                   date_from="2026-03-02T10:00", date_to="2026-03-09T10:00")

    assert [when for when, _officer, _record in _views(body)] == [
        "09/03/2026 10:00:00", "07/03/2026 08:15:00", "05/03/2026 14:30:00", "03/03/2026 10:00:00",
        "03/03/2026 09:59:59", "02/03/2026 10:00:00"]


def test_filters_by_officer_and_by_action(client, week: Week, auditor: Officer, desk_sergeant: Officer,
                                          investigator: Officer) -> None:
    by_desk = _search(client, auditor, officer=desk_sergeant.pk, action=AuditEvent.Action.ACCESS)
    desks_logins = _search(client, auditor, officer=desk_sergeant.pk, action=AuditEvent.Action.LOGIN)

    assert _views(by_desk) == [
        ("09/03/2026 10:00:00", "DS Dawn Price DS101", f"referral: {week.referral.urn}"),
        ("08/03/2026 11:00:00", "DS Dawn Price DS101", "person: Tobi Okafor"),
        ("05/03/2026 14:30:00", "DS Dawn Price DS101", "person: Amara Okafor"),
    ]
    assert {row[2] for row in _rows(by_desk)} == {"access"}
    # The one-second-early sign-in is outside the range too; three sign-ins are in it.
    assert [(row[1], row[2]) for row in _rows(desks_logins)] == [("DS Dawn Price DS101", "login")] * 3
    assert investigator.display_name not in desks_logins.split('data-testid="audit-events"')[1]


def test_a_range_that_ends_before_it_starts_is_refused_next_to_the_field(client, week: Week,
                                                                         auditor: Officer) -> None:
    client.force_login(auditor)
    events_before = AuditEvent.objects.count()

    body = client.get(SEARCH, {"date_from": "2026-03-09T10:00", "date_to": "2026-03-02T10:00"}).content.decode()

    message = "“To” is before “From”: the end of the range must come after its start."
    assert message in html.unescape(body.split('id="div_id_date_to"')[1].split('id="div_id_')[0])
    assert 'data-testid="audit-events"' not in body
    assert AuditEvent.objects.count() == events_before, "nothing was searched, so nothing is recorded"


def test_finding_the_child_by_name_lists_her_to_choose(client, week: Week, auditor: Officer) -> None:
    """A misspelt surname finds Amara; choosing her searches her record."""
    body = _search(client, auditor, name="Amara Okafr")

    link = re.search(r'<a href="\?([^"]*person=(\d+))">Amara Okafor, born 14 Mar 2019</a>', body)
    assert link and int(link.group(2)) == week.child.pk
    assert 'data-testid="audit-events"' not in body, "no search until the person is chosen"
    chosen = client.get(SEARCH + "?" + html.unescape(link.group(1))).content.decode()
    assert 'data-testid="chosen-person"' in chosen
    assert len(_views(chosen)) == 2


def test_the_person_page_links_auditors_to_her_audit_trail(client, week: Week, auditor: Officer,
                                                           investigator: Officer) -> None:
    address = f"{SEARCH}?person={week.child.pk}&amp;include_referrals=on"
    client.force_login(auditor)
    assert f'href="{address}">Audit trail of this person' in client.get(week.child.get_absolute_url()).content.decode()
    client.force_login(investigator)
    assert "Audit trail of this person" not in client.get(week.child.get_absolute_url()).content.decode()


# --- The search is itself audited; a refusal is too -------------------------------------------------


def test_the_search_itself_is_recorded_with_what_was_searched(client, week: Week, auditor: Officer) -> None:
    _search(client, auditor, person=week.child.pk, include_referrals="on", action=AuditEvent.Action.ACCESS)

    search = AuditEvent.objects.get(content_type=ContentType.objects.get_for_model(AuditEvent),
                                    action=AuditEvent.Action.ACCESS)
    assert (search.actor, search.remote_addr, search.timestamp, search.referral_id) == (
        auditor, "127.0.0.1", NOW, None)
    assert search.additional_data == {"searched": {
        "record": f"person Amara Okafor (id {week.child.pk}) and the referrals they are on",
        "action": "access", "from": "03/03/2026 10:00", "to": "10/03/2026 10:00"}}
    # A search of her record is not mistaken for a view of it.
    again = _search(client, auditor, person=week.child.pk, include_referrals="on")
    assert len(_views(again)) == 5


@pytest.mark.parametrize("role", ["investigator", "supervisor", "performance_manager"])
def test_only_auditors_search_and_a_refusal_is_recorded(client, request, week: Week, role: str) -> None:
    officer = request.getfixturevalue(role)
    client.force_login(officer)

    response = client.get(SEARCH, {"person": week.child.pk})

    assert response.status_code == 403
    assert "Amara" not in response.content.decode()
    refusal = AuditEvent.objects.get(action=AuditEvent.Action.REFUSED, actor=officer)
    assert refusal.object_repr == f"{SEARCH}?person={week.child.pk}"
    assert refusal.additional_data == {"reason": "role does not permit this"}


# --- Need to know: a team auditor sees their own team's events ---------------------------------------


def test_an_enfield_auditor_does_not_see_haringeys_events(client, week: Week, enfield_auditor: Officer,
                                                          other_team_sergeant: Officer,
                                                          investigator: Officer) -> None:
    with time_machine.travel(NOW - 2 * DAY, tick=False):
        client.force_login(other_team_sergeant)
        client.get(reverse("referrals:search"))

    everything = _search(client, enfield_auditor)
    by_urn = _search(client, enfield_auditor, urn=week.referral.urn)
    by_person = _search(client, enfield_auditor, person=week.child.pk)
    by_officer = _search(client, enfield_auditor, officer=investigator.pk)

    shown = everything.split('data-testid="audit-events"')[1]
    assert week.referral.urn not in shown and "Okafor" not in shown and "Ian Vance" not in shown
    # Only Enfield's own sign-ins: the auditor's, just now, and the sergeant's two days ago.
    assert [(row[1], row[2]) for row in _rows(everything)] == [("Staff Esme Bright S808", "login"),
                                                               ("DS Owen Tate DS909", "login")]
    assert f"No referral you can see has the URN {week.referral.urn}." in by_urn
    assert "That person is not one you can see." in html.unescape(by_person)
    assert "Select a valid choice." in by_officer
    assert str(investigator.display_name) not in by_officer.split('id="id_officer"')[1].split("</select>")[0]
    assert all('data-testid="audit-events"' not in body for body in (by_urn, by_person, by_officer))


def test_a_haringey_auditor_sees_a_haringey_officers_refusal_on_another_teams_case(
        client, auditor: Officer, investigator: Officer, other_team_sergeant: Officer, enfield: Team,
        log_referral) -> None:
    """The refusal carries the officer who tried, so it is their team's event, whoever's record it was."""
    enfield_case = log_referral(team=enfield, actor=other_team_sergeant)
    client.force_login(investigator)
    assert client.get(enfield_case.get_absolute_url()).status_code == 404

    body = _search(client, auditor, action=AuditEvent.Action.REFUSED)

    assert _rows(body) == [("10/03/2026 10:00:00", "DC Ian Vance DC202", "refused",
                            f"address {enfield_case.get_absolute_url()}", "127.0.0.1",
                            "reason: not found or not visible to this officer")]


def test_failed_sign_ins_belong_to_the_team_of_the_username_tried(client, auditor: Officer,
                                                                  desk_sergeant: Officer,
                                                                  force_auditor: Officer) -> None:
    """A wrong password for desk-hy is Haringey's; a username nobody holds is seen force-wide only."""
    client.post(reverse("login"), {"username": "desk-hy", "password": "wrong-guess-1"}, REMOTE_ADDR="10.1.2.3")
    client.post(reverse("login"), {"username": "nobody-here", "password": "wrong-guess-2"}, REMOTE_ADDR="10.9.9.9")
    failed = {"action": AuditEvent.Action.LOGIN_FAILED}

    team = _rows(_search(client, auditor, **failed))
    force = _rows(_search(client, force_auditor, **failed))

    assert [(row[1], row[3], row[4]) for row in team] == [("—", "username tried: desk-hy", "10.1.2.3")]
    assert [(row[3], row[4]) for row in force] == [("username tried: nobody-here", "10.9.9.9"),
                                                   ("username tried: desk-hy", "10.1.2.3")]


def test_a_force_wide_auditor_sees_every_team(client, week: Week, force_auditor: Officer,
                                              other_team_sergeant: Officer) -> None:
    client.force_login(other_team_sergeant)

    body = _search(client, force_auditor, action=AuditEvent.Action.LOGIN)

    officers = {row[1] for row in _rows(body)}
    assert {"DS Owen Tate DS909", "DC Ian Vance DC202", "DS Dawn Price DS101"} <= officers
    assert f'value="{other_team_sergeant.pk}">DS Owen Tate DS909 · EN</option>' in body


# --- Shown safely --------------------------------------------------------------------------------------


def test_details_are_shown_as_text_never_as_markup(client, auditor: Officer, investigator: Officer) -> None:
    AuditEvent.objects.create(content_type=ContentType.objects.get_for_model(AuditEvent), object_pk="",
                              object_repr="/exports/<b>1</b>", action=AuditEvent.Action.EXPORT,
                              actor=investigator, additional_data={"rows": 1250,
                                                                   "title": "<script>alert(1)</script>"})

    body = _search(client, auditor, action=AuditEvent.Action.EXPORT)

    assert "<script>alert(1)" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<b>1</b>" not in body
    assert _rows(body)[0][5] == "rows: 1250 title: <script>alert(1)</script>"


# --- No screen changes or deletes an event -------------------------------------------------------------


def test_the_admin_shows_audit_events_read_only(client, week: Week, superuser: Officer) -> None:
    """Even a superuser only reads an event: no add, no save, no delete, and no bulk delete."""
    event = AuditEvent.objects.filter(referral_id=week.referral.pk).earliest("pk")
    model_admin = admin.site._registry[AuditEvent]
    request = RequestFactory().get("/admin/")
    request.user = superuser
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)

    client.force_login(superuser)
    change_page = client.get(reverse("admin:cram_site_auditevent_change", args=[event.pk]))
    changelist = client.get(reverse("admin:cram_site_auditevent_changelist"))
    delete_page = client.get(reverse("admin:cram_site_auditevent_delete", args=[event.pk]))
    posted_delete = client.post(reverse("admin:cram_site_auditevent_delete", args=[event.pk]), {"post": "yes"})

    assert change_page.status_code == 200 and 'name="_save"' not in change_page.content.decode()
    assert changelist.status_code == 200 and "delete_selected" not in changelist.content.decode()
    assert (delete_page.status_code, posted_delete.status_code) == (403, 403)
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_search_page_offers_no_change_or_delete(client, week: Week, auditor: Officer) -> None:
    body = _search(client, auditor, person=week.child.pk, include_referrals="on")

    assert 'method="post"' not in body.split('<main')[1].lower()
    assert client.post(SEARCH, {"person": week.child.pk}).status_code == 405


# --- Fast at force scale ---------------------------------------------------------------------------------


def _views_by_the_team(referrals: list[Referral], officers: list[Officer], count: int) -> None:
    """`count` views, a second apart, of the referrals and their children, by turns."""
    referral_type = ContentType.objects.get_for_model(Referral)
    person_type = ContentType.objects.get_for_model(Person)
    children = [referral.lead_child for referral in referrals]
    for index in range(count):
        referral = referrals[index % len(referrals)]
        officer = officers[index % len(officers)]
        at = NOW - dt.timedelta(hours=2) + index * SECOND
        if index % 2:
            AuditEvent.objects.create(content_type=person_type, object_pk=str(children[index % len(children)].pk),
                                      object_repr=str(children[index % len(children)]),
                                      action=AuditEvent.Action.ACCESS, actor=officer, timestamp=at,
                                      remote_addr="10.0.0.1")
        else:
            AuditEvent.objects.create(content_type=referral_type, object_pk=str(referral.pk), object_repr=referral.urn,
                                      referral_id=referral.pk, action=AuditEvent.Action.ACCESS, actor=officer,
                                      timestamp=at, remote_addr="10.0.0.1", additional_data={"viewed": "chronology"})


def test_the_search_page_makes_the_same_queries_for_50_results_as_for_5(
        client, log_referral, auditor: Officer, investigator: Officer, desk_sergeant: Officer,
        supervisor: Officer, django_assert_max_num_queries) -> None:
    """Session, officer, roles, team (header); the officers to choose from; the events page, its
    capped count, the cases and people it links to; the search's own audit event and the request's
    savepoint. Older pages are read by keyset and never repeat an event."""
    with time_machine.travel(NOW - 9 * DAY, tick=False):
        referrals = [log_referral(now=NOW - 9 * DAY, people=[_child(f"Child{n}", "Adeyemi")]) for n in range(6)]
    officers = [investigator, desk_sergeant, supervisor]
    _views_by_the_team(referrals, officers, 5)
    # Up to 09:59, so the auditor's own searches (at 10:00) stay out of the results.
    query = {"action": AuditEvent.Action.ACCESS, "date_from": "2026-03-10T07:00", "date_to": "2026-03-10T09:59"}
    client.force_login(auditor)
    client.get(SEARCH, query)  # the content-type cache fills on the first request

    with django_assert_max_num_queries(12) as small:
        assert len(_rows(client.get(SEARCH, query).content.decode())) == 5
    _views_by_the_team(referrals, officers, 60)
    with django_assert_max_num_queries(12) as large:
        first = client.get(SEARCH, query).content.decode()

    assert len(large.captured_queries) == len(small.captured_queries)
    assert len(_rows(first)) == 50
    assert 'data-testid="event-count">65 events' in first
    older = html.unescape(re.search(r'href="\?([^"]+)" rel="next">Older events', first).group(1))
    second = client.get(f"{SEARCH}?{older}").content.decode()
    assert len(_rows(second)) == 15 and "Older events" not in second and "Newest events" in second
    first_times = [row[0] for row in _rows(first)]
    second_times = [row[0] for row in _rows(second)]
    assert first_times == sorted(first_times, reverse=True)
    assert not set(first_times) & set(second_times)
    assert sorted(first_times + second_times, reverse=True)[-1] == "10/03/2026 08:00:00"


def test_the_count_stops_at_its_cap_and_says_so(client, week: Week, auditor: Officer, monkeypatch) -> None:
    """Counting a long range would read all of it: past the cap the page says "or more"."""
    monkeypatch.setattr("cram_site.audit_search.COUNT_CAP", 3)

    body = _search(client, auditor, person=week.child.pk, include_referrals="on")

    assert 'data-testid="event-count">3 or more events' in body
    assert len(_rows(body)) == 5
