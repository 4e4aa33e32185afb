"""What changed between two assessments of a referral: factors, gaps, measures and rating."""
from __future__ import annotations

from dataclasses import dataclass, field

from .models import Answer, Assessment, ControlMeasure


@dataclass(frozen=True)
class AnswerChange:
    question: str
    before: str
    after: str


@dataclass
class AssessmentDiff:
    answers: list[AnswerChange] = field(default_factory=list)
    gaps_opened: list[str] = field(default_factory=list)
    gaps_closed: list[str] = field(default_factory=list)
    measures_added: list[str] = field(default_factory=list)
    measures_removed: list[str] = field(default_factory=list)
    measures_changed: list[str] = field(default_factory=list)
    rating_before: str = ""
    rating_after: str = ""

    @property
    def rating_changed(self) -> bool:
        return self.rating_before != self.rating_after

    @property
    def is_empty(self) -> bool:
        return not (self.answers or self.gaps_opened or self.gaps_closed or self.measures_added
                    or self.measures_removed or self.measures_changed or self.rating_changed)


def _label(answer: Answer | None) -> str:
    return answer.get_value_display() if answer is not None and answer.value else "Not asked"


def _measure_key(measure: ControlMeasure) -> tuple[str, str, str]:
    return (measure.kind, measure.description.lower(), measure.owner_agency.lower())


def assessment_diff(before: Assessment, after: Assessment) -> AssessmentDiff:
    """Compare two assessments by factor code, so a catalogue change does not hide a difference.

    Both assessments are expected with answers and control measures prefetched.
    """
    diff = AssessmentDiff(rating_before=before.get_rating_display(), rating_after=after.get_rating_display())
    old = {answer.code: answer for answer in before.answers.all()}
    new = {answer.code: answer for answer in after.answers.all()}
    for code in list(new) + [code for code in old if code not in new]:
        was, now = old.get(code), new.get(code)
        question = (now or was).question
        if (was.value if was else "") != (now.value if now else ""):
            diff.answers.append(AnswerChange(question, _label(was), _label(now)))
        if now is not None and now.is_gap and not (was is not None and was.is_gap):
            diff.gaps_opened.append(question)
        if was is not None and was.is_gap and not (now is not None and now.is_gap):
            diff.gaps_closed.append(question)
    old_measures = {_measure_key(m): m for m in before.control_measures.all()}
    new_measures = {_measure_key(m): m for m in after.control_measures.all()}
    for key, measure in new_measures.items():
        if key not in old_measures:
            diff.measures_added.append(measure.label)
        elif old_measures[key].status != measure.status:
            diff.measures_changed.append(f"{measure.label}: {old_measures[key].get_status_display().lower()} "
                                         f"→ {measure.get_status_display().lower()}")
    diff.measures_removed = [m.label for key, m in old_measures.items() if key not in new_measures]
    return diff
