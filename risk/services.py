"""Every write of the CRAM: catalogue editions, assessments, checks and sign-offs.

Each function is one transaction, takes the acting officer and the clock, and keeps the
referral's risk summary (rating, gaps, unmanaged risks, due dates) in step.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Prefetch
from django.utils import timezone

from cram_site.calendar import LONDON
from cram_site.models import Clock, Officer
from cram_site.timescales import due_after
from referrals.models import CaseLogKind, Referral
from referrals.services import action_create, case_log_append

from .catalogue import DEFAULT_CATALOGUE
from .matrix import suggested_rating
from .models import (
    Answer,
    AnswerValue,
    Assessment,
    AssessmentKind,
    AssessmentStatus,
    CatalogueVersion,
    ControlMeasure,
    MeasureStatus,
    PlannedAction,
    RiskFactor,
    SignOff,
    SignOffDecision,
    SystemsCheck,
)


class StaleDraftError(ValidationError):
    """The draft changed (or was completed) since this officer opened it."""


# --- The catalogue -----------------------------------------------------------------------------

def catalogue_current(*, now: dt.datetime | None = None) -> CatalogueVersion:
    """The newest catalogue edition; the default one is made if there is none yet."""
    version = CatalogueVersion.objects.order_by("-number").first()
    if version is not None:
        return version
    with transaction.atomic():
        version = CatalogueVersion.objects.create(number=1, created_at=now or timezone.now(),
                                                  note="Default catalogue")
        positions: dict[str, int] = {}
        factors = []
        for code, section, question, help_text, weight, contextual, check in DEFAULT_CATALOGUE:
            positions[section] = positions.get(section, 0) + 1
            factors.append(RiskFactor(version=version, code=code, section=section, position=positions[section],
                                      question=question, help_text=help_text, weight=weight,
                                      contextual=contextual, closing_check=check))
        RiskFactor.objects.bulk_create(factors)
    return version


@dataclass(frozen=True)
class FactorFields:
    section: str
    question: str
    help_text: str = ""
    weight: int = 1
    contextual: bool = False
    closing_check: str = ""


def catalogue_revise(*, actor: Officer, now: dt.datetime, note: str,
                     changes: dict[str, FactorFields | None] | None = None,
                     additions: dict[str, FactorFields] | None = None) -> CatalogueVersion:
    """Make a new catalogue edition from the current one: factors changed, retired (None) or added.

    Assessments already started or completed keep the edition and wording they have.
    """
    changes = changes or {}
    additions = additions or {}
    if not note.strip():
        raise ValidationError({"note": "Say what changed and why."})
    with transaction.atomic():
        current = catalogue_current(now=now)
        factors = list(current.factors.all())
        codes = {factor.code for factor in factors}
        unknown = set(changes) - codes
        if unknown:
            raise ValidationError(f"No factor with the code {', '.join(sorted(unknown))} in the catalogue.")
        clash = set(additions) & codes
        if clash:
            raise ValidationError({"code": f"A factor with the code {', '.join(sorted(clash))} already exists."})
        if not changes and not additions:
            raise ValidationError("Nothing was changed.")
        number = (CatalogueVersion.objects.aggregate(top=Max("number"))["top"] or 0) + 1
        version = CatalogueVersion.objects.create(number=number, created_at=now, created_by=actor, note=note.strip())
        rows = []
        for factor in factors:
            if factor.code in changes and changes[factor.code] is None:
                continue
            fields = changes.get(factor.code)
            rows.append(RiskFactor(
                version=version, code=factor.code, position=factor.position,
                section=fields.section if fields else factor.section,
                question=fields.question if fields else factor.question,
                help_text=fields.help_text if fields else factor.help_text,
                weight=fields.weight if fields else factor.weight,
                contextual=fields.contextual if fields else factor.contextual,
                closing_check=fields.closing_check if fields else factor.closing_check,
            ))
        last_position = max((row.position for row in rows), default=0)
        for offset, (code, fields) in enumerate(additions.items(), start=1):
            rows.append(RiskFactor(version=version, code=code, position=last_position + offset,
                                   section=fields.section, question=fields.question, help_text=fields.help_text,
                                   weight=fields.weight, contextual=fields.contextual,
                                   closing_check=fields.closing_check))
        RiskFactor.objects.bulk_create(rows)
    return version


# --- Reading an assessment -------------------------------------------------------------------------

def unmanaged_risks(answers: Iterable[Answer], measures: Iterable[ControlMeasure]) -> list[Answer]:
    """Present risk factors that no active control measure manages."""
    managed = {code for measure in measures if measure.status == MeasureStatus.ACTIVE
               for code in measure.factor_codes}
    return [answer for answer in answers if answer.is_present_risk and answer.code not in managed]


def open_gaps(answers: Iterable[Answer], closed_codes: set[str] = frozenset()) -> list[Answer]:
    """"Not known" answers not yet answered by a systems check."""
    return [answer for answer in answers if answer.is_gap and answer.code not in closed_codes]


def gaps_closed_by_checks(assessment: Assessment) -> set[str]:
    """Codes of the assessment's gaps that a systems check has since answered."""
    if not assessment.is_completed:
        return set()
    return set(Answer.objects.filter(assessment=assessment, closed_by_checks__isnull=False)
               .values_list("code", flat=True))


def assessment_for_page(referral: Referral, number: int) -> Assessment:
    """An assessment with everything its page shows, in a fixed number of queries."""
    return (Assessment.objects.filter(referral=referral, number=number)
            .select_related("catalogue_version", "created_by", "completed_by", "signoff", "signoff__supervisor")
            .prefetch_related(
                Prefetch("answers", queryset=Answer.objects.prefetch_related("closed_by_checks")
                         .order_by("section", "position", "pk")),
                "control_measures",
                Prefetch("planned_actions", queryset=PlannedAction.objects.select_related("owner", "action")),
            ).get())


# --- Starting, saving and completing ---------------------------------------------------------------

def assessment_start(*, referral: Referral, kind: str, actor: Officer, now: dt.datetime) -> Assessment:
    """Open a draft, pre-filled from the last completed assessment of the referral."""
    if kind not in AssessmentKind.values:
        raise ValidationError({"kind": "Choose the kind of assessment."})
    with transaction.atomic():
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        if locked.assessments.filter(status=AssessmentStatus.DRAFT).exists():
            raise ValidationError("A draft CRAM is already open on this referral: continue that one.")
        previous = locked.assessments.completed().order_by("-number").first()
        if previous is None and kind != AssessmentKind.INITIAL:
            raise ValidationError({"kind": "The first CRAM of a referral is the initial assessment."})
        if previous is not None and kind == AssessmentKind.INITIAL:
            raise ValidationError({"kind": "The initial CRAM is done: start a review, pre-conference, "
                                           "change of circumstances or closure assessment."})
        catalogue = catalogue_current(now=now)
        number = (locked.assessments.aggregate(top=Max("number"))["top"] or 0) + 1
        try:
            with transaction.atomic():
                assessment = Assessment.objects.create(
                    referral=referral, number=number, kind=kind, catalogue_version=catalogue, previous=previous,
                    created_by=actor, created_at=now, updated_at=now,
                    decisions=previous.decisions if previous else "",
                )
        except IntegrityError as error:
            raise ValidationError("A draft CRAM is already open on this referral: continue that one.") from error
        _prefill(assessment, catalogue, previous)
    return assessment


def _prefill(assessment: Assessment, catalogue: CatalogueVersion, previous: Assessment | None) -> None:
    earlier: dict[str, Answer] = {}
    closed: dict[str, SystemsCheck] = {}
    if previous is not None:
        earlier = {answer.code: answer for answer in previous.answers.all()}
        for answer in previous.answers.filter(closed_by_checks__isnull=False).prefetch_related("closed_by_checks"):
            closed[answer.code] = max(answer.closed_by_checks.all(), key=lambda check: check.checked_at)
    rows = []
    for factor in catalogue.factors.order_by("section", "position", "pk"):
        before = earlier.get(factor.code)
        value, note, source = "", "", ""
        if before is not None:
            value, note, source = before.value, before.note, before.source
        check = closed.get(factor.code)
        if check is not None:
            # The gap was answered by a check since: the officer answers afresh, with its result to hand.
            value = ""
            note = (f"{check.get_system_display()} check {check.checked_at.astimezone(LONDON):%d/%m/%Y}: "
                    f"{check.result}")
            source = check.get_system_display()
        rows.append(Answer(assessment=assessment, factor=factor, code=factor.code, section=factor.section,
                           position=factor.position, question=factor.question, weight=factor.weight,
                           contextual=factor.contextual, closing_check=factor.closing_check,
                           value=value, note=note, source=source))
    Answer.objects.bulk_create(rows)
    if previous is not None:
        codes = {row.code for row in rows}
        ControlMeasure.objects.bulk_create([
            ControlMeasure(assessment=assessment, kind=measure.kind, description=measure.description,
                           owner_agency=measure.owner_agency, status=measure.status,
                           factor_codes=[code for code in measure.factor_codes if code in codes])
            for measure in previous.control_measures.exclude(status=MeasureStatus.ENDED)
        ])
    assessment.suggested_rating = suggested_rating(rows)
    Assessment.objects.filter(pk=assessment.pk).update(suggested_rating=assessment.suggested_rating)


@dataclass(frozen=True)
class AnswerInput:
    value: str
    note: str = ""
    source: str = ""


@dataclass(frozen=True)
class MeasureInput:
    kind: str
    owner_agency: str
    status: str
    factor_codes: Sequence[str]
    description: str = ""


@dataclass(frozen=True)
class PlannedActionInput:
    description: str
    owner: Officer
    due_at: dt.datetime


@dataclass(frozen=True)
class AssessmentInput:
    """Everything the assessment form submits."""

    revision: int
    answers: dict[str, AnswerInput]
    measures: list[MeasureInput] = field(default_factory=list)
    rating: str = ""
    rating_rationale: str = ""
    decisions: str = ""
    planned_actions: list[PlannedActionInput] = field(default_factory=list)


def assessment_problems(assessment: Assessment, data: AssessmentInput, *, completing: bool,
                        now: dt.datetime) -> dict[str, list[str]]:
    """What stops this input being saved (or, when completing, completed), by field."""
    problems: dict[str, list[str]] = {}

    def add(key: str, message: str) -> None:
        problems.setdefault(key, []).append(message)

    answers = list(assessment.answers.all())
    known_codes = {answer.code for answer in answers}
    for code, given in data.answers.items():
        if code not in known_codes:
            add("__all__", "The form no longer matches this assessment; reload it.")
        elif given.value and given.value not in AnswerValue.values:
            add(f"answer-{code}", "Answer yes, no or not known.")
    for index, measure in enumerate(data.measures):
        if not measure.factor_codes:
            add(f"measure-{index}", "Link the control measure to the risk factor(s) it manages.")
        elif set(measure.factor_codes) - known_codes:
            add(f"measure-{index}", "The control measure names a factor that is not on this assessment.")
        if not measure.owner_agency.strip():
            add(f"measure-{index}", "Say which agency owns the control measure.")
    for index, planned in enumerate(data.planned_actions):
        if not planned.description.strip():
            add(f"action-{index}", "Say what must be done.")
        if planned.due_at < now:
            add(f"action-{index}", "The due date must not be in the past.")
    if completing:
        for answer in answers:
            given = data.answers.get(answer.code)
            if given is None or not given.value:
                add(f"answer-{answer.code}", "Answer this factor: yes, no or not known.")
        if not data.rating:
            add("rating", "Set the rating.")
        suggestion = suggested_rating(_answers_with(answers, data))
        if data.rating and data.rating != suggestion and not data.rating_rationale.strip():
            add("rating_rationale", "Give the rationale for a rating that differs from the suggested one.")
    return problems


def _answers_with(answers: Iterable[Answer], data: AssessmentInput) -> list[Answer]:
    """The answers as they would stand with the submitted values (unsaved copies)."""
    result = []
    for answer in answers:
        given = data.answers.get(answer.code)
        copy = Answer(code=answer.code, weight=answer.weight, contextual=answer.contextual,
                      value=given.value if given else answer.value)
        result.append(copy)
    return result


def assessment_save(*, assessment: Assessment, data: AssessmentInput, actor: Officer, now: dt.datetime,
                    complete: bool = False) -> Assessment:
    """Save a draft, or save and complete it. Nothing is stored if anything is wrong.

    The draft's revision is compared and swapped: if someone saved or completed it since this
    officer opened it, they are told, and what they typed is still on their form.
    """
    problems = assessment_problems(assessment, data, completing=complete, now=now)
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        claimed = Assessment.objects.filter(pk=assessment.pk, status=AssessmentStatus.DRAFT,
                                            revision=data.revision).update(revision=data.revision + 1,
                                                                           updated_at=now)
        if not claimed:
            current = Assessment.objects.get(pk=assessment.pk)
            if current.is_completed:
                raise StaleDraftError("This CRAM was completed by someone else while you were working on it. "
                                      "Your entries are below, not saved.")
            raise StaleDraftError("Someone else saved this draft while you were working on it. "
                                  "Your entries are below, not saved: reload to see theirs.")
        answers = list(assessment.answers.all())
        for answer in answers:
            given = data.answers.get(answer.code)
            if given is not None:
                answer.value, answer.note, answer.source = given.value, given.note.strip(), given.source.strip()
        Answer.objects.bulk_update(answers, ["value", "note", "source"])
        assessment.control_measures.all().delete()
        ControlMeasure.objects.bulk_create([
            ControlMeasure(assessment=assessment, kind=measure.kind, description=measure.description.strip(),
                           owner_agency=measure.owner_agency.strip(), status=measure.status,
                           factor_codes=list(dict.fromkeys(measure.factor_codes)))
            for measure in data.measures
        ])
        assessment.planned_actions.all().delete()
        planned = PlannedAction.objects.bulk_create([
            PlannedAction(assessment=assessment, description=item.description.strip(), owner=item.owner,
                          due_at=item.due_at)
            for item in data.planned_actions
        ])
        assessment.revision = data.revision + 1
        assessment.updated_at = now
        assessment.suggested_rating = suggested_rating(answers)
        assessment.rating = data.rating
        assessment.rating_rationale = data.rating_rationale.strip()
        assessment.decisions = data.decisions.strip()
        assessment.save(update_fields=["suggested_rating", "rating", "rating_rationale", "decisions"])
        if complete:
            _complete(assessment, answers, planned, actor=actor, now=now)
    return assessment


def _complete(assessment: Assessment, answers: list[Answer], planned: list[PlannedAction], *,
              actor: Officer, now: dt.datetime) -> None:
    referral = assessment.referral
    for item in planned:
        item.action = action_create(referral=referral, actor=actor, now=now, description=item.description,
                                    owner=item.owner, due_at=item.due_at)
    PlannedAction.objects.bulk_update(planned, ["action"])
    measures = list(assessment.control_measures.all())
    unmanaged = unmanaged_risks(answers, measures)
    gaps = open_gaps(answers)
    assessment.status = AssessmentStatus.COMPLETED
    assessment.completed_by = actor
    assessment.completed_by_label = actor.display_name
    assessment.completed_at = now
    assessment.next_review_due_at = due_after(team=referral.team_id, clock=Clock.CRAM_REVIEW, start=now)
    assessment.signoff_due_at = due_after(team=referral.team_id, clock=Clock.CRAM_SIGNOFF, start=now)
    assessment.save(update_fields=["status", "completed_by", "completed_by_label", "completed_at",
                                   "next_review_due_at", "signoff_due_at"])
    rating_text = f"rating {assessment.get_rating_display().upper()}"
    if assessment.rating_departs_from_suggestion:
        rating_text += (f" (matrix suggested {assessment.get_suggested_rating_display().lower()}; "
                        f"rationale: {assessment.rating_rationale})")
    case_log_append(
        referral=referral, kind=CaseLogKind.DECISION, actor=actor, now=now,
        text=(f"CRAM {assessment.number} ({assessment.get_kind_display().lower()}) completed: {rating_text}. "
              f"Intelligence gaps: {len(gaps)}. Unmanaged risks: {len(unmanaged)}"
              + (f" ({'; '.join(answer.question for answer in unmanaged)})" if unmanaged else "")
              + f". Next review due {assessment.next_review_due_at.astimezone(LONDON):%d/%m/%Y}; "
                f"sign-off due {assessment.signoff_due_at.astimezone(LONDON):%d/%m/%Y}."),
    )
    referral_risk_refresh(referral=referral)


def referral_risk_refresh(*, referral: Referral) -> Referral:
    """Bring the referral's risk summary up to date with its latest completed assessment."""
    current = (referral.assessments.completed().order_by("-number")
               .prefetch_related("answers__closed_by_checks", "control_measures").first())
    if current is None:
        return referral
    answers = list(current.answers.all())
    closed = {answer.code for answer in answers if answer.closed_by_checks.all()}
    unsigned = (referral.assessments.completed().filter(signoff__isnull=True)
                .order_by("signoff_due_at").values_list("signoff_due_at", flat=True).first())
    referral.rating = current.rating
    referral.gap_count = len(open_gaps(answers, closed))
    referral.unmanaged_risk_count = len(unmanaged_risks(answers, current.control_measures.all()))
    referral.cram_review_due_at = current.next_review_due_at
    referral.cram_signoff_due_at = unsigned
    referral.save(update_fields=["rating", "gap_count", "unmanaged_risk_count", "cram_review_due_at",
                                 "cram_signoff_due_at"])
    return referral


# --- Checks and sign-off ---------------------------------------------------------------------------

def systems_check_record(*, referral: Referral, actor: Officer, now: dt.datetime, system: str, result: str,
                         checked_at: dt.datetime, anything_new: bool, subject: str = "",
                         closes: Iterable[Answer] = ()) -> SystemsCheck:
    """Record a check of a system or agency; it may answer gaps of the current assessment."""
    if checked_at > now:
        raise ValidationError({"checked_at": "A check cannot be made in the future."})
    if not result.strip():
        raise ValidationError({"result": "Record what the check found, even if nothing."})
    closes = list(closes)
    current = referral.assessments.completed().order_by("-number").first()
    for answer in closes:
        if current is None or answer.assessment_id != current.pk or not answer.is_gap:
            raise ValidationError({"closes": "Only gaps of the current CRAM can be closed by a check."})
    with transaction.atomic():
        check = SystemsCheck.objects.create(
            referral=referral, system=system, subject=subject.strip(), checked_by=actor,
            checked_by_label=actor.display_name, checked_at=checked_at, recorded_at=now, result=result.strip(),
            anything_new=anything_new,
        )
        check.closes_gaps.set(closes)
        text = f"{check.get_system_display()} check"
        if subject.strip():
            text += f" on {subject.strip()}"
        text += f": {result.strip()}" + (" New information since the previous check." if anything_new else "")
        if closes:
            text += " Closes the gap(s): " + "; ".join(answer.question for answer in closes)
        case_log_append(referral=referral, kind=CaseLogKind.RESEARCH, actor=actor, now=now,
                        occurred_at=checked_at, text=text)
        referral_risk_refresh(referral=referral)
    return check


@dataclass(frozen=True)
class SignOffInput:
    decision: str
    rating_justified: str
    gaps_addressed: str
    measures_adequate: str
    actions_timely: str
    comments: str


def assessment_sign_off(*, assessment: Assessment, actor: Officer, now: dt.datetime,
                        data: SignOffInput) -> SignOff:
    """A supervisor agrees a completed assessment or directs changes; written to the case log."""
    if not data.comments.strip():
        raise ValidationError({"comments": "Give your comments on the assessment."})
    with transaction.atomic():
        locked = Assessment.objects.select_for_update().select_related("referral").get(pk=assessment.pk)
        if not locked.is_completed:
            raise ValidationError("Only a completed CRAM can be signed off.")
        if SignOff.objects.filter(assessment=locked).exists():
            raise ValidationError("This CRAM has already been signed off.")
        if actor.team_id != locked.referral.team_id and not actor.force_wide:
            raise ValidationError("A CRAM is signed off by a supervisor of the referral's own team.")
        if locked.completed_by_id == actor.pk:
            raise ValidationError("A CRAM is signed off by a supervisor other than the officer who completed it.")
        signoff = SignOff.objects.create(
            assessment=locked, supervisor=actor, supervisor_label=actor.display_name, signed_at=now,
            decision=data.decision, rating_justified=data.rating_justified, gaps_addressed=data.gaps_addressed,
            measures_adequate=data.measures_adequate, actions_timely=data.actions_timely,
            comments=data.comments.strip(),
        )
        on_time = now <= locked.signoff_due_at if locked.signoff_due_at else True
        case_log_append(
            referral=locked.referral, kind=CaseLogKind.SUPERVISION, actor=actor, now=now,
            text=(f"CRAM {locked.number} signed off: {signoff.get_decision_display().lower()}"
                  f"{'' if on_time else ' (after the sign-off date)'}. Quality: rating justified "
                  f"{signoff.get_rating_justified_display().lower()}, gaps addressed "
                  f"{signoff.get_gaps_addressed_display().lower()}, control measures adequate "
                  f"{signoff.get_measures_adequate_display().lower()}, actions timely "
                  f"{signoff.get_actions_timely_display().lower()}. {signoff.comments}"),
        )
        if data.decision == SignOffDecision.CHANGES_DIRECTED and locked.completed_by is not None:
            action_create(referral=locked.referral, actor=actor, now=now, owner=locked.completed_by,
                          description=f"Revise the CRAM as directed at sign-off: {signoff.comments}"[:300],
                          due_at=due_after(team=locked.referral.team_id, clock=Clock.CRAM_SIGNOFF, start=now))
        referral_risk_refresh(referral=locked.referral)
    return signoff
