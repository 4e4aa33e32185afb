"""The Child Risk Assessment Matrix (SPEC §4): a versioned catalogue of risk factors, and
assessments of a referral against it, each immutable once completed."""
from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from referrals.models import Action, Referral


class Section(models.TextChoices):
    CHILD = "child", "Child (victim)"
    SUSPECT = "suspect", "Suspect(s)"
    HOUSEHOLD = "household", "Household"


class CheckSystem(models.TextChoices):
    PNC = "pnc", "PNC"
    CRIS = "cris", "CRIS"
    MERLIN = "merlin", "MERLIN"
    VISOR = "visor", "ViSOR"
    INI_PND = "ini_pnd", "INI / PND"
    SOCIAL_CARE = "social_care", "Children's social care"
    HEALTH = "health", "Health"
    EDUCATION = "education", "Education"
    OTHER = "other", "Other"


class Rating(models.TextChoices):
    STANDARD = "standard", "Standard"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


# --- The catalogue ---------------------------------------------------------------------------------

class CatalogueVersion(models.Model):
    """One edition of the risk-factor catalogue. A change makes a new edition; old assessments
    keep the wording they were answered with (their answers carry a copy of it)."""

    number = models.PositiveIntegerField(unique=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"Catalogue version {self.number}"


class RiskFactor(models.Model):
    version = models.ForeignKey(CatalogueVersion, on_delete=models.PROTECT, related_name="factors")
    # Stable across versions, so a review can be compared with the assessment before it.
    code = models.SlugField(max_length=60)
    section = models.CharField(max_length=10, choices=Section.choices)
    position = models.PositiveSmallIntegerField(default=0)
    question = models.CharField(max_length=300)
    help_text = models.TextField(blank=True)
    weight = models.PositiveSmallIntegerField(default=1)
    # Recorded and shown, but never raising the rating by itself (disability, home education…).
    contextual = models.BooleanField(default=False)
    closing_check = models.CharField("check that would answer it", max_length=20, choices=CheckSystem.choices,
                                     blank=True)

    class Meta:
        ordering = ["version", "section", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["version", "code"], name="factor_code_once_per_version")]

    def __str__(self) -> str:
        return self.question


# --- Assessments ---------------------------------------------------------------------------------

class AssessmentKind(models.TextChoices):
    INITIAL = "initial", "Initial"
    REVIEW = "review", "42-day review"
    PRE_CONFERENCE = "pre_conference", "Pre-conference"
    CHANGE = "change", "Change of circumstances"
    CLOSURE = "closure", "Closure"


class AssessmentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    COMPLETED = "completed", "Completed"


class AssessmentQuerySet(models.QuerySet):
    def completed(self) -> AssessmentQuerySet:
        return self.filter(status=AssessmentStatus.COMPLETED)

    def awaiting_signoff(self) -> AssessmentQuerySet:
        # Queue "CRAMs awaiting sign-off": partial index assess_awaiting_signoff_idx.
        return self.filter(status=AssessmentStatus.COMPLETED, signoff__isnull=True)


class Assessment(models.Model):
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="assessments")
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=AssessmentKind.choices)
    status = models.CharField(max_length=10, choices=AssessmentStatus.choices, default=AssessmentStatus.DRAFT)
    catalogue_version = models.ForeignKey(CatalogueVersion, on_delete=models.PROTECT, related_name="+")
    previous = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    suggested_rating = models.CharField(max_length=10, choices=Rating.choices, blank=True)
    rating = models.CharField(max_length=10, choices=Rating.choices, blank=True)
    rating_rationale = models.TextField(blank=True)
    decisions = models.TextField("decisions", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    # Bumped on every save of a draft; a save that read an older value is refused (compare and swap).
    revision = models.PositiveIntegerField(default=0)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    completed_by_label = models.CharField(max_length=150, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    next_review_due_at = models.DateTimeField(null=True, blank=True)
    signoff_due_at = models.DateTimeField(null=True, blank=True)

    objects = AssessmentQuerySet.as_manager()

    class Meta:
        ordering = ["referral", "number"]
        constraints = [
            models.UniqueConstraint(fields=["referral", "number"], name="assessment_number_once"),
            # At most one draft per referral: a second reviewer is told to continue the first.
            models.UniqueConstraint(fields=["referral"], condition=Q(status="draft"), name="assessment_one_draft"),
        ]
        indexes = [
            models.Index(fields=["completed_at"], name="assess_awaiting_signoff_idx",
                         condition=Q(status="completed")),
            # Performance measures "CRAMs reviewed on time" and "sign-offs on time": reviews and
            # sign-offs that fell due in a month.
            models.Index(fields=["next_review_due_at"], name="assess_review_due_idx",
                         condition=Q(status="completed")),
            models.Index(fields=["signoff_due_at"], name="assess_signoff_due_idx",
                         condition=Q(status="completed")),
        ]
        triggers = [
            # A completed assessment never changes, and no assessment is ever deleted.
            pgtrigger.Protect(name="assessment_completed_frozen", operation=pgtrigger.Update,
                              condition=pgtrigger.Q(old__status="completed")),
            pgtrigger.Protect(name="assessment_no_delete", operation=pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} CRAM {self.number} of {self.referral_id}"

    def get_absolute_url(self) -> str:
        return reverse("risk:assessment", args=[self.referral.urn, self.number])

    @property
    def audit_referral_id(self) -> int:
        return self.referral_id

    @property
    def is_completed(self) -> bool:
        return self.status == AssessmentStatus.COMPLETED

    @property
    def rating_departs_from_suggestion(self) -> bool:
        return bool(self.rating) and self.rating != self.suggested_rating


class AnswerValue(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    NOT_KNOWN = "not_known", "Not known"


# The rows of an assessment refuse change once it is completed: checked against the parent row.
def _frozen_with_parent(table: str, name: str) -> pgtrigger.Trigger:
    return pgtrigger.Trigger(
        name=name,
        operation=pgtrigger.Update | pgtrigger.Delete | pgtrigger.Insert,
        when=pgtrigger.Before,
        func=f"""
            IF EXISTS (SELECT 1 FROM risk_assessment
                       WHERE id = COALESCE(OLD.assessment_id, NEW.assessment_id) AND status = 'completed') THEN
                RAISE EXCEPTION 'A completed assessment cannot be changed ({table})';
            END IF;
            IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
            RETURN NEW;
        """,
    )


class Answer(models.Model):
    """One factor answered, carrying the factor's wording as it was when answered."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="answers")
    factor = models.ForeignKey(RiskFactor, on_delete=models.PROTECT, related_name="+")
    code = models.SlugField(max_length=60)
    section = models.CharField(max_length=10, choices=Section.choices)
    position = models.PositiveSmallIntegerField(default=0)
    question = models.CharField(max_length=300)
    weight = models.PositiveSmallIntegerField()
    contextual = models.BooleanField()
    closing_check = models.CharField(max_length=20, choices=CheckSystem.choices, blank=True)
    value = models.CharField(max_length=10, choices=AnswerValue.choices, blank=True)
    note = models.TextField(blank=True)
    source = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["assessment", "section", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["assessment", "code"], name="answer_once_per_factor")]
        triggers = [_frozen_with_parent("risk_answer", "answer_frozen_when_completed")]

    def __str__(self) -> str:
        return f"{self.question}: {self.get_value_display() or 'unanswered'}"

    @property
    def audit_referral_id(self) -> int | None:
        return getattr(self.assessment, "referral_id", None)

    @property
    def is_present_risk(self) -> bool:
        return self.value == AnswerValue.YES and not self.contextual

    @property
    def is_gap(self) -> bool:
        return self.value == AnswerValue.NOT_KNOWN


class MeasureKind(models.TextChoices):
    CHILD_PROTECTION_PLAN = "cp_plan", "Child protection plan"
    STRATEGY_MEETING = "strategy_meeting", "Strategy meeting"
    BAIL_CONDITIONS = "bail_conditions", "Bail conditions"
    SUSPECT_OUT = "suspect_out", "Suspect out of the household"
    SUPERVISED_CONTACT = "supervised_contact", "Supervised contact"
    POLICE_PROTECTION = "police_protection", "Police protection"
    EPO = "epo", "Emergency protection order"
    SAFETY_PLAN = "safety_plan", "Safety plan with the non-abusing carer"
    OTHER = "other", "Other"


class MeasureStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACTIVE = "active", "Active"
    ENDED = "ended", "Ended"


class ControlMeasure(models.Model):
    """What manages a present risk: an active measure linked to a factor means it is managed."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="control_measures")
    kind = models.CharField(max_length=20, choices=MeasureKind.choices)
    description = models.CharField(max_length=300, blank=True)
    owner_agency = models.CharField("owner agency", max_length=120)
    status = models.CharField(max_length=10, choices=MeasureStatus.choices, default=MeasureStatus.ACTIVE)
    # Codes of the factors it manages (stable across versions, so it carries forward to a review).
    factor_codes = models.JSONField(default=list)

    class Meta:
        ordering = ["assessment", "pk"]
        triggers = [_frozen_with_parent("risk_controlmeasure", "measure_frozen_when_completed")]

    def __str__(self) -> str:
        return self.label

    @property
    def audit_referral_id(self) -> int | None:
        return getattr(self.assessment, "referral_id", None)

    @property
    def label(self) -> str:
        name = self.get_kind_display() if self.kind != MeasureKind.OTHER else "Other"
        return f"{name}: {self.description}" if self.description else name

    @property
    def is_active(self) -> bool:
        return self.status == MeasureStatus.ACTIVE


class PlannedAction(models.Model):
    """An action decided in the assessment; it becomes a case action when the assessment completes."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="planned_actions")
    description = models.CharField(max_length=300)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    due_at = models.DateTimeField()
    action = models.OneToOneField(Action, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["assessment", "due_at", "pk"]
        triggers = [_frozen_with_parent("risk_plannedaction", "planned_action_frozen_when_completed")]

    def __str__(self) -> str:
        return self.description


# --- Checks and sign-off -------------------------------------------------------------------------

class SystemsCheck(models.Model):
    """A researcher's check of a police system or partner agency. It may close intelligence gaps."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="systems_checks")
    system = models.CharField(max_length=20, choices=CheckSystem.choices)
    subject = models.CharField("who or what was checked", max_length=200, blank=True)
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    checked_by_label = models.CharField(max_length=150)
    checked_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    result = models.TextField()
    anything_new = models.BooleanField("anything new since the previous check")
    # The intelligence gaps (not-known answers of a completed assessment) this check answered.
    closes_gaps = models.ManyToManyField(Answer, blank=True, related_name="closed_by_checks")

    class Meta:
        ordering = ["-checked_at", "-pk"]
        indexes = [
            models.Index(fields=["referral", "-checked_at"], name="check_referral_time_idx"),
            # Performance measures "systems checks" and "intelligence items": checks made in a month.
            models.Index(fields=["checked_at"], name="check_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_system_display()} check, {self.checked_at:%d/%m/%Y}"

    @property
    def audit_referral_id(self) -> int:
        return self.referral_id


class Quality(models.TextChoices):
    YES = "yes", "Yes"
    PARTLY = "partly", "Partly"
    NO = "no", "No"


class SignOffDecision(models.TextChoices):
    AGREED = "agreed", "Agreed"
    CHANGES_DIRECTED = "changes_directed", "Changes directed"


class SignOff(models.Model):
    """A supervisor's sign-off of a completed assessment, with a structured quality assessment."""

    assessment = models.OneToOneField(Assessment, on_delete=models.PROTECT, related_name="signoff")
    supervisor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    supervisor_label = models.CharField(max_length=150)
    signed_at = models.DateTimeField()
    decision = models.CharField(max_length=20, choices=SignOffDecision.choices)
    rating_justified = models.CharField("rating justified?", max_length=10, choices=Quality.choices)
    gaps_addressed = models.CharField("gaps addressed?", max_length=10, choices=Quality.choices)
    measures_adequate = models.CharField("control measures adequate?", max_length=10, choices=Quality.choices)
    actions_timely = models.CharField("actions timely?", max_length=10, choices=Quality.choices)
    comments = models.TextField()

    class Meta:
        # Performance measure "sign-off quality ratings": sign-offs made in a month.
        indexes = [models.Index(fields=["signed_at"], name="signoff_time_idx")]
        triggers = [pgtrigger.Protect(name="signoff_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"Sign-off of {self.assessment}"

    @property
    def audit_referral_id(self) -> int | None:
        return getattr(self.assessment, "referral_id", None)

    @property
    def quality_score(self) -> int:
        """0–8: two points for each "yes", one for each "partly"."""
        points = {Quality.YES: 2, Quality.PARTLY: 1, Quality.NO: 0}
        return sum(points[value] for value in (self.rating_justified, self.gaps_addressed,
                                               self.measures_adequate, self.actions_timely))
