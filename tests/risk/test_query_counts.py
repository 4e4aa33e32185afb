"""Query counts of the CRAM pages, pinned; they must not grow with assessments, checks and measures."""
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
from referrals.models import Referral
from risk import services
from risk.models import Answer, Assessment

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)
GAP_CODES = ["previous_injuries", "domestic_abuse", "suspect_violence", "carer_substances"]
PRESENT_CODES = ["weapon_injury", "suspect_access", "missing", "unknown_adults", "home_conditions"]
MEASURE_KINDS = ["bail_conditions", "safety_plan", "supervised_contact", "strategy_meeting", "suspect_out"]


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


def _input(assessment: Assessment, cast: Cast, *, measures: int, round_number: int) -> services.AssessmentInput:
    """Every factor answered: four gaps, the present risks, `measures` measures and as many actions."""
    values = {answer.code: "no" for answer in assessment.answers.all()}
    values |= {code: "not_known" for code in GAP_CODES}
    values |= {code: "yes" for code in PRESENT_CODES[:measures + 1]}
    return services.AssessmentInput(
        revision=assessment.revision,
        answers={code: services.AnswerInput(value, note=f"Round {round_number}") for code, value in values.items()},
        measures=[services.MeasureInput(kind=MEASURE_KINDS[index], owner_agency="Police", status="active",
                                        description=f"Measure {index} of round {round_number}",
                                        factor_codes=[PRESENT_CODES[index]]) for index in range(measures)],
        planned_actions=[services.PlannedActionInput(description=f"Action {index} of round {round_number}",
                                                     owner=cast.investigator, due_at=NOW + dt.timedelta(days=2))
                         for index in range(measures)],
        rating="high", rating_rationale="Several risks present.", decisions=f"Decisions of round {round_number}.",
    )


def _worked_case(log_referral: Callable[..., Referral], cast: Cast, *, crams: int, measures: int,
                 checks: int) -> Referral:
    """A referral with `crams` completed CRAMs (every other one signed off, the last not), each
    followed by `checks` checks closing its gaps, then a saved draft review."""
    referral = log_referral()
    for round_number in range(crams):
        assessment = services.assessment_start(referral=referral, kind="initial" if round_number == 0 else "review",
                                               actor=cast.desk_sergeant, now=NOW)
        services.assessment_save(assessment=assessment, actor=cast.desk_sergeant, now=NOW, complete=True,
                                 data=_input(assessment, cast, measures=measures, round_number=round_number))
        if round_number % 2 == 0 and round_number < crams - 1:
            services.assessment_sign_off(assessment=assessment, actor=cast.supervisor, now=NOW,
                                         data=services.SignOffInput("agreed", "yes", "yes", "yes", "yes", "Fine."))
        for gap in Answer.objects.filter(assessment=assessment, code__in=GAP_CODES[:checks]):
            services.systems_check_record(referral=referral, actor=cast.investigator, now=NOW, system="cris",
                                          result=f"Checked {gap.code}.", checked_at=NOW - dt.timedelta(minutes=5),
                                          anything_new=False, closes=[gap])
    draft = services.assessment_start(referral=referral, kind="review", actor=cast.desk_sergeant, now=NOW)
    services.assessment_save(assessment=draft, actor=cast.desk_sergeant, now=NOW,
                             data=_input(draft, cast, measures=measures, round_number=crams))
    return referral


# Each page with the most queries it may make, however many assessments, checks and measures the
# referral has, and a text it must show (so a page that fails early cannot pass on a low count).
PAGES: dict[str, tuple[Callable[[Referral, int], str], int, str]] = {
    "CRAM tab": (lambda referral, last: reverse("risk:cram", args=[referral.urn]), 17, "Continue the draft"),
    "completed CRAM with what changed": (lambda referral, last: reverse("risk:assessment", args=[referral.urn, last]),
                                         21, "What changed since CRAM"),
    "draft form": (lambda referral, last: reverse("risk:assessment", args=[referral.urn, last + 1]), 19,
                   "Belts, cords, sticks, hot objects, a kitchen implement."),
    "sign-off form": (lambda referral, last: reverse("risk:sign_off", args=[referral.urn, last]), 16,
                      "Record the sign-off"),
    "checks tab": (lambda referral, last: reverse("risk:checks", args=[referral.urn]), 15,
                   "Checked previous_injuries."),
}


def _query_counts(client, addresses: dict[str, str]) -> dict[str, int]:
    counts = {}
    for page, address in addresses.items():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(address)
        assert response.status_code == 200, page
        counts[page] = len(captured.captured_queries)
    return counts


def test_cram_pages_make_the_same_queries_for_a_short_and_a_long_history(client, cast: Cast, log_referral,
                                                                         django_assert_max_num_queries) -> None:
    """Six CRAMs with five measures and actions each and three checks after each cost no more queries
    than two CRAMs with one measure and one check; every page is then held to its pin."""
    short = _worked_case(log_referral, cast, crams=2, measures=1, checks=1)
    long = _worked_case(log_referral, cast, crams=6, measures=5, checks=3)
    client.force_login(cast.supervisor)
    short_addresses = {page: address_of(short, 2) for page, (address_of, _, _) in PAGES.items()}
    long_addresses = {page: address_of(long, 6) for page, (address_of, _, _) in PAGES.items()}
    _query_counts(client, short_addresses)  # the first requests fill the content-type cache

    small, large = _query_counts(client, short_addresses), _query_counts(client, long_addresses)

    assert large == small, "pages whose query count grew with the history"
    for page, (_, most, shown) in PAGES.items():
        with django_assert_max_num_queries(most):
            body = client.get(long_addresses[page]).content.decode()
        assert shown in body, page
