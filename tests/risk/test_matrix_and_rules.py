"""The matrix (risk/matrix.py) and the rules read off an assessment: unmanaged risks and open gaps."""
from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from cram_site.models import Officer
from referrals.models import Referral
from risk import services
from risk.catalogue import DEFAULT_CATALOGUE
from risk.matrix import DECISIVE_WEIGHT, HIGH_SCORE, MEDIUM_SCORE, risk_score, suggested_rating
from risk.models import Answer, Assessment, ControlMeasure, Rating

# A Tuesday in March, before the clocks change: London is on GMT.
NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)


def answer(code: str = "f", value: str = "yes", weight: int = 1, contextual: bool = False) -> Answer:
    """An unsaved answer: the matrix and the rules read only these fields."""
    return Answer(code=code, value=value, weight=weight, contextual=contextual, question=f"Question {code}?")


def present(total: int, *, prefix: str = "p") -> list[Answer]:
    """Present, non-contextual risks adding up to `total`, none of them decisive on its own."""
    parts = []
    while total > 0:
        part = min(3, total)
        parts.append(answer(f"{prefix}{len(parts)}", "yes", part))
        total -= part
    assert all(a.weight < DECISIVE_WEIGHT for a in parts)
    return parts


def measure(status: str, *codes: str) -> ControlMeasure:
    return ControlMeasure(kind="bail_conditions", owner_agency="Police", status=status, factor_codes=list(codes))


# --- Suggested rating ---------------------------------------------------------------------------


def test_the_thresholds_are_ordered_so_every_rating_can_be_reached() -> None:
    """Standard below MEDIUM_SCORE, medium up to HIGH_SCORE, and a decisive factor above medium."""
    assert 0 < MEDIUM_SCORE < HIGH_SCORE
    assert MEDIUM_SCORE <= DECISIVE_WEIGHT


@pytest.mark.parametrize(("score", "expected"), [
    (0, Rating.STANDARD),
    (MEDIUM_SCORE - 1, Rating.STANDARD),
    (MEDIUM_SCORE, Rating.MEDIUM),
    (MEDIUM_SCORE + 1, Rating.MEDIUM),
    (HIGH_SCORE - 1, Rating.MEDIUM),
    (HIGH_SCORE, Rating.HIGH),
    (HIGH_SCORE + 5, Rating.HIGH),
])
def test_suggested_rating_at_the_edges_of_the_thresholds(score: int, expected: str) -> None:
    """A score one below a threshold stays in the lower band; reaching it moves up a band."""
    answers = present(score) + [answer("absent", "no", 3)]

    assert risk_score(answers) == score
    assert suggested_rating(answers) == expected


def test_a_decisive_factor_alone_makes_the_rating_high() -> None:
    """One present factor of decisive weight is high whatever else is answered."""
    answers = [answer("rso", "yes", DECISIVE_WEIGHT)] + [answer(f"n{i}", "no", 3) for i in range(5)]

    assert risk_score(answers) < HIGH_SCORE
    assert suggested_rating(answers) == Rating.HIGH


def test_a_factor_just_below_decisive_weight_is_not_high_on_its_own() -> None:
    """Weight DECISIVE_WEIGHT - 1 alone scores as an ordinary factor: medium, not high."""
    answers = [answer("weapon", "yes", DECISIVE_WEIGHT - 1)]

    assert MEDIUM_SCORE <= DECISIVE_WEIGHT - 1 < HIGH_SCORE
    assert suggested_rating(answers) == Rating.MEDIUM


@pytest.mark.parametrize("code", ["non_mobile_injury", "suspect_rso_mappa"])
def test_the_default_catalogues_decisive_factors_each_make_a_high_rating(code: str) -> None:
    """A non-mobile baby with an injury, or a registered sex offender, is high on that answer alone."""
    answers = [answer(c, "yes" if c == code else "no", weight, contextual)
               for c, _s, _q, _h, weight, contextual, _check in DEFAULT_CATALOGUE]

    assert suggested_rating(answers) == Rating.HIGH


def test_the_default_catalogue_answered_no_throughout_is_standard() -> None:
    """With every factor answered "no" there is nothing to score."""
    answers = [answer(c, "no", weight, contextual) for c, _s, _q, _h, weight, contextual, _check in DEFAULT_CATALOGUE]

    assert risk_score(answers) == 0
    assert suggested_rating(answers) == Rating.STANDARD


def test_a_contextual_yes_never_raises_the_rating() -> None:
    """Contextual factors, however heavy, add nothing: one point below medium stays standard,
    one point below high stays medium, and a heavy contextual factor alone is not decisive."""
    contextual = [answer("disability", "yes", HIGH_SCORE, contextual=True),
                  answer("home_education", "yes", DECISIVE_WEIGHT, contextual=True)]

    assert suggested_rating(present(MEDIUM_SCORE - 1) + contextual) == Rating.STANDARD
    assert suggested_rating(present(HIGH_SCORE - 1) + contextual) == Rating.MEDIUM
    assert suggested_rating(contextual) == Rating.STANDARD
    assert risk_score(contextual) == 0


def test_not_known_does_not_score() -> None:
    """A "not known" answer is a gap to close, not a risk: it adds nothing, even a decisive one."""
    gaps = [answer("rso", "not_known", DECISIVE_WEIGHT), answer("violence", "not_known", HIGH_SCORE)]

    assert risk_score(gaps) == 0
    assert suggested_rating(gaps) == Rating.STANDARD
    assert suggested_rating(present(MEDIUM_SCORE - 1) + gaps) == Rating.STANDARD


def test_unanswered_factors_do_not_score() -> None:
    """A blank answer of a draft scores nothing either."""
    assert suggested_rating([answer("rso", "", DECISIVE_WEIGHT)]) == Rating.STANDARD


# --- Unmanaged risks ------------------------------------------------------------------------------


def test_a_present_risk_with_no_measure_is_unmanaged() -> None:
    """A non-contextual "yes" with no control measure at all is an unmanaged risk."""
    risk = answer("suspect_access", "yes", 4)

    assert services.unmanaged_risks([risk], []) == [risk]


def test_an_active_measure_linked_to_the_factor_manages_it() -> None:
    """An active measure naming the factor manages it; one measure may manage several factors."""
    access, violence, drugs = answer("access", "yes", 4), answer("violence", "yes", 4), answer("drugs", "yes", 2)

    unmanaged = services.unmanaged_risks([access, violence, drugs], [measure("active", "access", "violence")])

    assert unmanaged == [drugs]


@pytest.mark.parametrize("status", ["proposed", "ended"])
def test_a_proposed_or_ended_measure_does_not_manage(status: str) -> None:
    """Only an active measure counts: a proposed one is not yet in place, an ended one no longer is."""
    risk = answer("access", "yes", 4)

    assert services.unmanaged_risks([risk], [measure(status, "access")]) == [risk]


def test_an_active_measure_linked_to_another_factor_does_not_manage() -> None:
    """A measure manages the factors it names, not every risk on the assessment."""
    access, violence = answer("access", "yes", 4), answer("violence", "yes", 4)

    assert services.unmanaged_risks([access, violence], [measure("active", "access")]) == [violence]


def test_a_contextual_yes_is_never_unmanaged() -> None:
    """Disability or home education is recorded, not a risk that needs a control measure."""
    context = answer("disability", "yes", 1, contextual=True)

    assert services.unmanaged_risks([context], []) == []


@pytest.mark.parametrize("value", ["no", "not_known", ""])
def test_only_a_yes_can_be_unmanaged(value: str) -> None:
    """"No", "not known" and unanswered factors are not present risks."""
    assert services.unmanaged_risks([answer("access", value, 4)], []) == []


# --- Intelligence gaps ----------------------------------------------------------------------------


def test_open_gaps_are_the_not_known_answers() -> None:
    """Each "not known" answer is a gap; "yes", "no" and blanks are not."""
    gap_one, gap_two = answer("pnc", "not_known"), answer("cris", "not_known", contextual=True)
    answers = [answer("a", "yes"), answer("b", "no"), answer("c", ""), gap_one, gap_two]

    assert services.open_gaps(answers) == [gap_one, gap_two]


def test_a_gap_closed_by_a_check_is_no_longer_open() -> None:
    """Codes answered by a systems check drop out of the open gaps."""
    gap_one, gap_two = answer("pnc", "not_known"), answer("cris", "not_known")

    assert services.open_gaps([gap_one, gap_two], {"pnc"}) == [gap_two]


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_gaps_closed_by_checks_are_read_from_the_stored_checks(log_referral, desk_sergeant: Officer,
                                                              investigator: Officer) -> None:
    """A check recorded against a gap of the completed CRAM closes that gap and no other."""
    referral: Referral = log_referral()
    assessment = services.assessment_start(referral=referral, kind="initial", actor=desk_sergeant, now=NOW)
    answers = {a.code: services.AnswerInput("no") for a in assessment.answers.all()}
    answers["previous_injuries"] = services.AnswerInput("not_known")
    answers["suspect_violence"] = services.AnswerInput("not_known")
    services.assessment_save(
        assessment=assessment, actor=desk_sergeant, now=NOW, complete=True,
        data=services.AssessmentInput(revision=assessment.revision, answers=answers, rating="standard"),
    )
    assert services.gaps_closed_by_checks(assessment) == set()

    services.systems_check_record(
        referral=referral, actor=investigator, now=NOW, system="pnc", result="No trace on PNC.",
        checked_at=NOW, anything_new=False, closes=[assessment.answers.get(code="suspect_violence")],
    )

    stored = Assessment.objects.get(pk=assessment.pk)
    closed = services.gaps_closed_by_checks(stored)
    assert closed == {"suspect_violence"}
    assert [a.code for a in services.open_gaps(stored.answers.all(), closed)] == ["previous_injuries"]


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_a_draft_has_no_gaps_closed_by_checks(log_referral, desk_sergeant: Officer) -> None:
    """Checks close gaps of completed assessments only; a draft reports none."""
    referral = log_referral()
    draft = services.assessment_start(referral=referral, kind="initial", actor=desk_sergeant, now=NOW)

    assert services.gaps_closed_by_checks(draft) == set()
