"""Another team sees nothing of Haringey's CRAMs and checks, on every address, and changes nothing."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine
from django.urls import reverse

from cram_site.models import Officer
from referrals.models import CaseLogEntry, Referral
from risk import services, urls
from risk.models import Answer, Assessment, CatalogueVersion, SignOff, SystemsCheck

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)

# Every address of one referral's CRAM, with the methods it answers.
CASE_ADDRESSES = [
    ("cram", "GET"),
    ("start", "POST"),
    ("assessment", "GET"), ("assessment", "POST"),
    ("suggest", "POST"),
    ("sign_off", "GET"), ("sign_off", "POST"),
    ("checks", "GET"), ("checks", "POST"),
]
# Addresses of the catalogue, shared by every team: an administrator's, tested for roles below.
CATALOGUE_ADDRESSES = {"catalogue", "factor_add", "factor"}


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def hy_referral(log_referral, desk_sergeant: Officer) -> Referral:
    """A Haringey referral whose initial CRAM the desk sergeant completed: two gaps, awaiting sign-off."""
    referral = log_referral()
    assessment = services.assessment_start(referral=referral, kind="initial", actor=desk_sergeant, now=NOW)
    answers = {answer.code: services.AnswerInput("no") for answer in assessment.answers.all()}
    answers |= {"previous_injuries": services.AnswerInput("not_known"),
                "domestic_abuse": services.AnswerInput("not_known"),
                "weapon_injury": services.AnswerInput("yes")}
    services.assessment_save(assessment=assessment, actor=desk_sergeant, now=NOW, complete=True,
                             data=services.AssessmentInput(revision=assessment.revision, answers=answers,
                                                           rating="medium"))
    return referral


def _prepare(name: str, referral: Referral, desk_sergeant: Officer) -> int:
    """The assessment the address is about: a draft review for the form and the suggestion, else CRAM 1."""
    if name in {"assessment", "suggest"}:
        return services.assessment_start(referral=referral, kind="review", actor=desk_sergeant, now=NOW).number
    return 1


def _address(name: str, referral: Referral, number: int) -> str:
    if name in {"assessment", "suggest", "sign_off"}:
        return reverse(f"risk:{name}", args=[referral.urn, number])
    return reverse(f"risk:{name}", args=[referral.urn])


def _valid_post(name: str, referral: Referral, number: int) -> dict[str, object]:
    """What a Haringey officer would send; a leak would let it through and write something."""
    if name == "start":
        return {"kind": "review"}
    if name in {"assessment", "suggest"}:
        assessment = Assessment.objects.get(referral=referral, number=number)
        post: dict[str, object] = {"revision": str(assessment.revision), "save": "1", "rating": "high",
                                   "rating_rationale": "", "decisions": "Changed by another team.",
                                   "measure-TOTAL_FORMS": "0", "measure-INITIAL_FORMS": "0",
                                   "action-TOTAL_FORMS": "0", "action-INITIAL_FORMS": "0"}
        post |= {f"answer-{answer.code}": "yes" for answer in assessment.answers.all()}
        return post
    if name == "sign_off":
        return {"decision": "agreed", "rating_justified": "yes", "gaps_addressed": "yes",
                "measures_adequate": "yes", "actions_timely": "yes", "comments": "Signed off by another team."}
    if name == "checks":
        gap = Answer.objects.get(assessment__referral=referral, assessment__number=1, code="previous_injuries")
        return {"system": "pnc", "subject": "", "checked_at": "2026-03-10T09:30", "result": "Nothing known.",
                "closes": [str(gap.pk)]}
    raise AssertionError(f"no POST for {name}")


def _snapshot(referral: Referral) -> tuple[object, ...]:
    fresh = Referral.objects.get(pk=referral.pk)
    assessments = tuple(Assessment.objects.filter(referral=referral).order_by("number")
                        .values_list("number", "status", "revision", "rating", "decisions"))
    answers = tuple(Answer.objects.filter(assessment__referral=referral).order_by("assessment__number", "code")
                    .values_list("value", flat=True))
    return (assessments, answers, SignOff.objects.filter(assessment__referral=referral).count(),
            SystemsCheck.objects.filter(referral=referral).count(),
            CaseLogEntry.objects.filter(referral=referral).count(),
            fresh.rating, fresh.gap_count, fresh.unmanaged_risk_count, fresh.cram_signoff_due_at)


def test_every_address_of_the_risk_app_is_covered_here() -> None:
    """A new address in risk/urls.py must be added to these visibility tests."""
    names = {pattern.name for pattern in urls.urlpatterns}
    assert names == {name for name, _ in CASE_ADDRESSES} | CATALOGUE_ADDRESSES


@pytest.mark.parametrize(("name", "method"), CASE_ADDRESSES)
def test_another_team_gets_not_found_on_every_cram_address(client, hy_referral: Referral,
                                                           other_team_sergeant: Officer, desk_sergeant: Officer,
                                                           supervisor: Officer, name: str, method: str) -> None:
    """Enfield's sergeant (desk sergeant and supervisor there) gets 404 and changes nothing; Haringey's gets in."""
    number = _prepare(name, hy_referral, desk_sergeant)
    address = _address(name, hy_referral, number)
    data = _valid_post(name, hy_referral, number) if method == "POST" else None
    before = _snapshot(hy_referral)

    client.force_login(other_team_sergeant)
    response = client.post(address, data) if method == "POST" else client.get(address)

    body = response.content.decode()
    assert response.status_code == 404
    assert "There is no record at this address that you can see." in body
    assert hy_referral.urn not in body
    assert _snapshot(hy_referral) == before

    # The same request from Haringey's supervisor goes through, so the 404 above is the team rule
    # and the POST above was one that would have written something.
    client.force_login(supervisor)
    response = client.post(address, data) if method == "POST" else client.get(address)
    assert response.status_code in (200, 302)
    if method == "GET":
        assert hy_referral.urn in response.content.decode()
    elif name == "suggest":
        assert 'data-testid="suggested-rating">High<' in response.content.decode()
    else:
        assert response.status_code == 302
        assert _snapshot(hy_referral) != before


@pytest.mark.parametrize(("name", "method"), [("catalogue", "GET"), ("factor_add", "GET"), ("factor_add", "POST"),
                                              ("factor", "GET"), ("factor", "POST")])
def test_the_catalogue_is_refused_to_officers_who_are_not_administrators(client, other_team_sergeant: Officer,
                                                                        name: str, method: str) -> None:
    """The catalogue has no team; a sergeant and supervisor of any team gets 403 and makes no version."""
    address = reverse(f"risk:{name}", args=["weapon_injury"] if name == "factor" else [])
    data = {"code": "new_factor", "section": "child", "question": "A new question?", "weight": "3",
            "note": "Added by a sergeant."}
    client.force_login(other_team_sergeant)

    response = client.post(address, data) if method == "POST" else client.get(address)

    assert response.status_code == 403
    assert "Your role does not allow this." in response.content.decode()
    assert CatalogueVersion.objects.count() == 1


@pytest.mark.parametrize("name", sorted({name for name, _ in CASE_ADDRESSES}))
def test_anonymous_visitor_is_sent_to_sign_in(client, hy_referral: Referral, name: str) -> None:
    """No CRAM address answers without signing in."""
    response = client.get(_address(name, hy_referral, 1))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")
