"""Search: by name (spelling-tolerant), date of birth, URN and crime report number."""
from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from cram_site.models import Officer, Team
from referrals import services
from referrals.models import Person, Referral
from tests.conftest import requires_postgres
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def okafor_referral(log_referral) -> Referral:
    """HY-26-00001: Amara Okafor (born 14 Mar 2019), her brother Tobi (2 Jun 2021) and Mark Dorsey."""
    with time_machine.travel(NOW, tick=False):
        return log_referral()


@pytest.fixture
def smith(haringey: Team) -> Person:
    return PersonFactory(team=haringey, first_name="Jayden", last_name="Smith", date_of_birth=dt.date(2016, 8, 20))


def _search(client, **query: str) -> str:
    return client.get(reverse("referrals:search"), query).content.decode()


def _people_found(body: str) -> list[str]:
    """The names listed under "People", in order."""
    section = body.split('id="people-results"', 1)[1]
    return re.findall(r'<li[^>]*><a href="/people/\d+/">([^<]+)</a>', section)


def _referrals_found(body: str) -> list[str]:
    """The URNs listed under "Referrals", in order."""
    section = body.split('id="ref-results"', 1)[1].split('id="people-results"', 1)[0]
    return re.findall(r'<td[^>]*><a href="/referrals/[^/]+/">([^<]+)</a></td>', section)


# --- Names -----------------------------------------------------------------------------------------


@requires_postgres
@pytest.mark.parametrize(("typed", "stored"), [
    ("Okafour", "Amara Okafor"),
    ("Okafer", "Amara Okafor"),
    ("okafor", "Amara Okafor"),
    ("Smyth", "Jayden Smith"),
])
def test_misspelt_surname_still_finds_the_person(client, okafor_referral: Referral, smith: Person,
                                                 desk_sergeant: Officer, typed: str, stored: str) -> None:
    """A surname typed as heard over the phone still finds the child already known."""
    client.force_login(desk_sergeant)

    found = _people_found(_search(client, q=typed))

    assert stored in found
    assert "Mark Dorsey" not in found


@requires_postgres
def test_first_name_puts_the_right_sibling_first(client, okafor_referral: Referral, desk_sergeant: Officer) -> None:
    """"Okafour, Tobi" and "Tobi Okafour" rank Tobi above his sister."""
    client.force_login(desk_sergeant)

    assert _people_found(_search(client, q="Okafour, Tobi"))[:2] == ["Tobi Okafor", "Amara Okafor"]
    assert _people_found(_search(client, q="Tobi Okafour"))[:2] == ["Tobi Okafor", "Amara Okafor"]


def test_date_of_birth_alone_finds_the_children_born_that_day(client, okafor_referral: Referral, smith: Person,
                                                              desk_sergeant: Officer) -> None:
    """Searching by date of birth lists exactly the people born on it."""
    client.force_login(desk_sergeant)

    assert _people_found(_search(client, date_of_birth="2019-03-14")) == ["Amara Okafor"]
    assert _people_found(_search(client, date_of_birth="2016-08-20")) == ["Jayden Smith"]
    assert _people_found(_search(client, date_of_birth="2000-01-01")) == []


def test_date_of_birth_lifts_the_matching_person_to_the_top(client, okafor_referral: Referral,
                                                            desk_sergeant: Officer) -> None:
    """With a surname and a date of birth, the person born that day comes first."""
    client.force_login(desk_sergeant)

    found = _people_found(_search(client, q="Okafor", date_of_birth="2021-06-02"))

    assert found[0] == "Tobi Okafor"
    assert "Amara Okafor" in found


# --- URNs and crime report numbers --------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["HY-26-00001", "hy-26-00001", " Hy-26-00001 "])
def test_exact_urn_finds_the_referral_in_any_case(client, okafor_referral: Referral, log_referral,
                                                  desk_sergeant: Officer, typed: str) -> None:
    """A URN typed in lower case or with spaces round it finds that referral and only that one."""
    with time_machine.travel(NOW, tick=False):
        log_referral()
    client.force_login(desk_sergeant)

    body = _search(client, q=typed)

    assert _referrals_found(body) == ["HY-26-00001"]
    assert "looks like a URN" not in body


def test_unknown_urn_says_so(client, okafor_referral: Referral, desk_sergeant: Officer) -> None:
    """A well-formed URN that matches nothing says no visible referral has it."""
    client.force_login(desk_sergeant)

    body = _search(client, q="HY-26-00099")

    assert _referrals_found(body) == []
    assert "No referral you can see has the URN HY-26-00099." in body


def test_crime_report_number_finds_the_referral(client, okafor_referral: Referral, desk_sergeant: Officer) -> None:
    """The crime report number, typed in any case, finds the referral it was recorded on."""
    services.referral_assess(referral=okafor_referral, actor=desk_sergeant, now=NOW, urgency="routine",
                             route="social_services_only", rationale="Single agency.", owner=None,
                             supervising_officer=None, crime_report_number="CR/4242/26")
    client.force_login(desk_sergeant)

    assert _referrals_found(_search(client, q="cr/4242/26")) == ["HY-26-00001"]
    assert _referrals_found(_search(client, q="CR/4243/26")) == []


@pytest.mark.parametrize("typed", ["HY-26-1", "HY2600001", "hy 26 42", "HY-26-0001"])
def test_wrongly_written_urn_shows_what_a_urn_looks_like(client, okafor_referral: Referral,
                                                         desk_sergeant: Officer, typed: str) -> None:
    """Something close to a URN gets a hint showing the right form."""
    client.force_login(desk_sergeant)

    body = _search(client, q=typed)

    assert f"“{typed.strip()}” looks like a URN but is not written as one. A URN looks like HY-26-00042." in body


def test_name_search_gives_no_urn_hint(client, okafor_referral: Referral, desk_sergeant: Officer) -> None:
    """A plain surname is not mistaken for a URN."""
    client.force_login(desk_sergeant)

    assert "A URN looks like" not in _search(client, q="Okafor")


def test_empty_search_asks_for_something_to_search_for(client, okafor_referral: Referral,
                                                       desk_sergeant: Officer) -> None:
    """Submitting the form empty explains what to type; opening the page fresh shows no error."""
    client.force_login(desk_sergeant)
    message = "Type a name, URN or crime report number, or a date of birth."

    submitted = _search(client, q="", date_of_birth="")
    fresh = _search(client)

    assert message in submitted
    assert 'id="people-results"' not in submitted
    assert message not in fresh


# --- The SQLite fallback, run on any database -------------------------------------------------------------


@pytest.mark.parametrize(("typed", "expected"), [
    ("Okafour", ["Amara Okafor", "Tobi Okafor"]),
    ("okafer", ["Amara Okafor", "Tobi Okafor"]),
    ("Smyth", ["Jayden Smith"]),
    ("Dorsay", ["Mark Dorsey"]),
])
def test_simple_matching_tolerates_a_misspelt_surname(okafor_referral: Referral, smith: Person,
                                                      desk_sergeant: Officer, typed: str,
                                                      expected: list[str]) -> None:
    """The fallback keeps names that start alike and are spelt nearly the same, and only those."""
    people = Person.objects.visible_to(desk_sergeant)

    found = people._matching_simple(typed, "", None, 8)

    assert sorted(person.full_name for person in found) == expected


def test_simple_matching_ranks_first_name_and_date_of_birth(okafor_referral: Referral,
                                                            desk_sergeant: Officer) -> None:
    """A matching first name ranks a sibling first; a matching date of birth lifts a person to the top."""
    people = Person.objects.visible_to(desk_sergeant)

    by_first_name = people._matching_simple("Okafour", "Tobi", None, 8)
    by_birth = people._matching_simple("Okafour", "", dt.date(2021, 6, 2), 8)

    assert [p.full_name for p in by_first_name] == ["Tobi Okafor", "Amara Okafor"]
    assert by_birth[0].full_name == "Tobi Okafor"


def test_simple_matching_stays_within_the_team(okafor_referral: Referral, enfield: Team,
                                               other_team_sergeant: Officer, desk_sergeant: Officer) -> None:
    """Another team's Okafor is offered to that team only."""
    PersonFactory(team=enfield, first_name="Chidi", last_name="Okafor")

    def names_for(officer: Officer) -> list[str]:
        return [p.full_name for p in Person.objects.visible_to(officer)._matching_simple("Okafor", "", None, 8)]

    haringey_names = names_for(desk_sergeant)
    enfield_names = names_for(other_team_sergeant)

    assert "Chidi Okafor" not in haringey_names
    assert enfield_names == ["Chidi Okafor"]


def test_too_short_a_name_matches_nobody(okafor_referral: Referral, desk_sergeant: Officer) -> None:
    """One letter is not enough to offer matches."""
    assert Person.objects.visible_to(desk_sergeant).matching(last_name="O") == []
