from __future__ import annotations

import datetime as dt

import pytest

from risk import services
from risk.models import AssessmentStatus

pytestmark = pytest.mark.django_db


def test_initial_cram_completes_with_gaps_and_an_unmanaged_risk(log_referral, desk_sergeant, now):
    """Completing writes the rating, gap and unmanaged counts and due dates onto the referral."""
    referral = log_referral()
    assessment = services.assessment_start(referral=referral, kind="initial", actor=desk_sergeant, now=now)
    answers = {answer.code: services.AnswerInput("no") for answer in assessment.answers.all()}
    answers["previous_injuries"] = services.AnswerInput("not_known")
    answers["domestic_abuse"] = services.AnswerInput("not_known")
    answers["weapon_injury"] = services.AnswerInput("yes", note="Belt marks")
    answers["suspect_access"] = services.AnswerInput("yes")
    data = services.AssessmentInput(
        revision=assessment.revision, answers=answers,
        measures=[services.MeasureInput(kind="bail_conditions", owner_agency="Police", status="active",
                                        factor_codes=["suspect_access"])],
        rating="high", rating_rationale="", decisions="Strategy discussion today.",
    )
    services.assessment_save(assessment=assessment, data=data, actor=desk_sergeant, now=now, complete=True)

    referral.refresh_from_db()
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.COMPLETED
    assert assessment.suggested_rating == "high"
    assert (referral.rating, referral.gap_count, referral.unmanaged_risk_count) == ("high", 2, 1)
    assert referral.cram_review_due_at == assessment.next_review_due_at
    assert referral.cram_review_due_at - now >= dt.timedelta(days=41)
    assert "CRAM 1 (initial) completed" in referral.case_log.last().text
