"""The CRAM pages through the test client: starting, saving and completing an assessment, the
matrix's suggestion, checks closing gaps, sign-off, what changed at a review and the catalogue."""
from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator

import pytest
import time_machine
from django.urls import reverse

from cram_site.calendar import LONDON
from cram_site.models import Officer, Rank, Team
from referrals.models import CaseLogEntry, Referral
from risk import services
from risk.catalogue import DEFAULT_CATALOGUE
from risk.models import Answer, Assessment, AssessmentStatus, CatalogueVersion, SignOff, SystemsCheck
from tests.factories import OfficerFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)

QUESTIONS = {code: question for code, _, question, *_ in DEFAULT_CATALOGUE}
# The case of every completed CRAM here: two gaps, two present risks (7 + 4 = 11: the matrix
# suggests high), bail conditions managing the suspect's access, the weapon injury unmanaged.
GAPS = {"previous_injuries": "not_known", "domestic_abuse": "not_known"}
PRESENT = {"weapon_injury": "yes", "suspect_access": "yes"}
BAIL = {"kind": "bail_conditions", "description": "No contact with the child", "owner_agency": "Police",
        "status": "active", "factor_codes": ["suspect_access"]}


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def referral(log_referral) -> Referral:
    return log_referral()


@pytest.fixture
def researcher(haringey: Team) -> Officer:
    return OfficerFactory(username="researcher-hy", first_name="Rita", last_name="Shah", rank=Rank.STAFF,
                          staff_number="S707", team=haringey, roles=["researcher"])


@pytest.fixture
def administrator(haringey: Team) -> Officer:
    return OfficerFactory(username="administrator-hy", first_name="Adam", last_name="Nash", rank=Rank.STAFF,
                          staff_number="S808", team=haringey, roles=["administrator"])


def _text(response) -> str:
    """The page as a reader sees its characters (apostrophes and ampersands unescaped)."""
    return html.unescape(response.content.decode())


def _header(response) -> str:
    body = response.content.decode()
    start = body.index('<header class="border')
    return html.unescape(body[start:body.index("</header>", start)])


def _answers(assessment: Assessment, default: str = "no", **overrides: str) -> dict[str, str]:
    """Every factor of the assessment answered `default`, except those named."""
    return {answer.code: default for answer in assessment.answers.all()} | overrides


def _form_post(assessment: Assessment, answers: dict[str, str], *, measures: tuple[dict, ...] = (),
               actions: tuple[dict, ...] = (), rating: str = "", rationale: str = "", decisions: str = "",
               notes: dict[str, str] | None = None, revision: int | None = None,
               complete: bool = True) -> dict[str, object]:
    """The POST of the assessment form, as the browser sends it."""
    post: dict[str, object] = {
        "revision": str(assessment.revision if revision is None else revision),
        "rating": rating, "rating_rationale": rationale, "decisions": decisions,
        "measure-TOTAL_FORMS": str(len(measures)), "measure-INITIAL_FORMS": "0",
        "measure-MIN_NUM_FORMS": "0", "measure-MAX_NUM_FORMS": "40",
        "action-TOTAL_FORMS": str(len(actions)), "action-INITIAL_FORMS": "0",
        "action-MIN_NUM_FORMS": "0", "action-MAX_NUM_FORMS": "40",
    }
    for code, value in answers.items():
        post[f"answer-{code}"] = value
        post[f"note-{code}"] = (notes or {}).get(code, "")
        post[f"source-{code}"] = ""
    for index, measure in enumerate(measures):
        post.update({f"measure-{index}-{name}": value for name, value in measure.items()})
    for index, action in enumerate(actions):
        post.update({f"action-{index}-{name}": value for name, value in action.items()})
    post["complete" if complete else "save"] = "1"
    return post


def _start(referral: Referral, actor: Officer, kind: str = "initial") -> Assessment:
    return services.assessment_start(referral=referral, kind=kind, actor=actor, now=NOW)


def _complete(referral: Referral, actor: Officer, *, kind: str = "initial", rating: str = "high",
              **overrides: str) -> Assessment:
    """A CRAM started and completed through the services, with the usual gaps and present risks."""
    assessment = _start(referral, actor, kind)
    values = _answers(assessment, **(GAPS | PRESENT | overrides))
    services.assessment_save(
        assessment=assessment, actor=actor, now=NOW, complete=True,
        data=services.AssessmentInput(
            revision=assessment.revision,
            answers={code: services.AnswerInput(value) for code, value in values.items()},
            measures=[services.MeasureInput(kind="bail_conditions", owner_agency="Police", status="active",
                                            factor_codes=["suspect_access"])],
            rating=rating, rating_rationale="" if rating == "high" else "Suspect has left the home."),
    )
    return assessment


def _stored(assessment: Assessment) -> tuple[object, ...]:
    """What a refused save must leave as it was."""
    fresh = Assessment.objects.get(pk=assessment.pk)
    values = tuple(Answer.objects.filter(assessment=assessment).order_by("code").values_list("value", flat=True))
    return (fresh.status, fresh.revision, fresh.rating, values, fresh.control_measures.count(),
            CaseLogEntry.objects.filter(referral=assessment.referral).count())


# --- Starting ---------------------------------------------------------------------------------------


def test_desk_sergeant_starts_the_initial_cram_from_the_tab_and_gets_every_factor(client, referral: Referral,
                                                                                 desk_sergeant: Officer) -> None:
    """Starting opens the draft form with every question of the catalogue, none answered yet."""
    client.force_login(desk_sergeant)
    tab = _text(client.get(reverse("risk:cram", args=[referral.urn])))
    assert "No CRAM has been completed for this referral yet." in tab
    assert "Start the CRAM" in tab

    response = client.post(reverse("risk:start", args=[referral.urn]), {"kind": "initial"})

    assessment = Assessment.objects.get(referral=referral)
    assert response.status_code == 302
    assert response["Location"] == reverse("risk:assessment", args=[referral.urn, 1])
    assert (assessment.number, assessment.kind, assessment.status) == (1, "initial", AssessmentStatus.DRAFT)
    form = client.get(response["Location"])
    body = _text(form)
    assert "CRAM 1: initial assessment" in body
    assert [question for question in QUESTIONS.values() if question not in body] == []
    assert not re.search(r'name="answer-[\w]+" value="\w+"[^>]*checked', form.content.decode())


def test_second_start_while_a_draft_is_open_is_refused(client, referral: Referral, desk_sergeant: Officer,
                                                       investigator: Officer) -> None:
    """One draft at a time: the second officer is told to continue it and nothing new is made."""
    _start(referral, investigator)
    client.force_login(desk_sergeant)

    response = client.post(reverse("risk:start", args=[referral.urn]), {"kind": "initial"}, follow=True)

    assert "A draft CRAM is already open" in _text(response)
    assert response.redirect_chain == [(reverse("risk:cram", args=[referral.urn]), 302)]
    assert Assessment.objects.filter(referral=referral).count() == 1
    assert "Continue the draft" in _text(response)


# --- Completing: refusals ---------------------------------------------------------------------------


def test_completing_with_unanswered_factors_marks_them_and_stores_nothing(client, referral: Referral,
                                                                          desk_sergeant: Officer) -> None:
    """Each unanswered factor gets "Answer this factor" in its own row; the draft stays as it was."""
    assessment = _start(referral, desk_sergeant)
    before = _stored(assessment)
    answers = _answers(assessment, **GAPS)
    del answers["weapon_injury"], answers["suspect_access"]
    client.force_login(desk_sergeant)

    response = client.post(assessment.get_absolute_url(),
                           _form_post(assessment, answers, measures=(BAIL,), rating="standard"))

    body = response.content.decode()
    assert response.status_code == 200
    assert body.count("Answer this factor: yes, no or not known.") == 2
    for code in ("weapon_injury", "suspect_access"):
        row = body[body.index(f'id="factor-{code}"'):]
        row = row[:row.index("</fieldset>")]
        assert f'id="error-{code}"' in row and "Answer this factor" in row
    assert 'id="error-cp_plan"' not in body
    assert _stored(assessment) == before
    assert Assessment.objects.get(pk=assessment.pk).status == AssessmentStatus.DRAFT


def test_a_rating_departing_from_the_suggestion_needs_a_rationale(client, referral: Referral,
                                                                  desk_sergeant: Officer) -> None:
    """The matrix suggests high; a medium rating without a reason is refused and nothing is stored."""
    assessment = _start(referral, desk_sergeant)
    before = _stored(assessment)
    client.force_login(desk_sergeant)

    response = client.post(assessment.get_absolute_url(), _form_post(
        assessment, _answers(assessment, **(GAPS | PRESENT)), measures=(BAIL,), rating="medium"))

    body = _text(response)
    assert "Give the rationale for a rating that differs from the suggested one." in body
    assert '<strong data-testid="suggested-rating">High</strong>' in body
    assert _stored(assessment) == before


def test_a_control_measure_linked_to_no_factor_is_refused(client, referral: Referral,
                                                          desk_sergeant: Officer) -> None:
    """A measure must say which risk it manages; the measure's own box says so and nothing is stored."""
    assessment = _start(referral, desk_sergeant)
    before = _stored(assessment)
    client.force_login(desk_sergeant)

    response = client.post(assessment.get_absolute_url(), _form_post(
        assessment, _answers(assessment, **(GAPS | PRESENT)), measures=(BAIL | {"factor_codes": []},),
        rating="high"))

    body = _text(response)
    measure_box = body[body.index("Control measure 1</legend>"):]
    measure_box = measure_box[:measure_box.index("</fieldset>")]
    assert "Link the control measure to the risk factor(s) it manages." in measure_box
    assert _stored(assessment) == before


# --- Completing: success ----------------------------------------------------------------------------


def test_completing_shows_the_rating_gaps_unmanaged_risk_and_due_dates(client, referral: Referral,
                                                                       desk_sergeant: Officer,
                                                                       investigator: Officer) -> None:
    """The completed page and the case header carry the rating, two gaps, one unmanaged risk and the dates."""
    assessment = _start(referral, desk_sergeant)
    client.force_login(desk_sergeant)
    due = (NOW + dt.timedelta(days=2)).astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")

    response = client.post(assessment.get_absolute_url(), _form_post(
        assessment, _answers(assessment, **(GAPS | PRESENT)), measures=(BAIL,), rating="medium",
        rationale="The suspect has left the home and is on bail.", decisions="Strategy discussion today.",
        notes={"weapon_injury": "Belt marks on the back"},
        actions=({"description": "Joint visit with social care", "owner": str(investigator.pk), "due_at": due},)))

    assert response.status_code == 302
    assert response["Location"] == assessment.get_absolute_url()
    page = client.get(response["Location"])
    body, header = _text(page), _header(page)
    assert "CRAM 1 completed and written to the case log." in body
    assert 'rating-medium fs-6">Medium</span>' in body
    assert "Matrix suggested high" in body
    weapon = body[body.index(f'<li class="unmanaged">{QUESTIONS["weapon_injury"]}'):]
    assert "— unmanaged risk: no active control measure</strong>" in weapon[:weapon.index("</li>")]
    assert f"{QUESTIONS['suspect_access']}" in body and "managed by Bail conditions: No contact with the child" in body
    assert "Intelligence gaps (2 open)" in body
    assert QUESTIONS["previous_injuries"] in body and QUESTIONS["domestic_abuse"] in body
    assert re.search(r'data-testid="rating">\s*Medium risk</span>', header)
    assert re.search(r'data-testid="gaps">\s*2 gaps</span>', header)
    assert re.search(r'data-testid="unmanaged">\s*1 unmanaged risk</span>', header)
    # 42 days on by the London clock (across the change to summer time), and three working days on.
    assert re.search(r"Next CRAM review</dt><dd[^>]*>21/04/2026 10:00\s*</dd>", header)
    assert re.search(r"CRAM sign-off due</dt><dd[^>]*>13/03/2026 10:00\s*</dd>", header)

    stored = Assessment.objects.get(pk=assessment.pk)
    assert (stored.status, stored.rating, stored.suggested_rating) == (AssessmentStatus.COMPLETED, "medium", "high")
    assert stored.rating_rationale == "The suspect has left the home and is on bail."
    assert stored.answers.get(code="weapon_injury").note == "Belt marks on the back"
    assert stored.planned_actions.get().action.owner == investigator
    log = CaseLogEntry.objects.filter(referral=referral).order_by("number").last().text
    assert log.startswith("CRAM 1 (initial) completed: rating MEDIUM (matrix suggested high;")


def test_saving_a_draft_keeps_partial_answers(client, referral: Referral, desk_sergeant: Officer,
                                              investigator: Officer) -> None:
    """"Save the draft" stores what is answered so far, without requiring the rest, and shows it again."""
    assessment = _start(referral, desk_sergeant)
    client.force_login(desk_sergeant)
    due = (NOW + dt.timedelta(days=1)).astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")

    response = client.post(assessment.get_absolute_url(), _form_post(
        assessment, {"weapon_injury": "yes", "domestic_abuse": "not_known"}, complete=False,
        actions=({"description": "Ask the GP for records", "owner": str(investigator.pk), "due_at": due},)),
        follow=True)

    stored = Assessment.objects.get(pk=assessment.pk)
    values = dict(stored.answers.values_list("code", "value"))
    assert stored.status == AssessmentStatus.DRAFT
    assert stored.revision == assessment.revision + 1
    assert (values["weapon_injury"], values["domestic_abuse"], values["cp_plan"]) == ("yes", "not_known", "")
    assert not CaseLogEntry.objects.filter(referral=referral, text__startswith="CRAM").exists()
    body = response.content.decode()
    assert "Draft saved." in body
    assert re.search(r'name="answer-weapon_injury" value="yes"[^>]*checked', body)
    assert not re.search(r'name="answer-cp_plan" value="\w+"[^>]*checked', body)
    assert f'name="revision" value="{assessment.revision + 1}"' in body
    # The saved action comes back with its owner chosen, and every officer of the team offered.
    assert stored.planned_actions.get().owner == investigator
    assert 'value="Ask the GP for records"' in body
    assert f'<option value="{investigator.pk}" selected>{investigator.display_name}</option>' in body
    assert f'<option value="{desk_sergeant.pk}">{desk_sergeant.display_name}</option>' in body


def test_a_stale_save_is_refused_and_keeps_what_was_typed(client, referral: Referral, desk_sergeant: Officer,
                                                          investigator: Officer) -> None:
    """Someone else saved since the form was opened: the officer is told, and loses nothing typed."""
    assessment = _start(referral, desk_sergeant)
    opened_at_revision = assessment.revision
    # Given the investigator saves the same draft first
    client.force_login(investigator)
    client.post(assessment.get_absolute_url(),
                _form_post(assessment, {"cp_plan": "yes"}, notes={"cp_plan": "Plan ended 2024"}, complete=False))
    assert Assessment.objects.get(pk=assessment.pk).revision == opened_at_revision + 1

    # When the sergeant saves with the revision they opened
    client.force_login(desk_sergeant)
    response = client.post(assessment.get_absolute_url(), _form_post(
        assessment, {"weapon_injury": "yes"}, notes={"weapon_injury": "Belt marks on the back"},
        revision=opened_at_revision, complete=False))

    body = _text(response)
    assert response.status_code == 200
    assert "Someone else saved this draft while you were working on it." in body
    assert re.search(r'name="answer-weapon_injury" value="yes"[^>]*checked', body)
    assert 'value="Belt marks on the back"' in body
    values = dict(Answer.objects.filter(assessment=assessment).values_list("code", "value"))
    assert (values["cp_plan"], values["weapon_injury"]) == ("yes", "")
    assert Answer.objects.get(assessment=assessment, code="weapon_injury").note == ""


def test_an_edit_to_a_completed_assessment_by_url_is_refused(client, referral: Referral,
                                                             desk_sergeant: Officer) -> None:
    """A completed CRAM is never changed: a POST to its address is turned away and its answers stay."""
    assessment = _complete(referral, desk_sergeant)
    before = _stored(assessment)
    client.force_login(desk_sergeant)

    response = client.post(assessment.get_absolute_url(), _form_post(
        assessment, _answers(assessment, default="yes"), rating="high"), follow=True)

    assert "A completed CRAM cannot be changed. Start a new assessment instead." in _text(response)
    assert _stored(assessment) == before
    assert Answer.objects.get(assessment=assessment, code="cp_plan").value == "no"


def test_the_suggestion_follows_the_answers_as_typed(client, referral: Referral, desk_sergeant: Officer) -> None:
    """The htmx endpoint returns the matrix's rating for the unsaved answers, and the risks unmanaged."""
    assessment = _start(referral, desk_sergeant)
    client.force_login(desk_sergeant)
    address = reverse("risk:suggest", args=[referral.urn, assessment.number])

    def suggested(answers: dict[str, str], measures: tuple[dict, ...] = ()) -> str:
        return _text(client.post(address, _form_post(assessment, answers, measures=measures)))

    assert '<strong data-testid="suggested-rating">Standard</strong> (score 0)' in suggested(_answers(assessment))
    medium = suggested(_answers(assessment, weapon_injury="yes"))
    assert '<strong data-testid="suggested-rating">Medium</strong> (score 7)' in medium
    assert f"Unmanaged risks: 1 — {QUESTIONS['weapon_injury']}" in medium
    high = suggested(_answers(assessment, **PRESENT), measures=(BAIL,))
    assert '<strong data-testid="suggested-rating">High</strong> (score 11)' in high
    assert f"Unmanaged risks: 1 — {QUESTIONS['weapon_injury']}" in high
    assert '<strong data-testid="suggested-rating">High</strong>' in suggested(
        _answers(assessment, non_mobile_injury="yes"))
    assert Assessment.objects.get(pk=assessment.pk).revision == assessment.revision


# --- Checks -----------------------------------------------------------------------------------------


def _check_post(*, closes: list[Answer], checked_at: dt.datetime) -> dict[str, object]:
    return {"system": "cris", "subject": "The family's address", "result": "Two earlier referrals, 2023.",
            "checked_at": checked_at.astimezone(LONDON).strftime("%Y-%m-%dT%H:%M"),
            "closes": [str(answer.pk) for answer in closes]}


def test_a_check_closing_a_gap_lowers_the_gap_count_in_the_header(client, referral: Referral,
                                                                  desk_sergeant: Officer,
                                                                  researcher: Officer) -> None:
    """The researcher records a CRIS check answering one of the two gaps: the header shows one gap."""
    assessment = _complete(referral, desk_sergeant)
    gap = Answer.objects.get(assessment=assessment, code="previous_injuries")
    client.force_login(researcher)
    checks = reverse("risk:checks", args=[referral.urn])
    assert re.search(r'data-testid="gaps">\s*2 gaps', _header(client.get(checks)))

    response = client.post(checks, _check_post(closes=[gap], checked_at=NOW - dt.timedelta(minutes=30)),
                           follow=True)

    body, header = _text(response), _header(response)
    assert "Check recorded." in body
    assert re.search(r'data-testid="gaps">\s*1 gap</span>', header)
    assert "Two earlier referrals, 2023." in body
    check = SystemsCheck.objects.get(referral=referral)
    assert list(check.closes_gaps.all()) == [gap]
    assert Referral.objects.get(pk=referral.pk).gap_count == 1


def test_a_check_dated_in_the_future_is_refused(client, referral: Referral, desk_sergeant: Officer,
                                                researcher: Officer) -> None:
    """A check cannot have been made later than now: the error is shown and nothing is stored."""
    assessment = _complete(referral, desk_sergeant)
    gap = Answer.objects.get(assessment=assessment, code="previous_injuries")
    entries = CaseLogEntry.objects.filter(referral=referral).count()
    client.force_login(researcher)

    response = client.post(reverse("risk:checks", args=[referral.urn]),
                           _check_post(closes=[gap], checked_at=NOW + dt.timedelta(hours=1)))

    assert response.status_code == 200
    assert "A check cannot be made in the future." in _text(response)
    assert not SystemsCheck.objects.exists()
    assert CaseLogEntry.objects.filter(referral=referral).count() == entries
    assert Referral.objects.get(pk=referral.pk).gap_count == 2


# --- Sign-off ---------------------------------------------------------------------------------------

SIGN_OFF = {"decision": "agreed", "rating_justified": "yes", "gaps_addressed": "partly",
            "measures_adequate": "yes", "actions_timely": "yes", "comments": "Proportionate; chase CRIS."}


def test_supervisor_signs_off_a_cram_completed_by_the_sergeant(client, referral: Referral,
                                                               desk_sergeant: Officer, supervisor: Officer) -> None:
    """The completed page offers the sign-off to the supervisor, and then shows it signed off."""
    assessment = _complete(referral, desk_sergeant)
    client.force_login(supervisor)
    assert "Sign off this CRAM" in _text(client.get(assessment.get_absolute_url()))

    response = client.post(reverse("risk:sign_off", args=[referral.urn, 1]), SIGN_OFF, follow=True)

    body = _text(response)
    assert response.redirect_chain == [(assessment.get_absolute_url(), 302)]
    assert f"<strong>Signed off</strong> by {supervisor.display_name} on 10/03/2026 10:00: agreed." in body
    assert "Rating justified: yes; gaps addressed: partly" in body
    assert "Sign off this CRAM" not in body
    signoff = SignOff.objects.get(assessment=assessment)
    assert (signoff.supervisor, signoff.gaps_addressed) == (supervisor, "partly")
    assert Referral.objects.get(pk=referral.pk).cram_signoff_due_at is None


def test_the_officer_who_completed_a_cram_may_not_sign_it_off(client, referral: Referral,
                                                              supervisor: Officer) -> None:
    """A supervisor who completed the CRAM is refused with a message and is not offered the button."""
    assessment = _complete(referral, supervisor)
    client.force_login(supervisor)
    assert "Sign off this CRAM" not in _text(client.get(assessment.get_absolute_url()))

    response = client.post(reverse("risk:sign_off", args=[referral.urn, 1]), SIGN_OFF)

    assert response.status_code == 200
    assert ("A CRAM is signed off by a supervisor other than the officer who completed it."
            in _text(response))
    assert not SignOff.objects.exists()


def test_an_investigator_may_not_sign_off(client, referral: Referral, desk_sergeant: Officer,
                                          investigator: Officer) -> None:
    """Sign-off is a supervisor's: an investigator gets 403 on the page and on the POST."""
    assessment = _complete(referral, desk_sergeant)
    client.force_login(investigator)
    address = reverse("risk:sign_off", args=[referral.urn, assessment.number])

    page, post = client.get(address), client.post(address, SIGN_OFF)

    assert (page.status_code, post.status_code) == (403, 403)
    assert "Your role does not allow this." in post.content.decode()
    assert "Sign off this CRAM" not in _text(client.get(assessment.get_absolute_url()))
    assert not SignOff.objects.exists()


# --- A review ---------------------------------------------------------------------------------------


def test_a_completed_review_shows_what_changed_since_the_previous_cram(client, referral: Referral,
                                                                       desk_sergeant: Officer) -> None:
    """CRAM 2 lists the changed answer and the gap closed since CRAM 1."""
    _complete(referral, desk_sergeant)
    client.force_login(desk_sergeant)
    start = client.post(reverse("risk:start", args=[referral.urn]), {"kind": "review"})
    review = Assessment.objects.get(referral=referral, number=2)
    assert start["Location"] == review.get_absolute_url()
    draft = _text(client.get(review.get_absolute_url()))
    assert "Pre-filled from CRAM 1." in draft
    answers = dict(review.answers.values_list("code", "value"))
    assert (answers["previous_injuries"], answers["weapon_injury"]) == ("not_known", "yes")

    response = client.post(review.get_absolute_url(), _form_post(
        review, answers | {"previous_injuries": "no", "suspect_substances": "yes"}, measures=(BAIL,),
        rating="high"), follow=True)

    body = _text(response)
    assert "CRAM 2: 42-day review assessment" in body
    changed = body[body.index("What changed since CRAM 1"):body.index("</section>", body.index("What changed"))]
    assert f"{QUESTIONS['suspect_substances']}: No → <strong>Yes</strong>" in changed
    assert f"{QUESTIONS['previous_injuries']}: Not known → <strong>No</strong>" in changed
    assert f"Gap closed: {QUESTIONS['previous_injuries']}" in changed
    assert QUESTIONS["domestic_abuse"] not in changed
    assert re.search(r'data-testid="gaps">\s*1 gap</span>', _header(response))


# --- The catalogue ----------------------------------------------------------------------------------


def test_administrator_rewords_a_factor_and_older_crams_keep_the_old_wording(client, referral: Referral,
                                                                            desk_sergeant: Officer,
                                                                            administrator: Officer) -> None:
    """The change makes catalogue version 2; CRAM 1, answered under version 1, still reads as it was."""
    assessment = _complete(referral, desk_sergeant)
    old = QUESTIONS["weapon_injury"]
    new = "Was an injury caused with a weapon, an implement or a hot object?"
    client.force_login(administrator)
    assert "Risk-factor catalogue, version 1" in _text(client.get(reverse("risk:catalogue")))

    response = client.post(reverse("risk:factor", args=["weapon_injury"]), {
        "section": "child", "question": new, "help_text": "Belts, cords, sticks, irons.", "weight": "7",
        "closing_check": "health", "note": "Wording agreed with the safeguarding partnership."}, follow=True)

    body = _text(response)
    assert "Catalogue version 2 made." in body
    assert "Risk-factor catalogue, version 2" in body
    assert new in body and old not in body
    assert "Version 2 (29 factors)" in body and "Wording agreed with the safeguarding partnership." in body
    assert CatalogueVersion.objects.order_by("-number").first().factors.get(code="weapon_injury").question == new

    client.force_login(desk_sergeant)
    completed = _text(client.get(assessment.get_absolute_url()))
    assert old in completed and new not in completed
    assert "Catalogue version 1." in completed


def test_desk_sergeant_may_not_open_or_change_the_catalogue(client, desk_sergeant: Officer) -> None:
    """The catalogue is an administrator's: the sergeant gets 403 and no version is made."""
    client.force_login(desk_sergeant)

    responses = [client.get(reverse("risk:catalogue")), client.get(reverse("risk:factor", args=["cp_plan"])),
                 client.post(reverse("risk:factor", args=["cp_plan"]), {
                     "section": "child", "question": "Changed?", "weight": "3", "note": "Try."})]

    assert [response.status_code for response in responses] == [403, 403, 403]
    assert "Risk-factor catalogue" not in responses[0].content.decode()
    assert CatalogueVersion.objects.count() == 1
