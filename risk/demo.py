"""The demo's CRAMs: an initial assessment on every assessed referral, most signed off, some
gaps closed by checks, and a 42-day review where the referral is old enough.

Everything is written through risk.services with `now` in the past, as it would have happened.
"""
from __future__ import annotations

import datetime as dt
import random

from cram_site.models import Officer
from referrals.demo import LaterStep, LaterSteps
from referrals.models import Referral

from . import services
from .matrix import suggested_rating
from .models import Answer, AnswerValue, Assessment, AssessmentKind, SignOffDecision

# Per allegation: factors present ("yes") and intelligence gaps ("not_known").
PICTURES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "physical": (("weapon_injury", "suspect_access"), ("previous_injuries", "domestic_abuse")),
    "sexual": (("disclosure", "suspect_access"), ("suspect_rso_mappa",)),
    "neglect": (("home_conditions", "health_needs_unmet", "carer_substances"), ("unknown_adults",)),
    "emotional": (("domestic_abuse", "siblings_at_risk"), ("carer_mental_health",)),
    "other": (("missing",), ("unknown_adults",)),
}
# The control measure that manages each kind of factor in the demo.
MEASURE_FOR_SECTION = {"child": ("strategy_meeting", "Police and children's social care"),
                       "suspect": ("bail_conditions", "Police"),
                       "household": ("safety_plan", "Children's social care")}


def _input(assessment: Assessment, *, present: tuple[str, ...], gaps: tuple[str, ...], leave_unmanaged: bool,
           rng: random.Random) -> services.AssessmentInput:
    answers = {}
    sections = {}
    for answer in assessment.answers.all():
        value = AnswerValue.YES if answer.code in present else (
            AnswerValue.NOT_KNOWN if answer.code in gaps else AnswerValue.NO)
        note = "Per the referral and the strategy discussion." if value == AnswerValue.YES else ""
        answers[answer.code] = services.AnswerInput(value=value, note=note,
                                                    source="Referral" if value == AnswerValue.YES else "")
        sections[answer.code] = answer.section
    managed = [code for code in present if code in sections]
    if leave_unmanaged and managed:
        managed = managed[1:]
    measures = []
    for code in managed:
        kind, agency = MEASURE_FOR_SECTION[sections[code]]
        measures.append(services.MeasureInput(kind=kind, owner_agency=agency, status="active", factor_codes=[code]))
    suggestion = suggested_rating([Answer(weight=a.weight, contextual=a.contextual, value=answers[a.code].value)
                                   for a in assessment.answers.all()])
    raise_it = suggestion != "high" and rng.random() < 0.2
    rating = "high" if raise_it else suggestion
    return services.AssessmentInput(
        revision=assessment.revision, answers=answers, measures=measures, rating=rating,
        rating_rationale="Raised: the child is very young and rarely seen by professionals." if raise_it else "",
        decisions="Strategy discussion held with children's social care; joint visit agreed.",
    )


class CramHistory:
    """The CRAM steps of one demo referral: initial, sign-off, a check, and a 42-day review."""

    def __init__(self, *, officers: dict[str, Officer], team: str, category: str, rng: random.Random) -> None:
        self.desk = officers[f"desk-{team}"]
        self.supervisor = officers[f"supervisor-{team}"]
        self.researcher = officers[f"researcher-{team}"]
        self.present, self.gaps = PICTURES.get(category, PICTURES["other"])
        self.rng = rng
        self.leave_unmanaged = rng.random() < 0.3
        self.sign = rng.random() < 0.8
        self.check = bool(self.gaps) and rng.random() < 0.6
        self.signoff_delay = dt.timedelta(days=rng.choice([1, 2, 4]))
        self.first: Assessment | None = None

    def steps(self, assessed_at: dt.datetime) -> list[LaterStep]:
        initial_at = assessed_at + dt.timedelta(hours=1)
        steps = [LaterStep(initial_at, lambda referral: self.initial(referral, initial_at))]
        if self.sign:
            signed_at = initial_at + self.signoff_delay
            steps.append(LaterStep(signed_at, lambda referral: self.sign_off(signed_at)))
        if self.check:
            checked_at = initial_at + dt.timedelta(hours=20)
            steps.append(LaterStep(checked_at, lambda referral: self.close_gap(referral, checked_at)))
        review_at = initial_at + dt.timedelta(days=42)
        steps.append(LaterStep(review_at, lambda referral: self.review(referral, review_at)))
        return steps

    def initial(self, referral: Referral, at: dt.datetime) -> None:
        self.first = services.assessment_start(referral=referral, kind=AssessmentKind.INITIAL, actor=self.desk, now=at)
        services.assessment_save(assessment=self.first, actor=self.desk, now=at, complete=True,
                                 data=_input(self.first, present=self.present, gaps=self.gaps,
                                             leave_unmanaged=self.leave_unmanaged, rng=self.rng))

    def sign_off(self, at: dt.datetime) -> None:
        services.assessment_sign_off(assessment=self.first, actor=self.supervisor, now=at, data=services.SignOffInput(
            decision=SignOffDecision.AGREED, rating_justified="yes", gaps_addressed="partly",
            measures_adequate="yes", actions_timely="yes",
            comments="Agreed. Close the intelligence gaps before the strategy meeting."))

    def close_gap(self, referral: Referral, at: dt.datetime) -> None:
        gap = self.first.answers.get(code=self.gaps[0])
        services.systems_check_record(referral=referral, actor=self.researcher, now=at,
                                      system=gap.closing_check or "other", checked_at=at, anything_new=False,
                                      closes=[gap], result="No trace of previous concerns on this system.")

    def review(self, referral: Referral, at: dt.datetime) -> None:
        review = services.assessment_start(referral=referral, kind=AssessmentKind.REVIEW, actor=self.desk, now=at)
        # A gap a check has answered comes back unanswered with the check's result in its note.
        remaining = tuple(code for code in self.gaps if not review.answers.get(code=code).note)
        services.assessment_save(assessment=review, actor=self.desk, now=at, complete=True,
                                 data=_input(review, present=self.present, gaps=remaining, leave_unmanaged=False,
                                             rng=self.rng))


def cram_steps(*, officers: dict[str, Officer], rng: random.Random) -> LaterSteps:
    """The hook `referrals.demo.seed_referrals` calls to weave CRAMs into each referral's history."""

    def later(referral: Referral, assessed_at: dt.datetime) -> list[LaterStep]:
        history = CramHistory(officers=officers, team=referral.team.code.lower(),
                              category=referral.allegation_category, rng=rng)
        return history.steps(assessed_at)

    return later
