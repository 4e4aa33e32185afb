"""Query counts of every list and case page, pinned; they must not grow with the number of records."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cram_site.models import Officer
from referrals import services
from referrals.models import CaseLogKind, Person, Referral

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@dataclass
class Cast:
    desk_sergeant: Officer
    investigator: Officer
    supervisor: Officer


@pytest.fixture
def cast(desk_sergeant: Officer, investigator: Officer, supervisor: Officer) -> Cast:
    return Cast(desk_sergeant, investigator, supervisor)


def _add_case_work(referral: Referral, cast: Cast, *, rounds: int) -> None:
    """Entries, a correction and actions (some finished), as a worked case gathers them."""
    for round_number in range(rounds):
        entry = services.case_log_append(referral=referral, kind=CaseLogKind.INFORMATION, actor=cast.investigator,
                                         now=NOW, text=f"Enquiry {round_number}: spoke to the school.")
        services.case_log_correct(referral=referral, entry=entry, text="It was the nursery, not the school.",
                                  actor=cast.investigator, now=NOW)
        action = services.action_create(referral=referral, actor=cast.supervisor, now=NOW, owner=cast.investigator,
                                        description=f"Visit {round_number}", due_at=NOW + dt.timedelta(days=2))
        services.action_finish(action=action, actor=cast.investigator, now=NOW, status="done", note="Visited.")
        services.action_create(referral=referral, actor=cast.supervisor, now=NOW, owner=cast.investigator,
                               description=f"Follow-up {round_number}", due_at=NOW + dt.timedelta(days=5))


def _log_referrals(count: int, cast: Cast, log_referral: Callable[..., Referral]) -> list[Referral]:
    """`count` referrals about one growing family: each names Amara again, with a new sibling and adult.

    Half are assessed and allocated, half wait on the desk; each has several entries and actions.
    """
    amara = Person.objects.filter(first_name="Amara", last_name="Okafor").first()
    logged = []
    for index in range(count):
        if amara is None:
            referral = log_referral(channel="phone")
            amara = referral.lead_child
        else:
            referral = log_referral(people=[
                services.PersonDetails(role="victim", existing=amara),
                services.PersonDetails(role="sibling", first_name=f"Sibling{index}", last_name="Okafor",
                                       date_of_birth=dt.date(2020, 1, 1) + dt.timedelta(days=index)),
                services.PersonDetails(role="parent_carer", first_name=f"Carer{index}", last_name="Okafor"),
            ])
        if index % 2:
            services.referral_assess(referral=referral, actor=cast.desk_sergeant, now=NOW, urgency="routine",
                                     route="police_investigation", rationale="Disclosure.",
                                     owner=cast.investigator, supervising_officer=cast.supervisor)
            referral.refresh_from_db()
        _add_case_work(referral, cast, rounds=2 if count <= 3 else 1)
        logged.append(referral)
    return logged


def _case(tab: str) -> Callable[[Referral], str]:
    return lambda referral: f"{referral.get_absolute_url()}?tab={tab}"


# Each page with the most queries it may make, however many referrals, entries, people and actions,
# and a text it must show (so a page that fails early cannot pass on a low count).
PAGES: dict[str, tuple[Callable[[Referral], str], int, str]] = {
    "referral list": (lambda referral: reverse("referrals:list"), 9, "HY-26-00001"),
    "referral list, awaiting": (lambda referral: reverse("referrals:list") + "?show=awaiting", 9, "HY-26-00001"),
    "referral desk": (lambda referral: reverse("referrals:desk"), 10, "HY-26-00001"),
    "case page, chronology": (_case("chronology"), 13, "Corrected by"),
    "case page, people": (_case("people"), 12, "Tobi Okafor"),
    "case page, actions": (_case("actions"), 11, "Follow-up 0"),
    "case page, audit": (_case("audit"), 11, "access (chronology)"),
    "person": (lambda referral: reverse("referrals:person", args=[referral.lead_child.pk]), 11, "Tobi Okafor"),
    "search by name": (lambda referral: reverse("referrals:search") + "?q=Okafor", 8, "Amara Okafor"),
}


def _query_counts(client, addresses: dict[str, str]) -> dict[str, int]:
    counts = {}
    for page, address in addresses.items():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(address)
        assert response.status_code == 200, page
        counts[page] = len(captured.captured_queries)
    return counts


def test_pages_make_the_same_queries_for_three_referrals_as_for_twenty(client, cast: Cast, log_referral,
                                                                       django_assert_max_num_queries) -> None:
    """Twenty referrals, with more entries, people and actions on the case, cost no more queries than three.

    Every list and every tab of the case page is measured at both sizes, then held to its pin.
    """
    first = _log_referrals(3, cast, log_referral)[0]
    client.force_login(cast.supervisor)
    addresses = {page: address_of(first) for page, (address_of, _, _) in PAGES.items()}
    _query_counts(client, addresses)  # the first requests fill the content-type cache
    small = _query_counts(client, addresses)

    # When the team has twenty referrals about the family, and the first case has had much more work
    _log_referrals(17, cast, log_referral)
    _add_case_work(first, cast, rounds=5)
    large = _query_counts(client, addresses)

    assert large == small, "pages whose query count grew with the data"
    for page, (_, most, shown) in PAGES.items():
        with django_assert_max_num_queries(most):
            body = client.get(addresses[page]).content.decode()
        assert shown in body, page
