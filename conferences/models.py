"""Multi-agency meetings, attendance, strategy records, police reports for conferences, medical
examinations and police protection (SPEC §3, §5, §6)."""
from __future__ import annotations

import datetime as dt

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from cram_site.models import Officer, Rank, Team
from referrals.models import Action, Person, Referral
from risk.models import Assessment


class MeetingKind(models.TextChoices):
    STRATEGY_DISCUSSION = "strategy_discussion", "Strategy discussion"
    STRATEGY_MEETING = "strategy_meeting", "Strategy meeting"
    INITIAL_CONFERENCE = "initial_conference", "Initial child protection conference"
    REVIEW_CONFERENCE = "review_conference", "Review child protection conference"
    CORE_GROUP = "core_group", "Core group"
    MAPPA = "mappa", "MAPPA meeting"
    MULTI_AGENCY = "multi_agency", "Multi-agency meeting"


STRATEGY_KINDS = frozenset({MeetingKind.STRATEGY_DISCUSSION, MeetingKind.STRATEGY_MEETING})
CONFERENCE_KINDS = frozenset({MeetingKind.INITIAL_CONFERENCE, MeetingKind.REVIEW_CONFERENCE})


class MeetingStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    HELD = "held", "Held"
    CANCELLED = "cancelled", "Cancelled"


class ConferenceOutcome(models.TextChoices):
    PLAN_MADE = "plan_made", "Child protection plan made"
    PLAN_CONTINUED = "plan_continued", "Plan continued"
    PLAN_ENDED = "plan_ended", "Plan ended"
    NO_PLAN = "no_plan", "No plan"


class PlanCategory(models.TextChoices):
    PHYSICAL = "physical", "Physical abuse"
    SEXUAL = "sexual", "Sexual abuse"
    EMOTIONAL = "emotional", "Emotional abuse"
    NEGLECT = "neglect", "Neglect"
    MULTIPLE = "multiple", "Multiple categories"


# Ranks that count as a police supervisor at a strategy meeting: sergeant or above.
SUPERVISOR_RANKS = frozenset({Rank.PS, Rank.DS, Rank.DI, Rank.DCI})


class MeetingQuerySet(models.QuerySet):
    def visible_to(self, user: Officer) -> MeetingQuerySet:
        """The one visibility rule: a meeting is seen by whoever may see its referral's team."""
        if not user.is_authenticated:
            return self.none()
        if user.force_wide or user.is_superuser:
            return self.all()
        return self.filter(team_id=user.team_id)

    def upcoming(self, now: dt.datetime) -> MeetingQuerySet:
        # The conference diary: meeting_team_date_idx.
        return self.filter(status=MeetingStatus.SCHEDULED, starts_at__gte=now)

    def minutes_outstanding(self, now: dt.datetime) -> MeetingQuerySet:
        # Queue "minutes outstanding": partial index meeting_minutes_idx.
        return self.filter(status=MeetingStatus.HELD, minutes_received_at__isnull=True)


class Meeting(models.Model):
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="meetings")
    # The referral's team, held here too so the diary's index covers it.
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=30, choices=MeetingKind.choices)
    children = models.ManyToManyField(Person, related_name="meetings", blank=True)
    starts_at = models.DateTimeField("date and time")
    place = models.CharField(max_length=200)
    chair_name = models.CharField("chair", max_length=120)
    chair_agency = models.CharField("chair's agency", max_length=120)
    status = models.CharField(max_length=10, choices=MeetingStatus.choices, default=MeetingStatus.SCHEDULED)
    outcome = models.CharField(max_length=20, choices=ConferenceOutcome.choices, blank=True)
    plan_category = models.CharField("category of plan", max_length=20, choices=PlanCategory.choices, blank=True)
    police_attendee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="meetings_to_attend", verbose_name="police attendee")
    minutes_due_at = models.DateTimeField(null=True, blank=True)
    minutes_received_at = models.DateTimeField(null=True, blank=True)
    # The police report and pre-conference CRAM are due this long before a conference.
    report_due_at = models.DateTimeField(null=True, blank=True)
    # Attendance flags (SPEC §1), kept by the services as attendance is recorded, so they can be counted.
    flag_no_police_supervisor = models.BooleanField(default=False)
    flag_no_paediatrician = models.BooleanField(default=False)
    flag_no_police = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    held_at = models.DateTimeField(null=True, blank=True)
    cancelled_reason = models.CharField(max_length=300, blank=True)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [
            # The conference diary: a team's meetings by date.
            models.Index(fields=["team", "starts_at"], name="meeting_team_date_idx"),
            # Queue "minutes outstanding".
            models.Index(fields=["team", "minutes_due_at"], name="meeting_minutes_idx",
                         condition=Q(status="held", minutes_received_at__isnull=True)),
            # Queue "reports due for conferences".
            models.Index(fields=["team", "report_due_at"], name="meeting_report_due_idx",
                         condition=Q(status="scheduled", report_due_at__isnull=False)),
            # Performance measure "minutes received on time": every meeting whose minutes fell due in a month.
            models.Index(fields=["team", "minutes_due_at"], name="meeting_minutes_due_idx",
                         condition=Q(minutes_due_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}, {self.starts_at:%d/%m/%Y}"

    def get_absolute_url(self) -> str:
        return reverse("conferences:meeting", args=[self.referral.urn, self.pk])

    @property
    def audit_referral_id(self) -> int:
        return self.referral_id

    @property
    def is_conference(self) -> bool:
        return self.kind in CONFERENCE_KINDS

    @property
    def is_strategy(self) -> bool:
        return self.kind in STRATEGY_KINDS

    @property
    def flags(self) -> list[str]:
        names = []
        if self.flag_no_police_supervisor:
            names.append("No police supervisor (sergeant or above) attended")
        if self.flag_no_paediatrician:
            names.append("No examining paediatrician at a strategy meeting about physical injury")
        if self.flag_no_police:
            names.append("No police attendance at the conference")
        return names

    def minutes_late(self, now: dt.datetime) -> bool:
        return (self.status == MeetingStatus.HELD and self.minutes_received_at is None
                and self.minutes_due_at is not None and self.minutes_due_at < now)


class AttendanceStatus(models.TextChoices):
    INVITED = "invited", "Invited"
    ATTENDED = "attended", "Attended"
    APOLOGIES = "apologies", "Apologies"
    ABSENT = "absent", "Absent"


class KeyRole(models.TextChoices):
    NONE = "", "—"
    EXAMINING_PAEDIATRICIAN = "examining_paediatrician", "Examining paediatrician"
    SOCIAL_WORKER = "social_worker", "Allocated social worker"
    HEALTH_VISITOR = "health_visitor", "Health visitor"
    TEACHER = "teacher", "Designated teacher"


class Attendance(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    name = models.CharField(max_length=120)
    agency = models.CharField(max_length=120)
    designation = models.CharField("role or designation", max_length=120, blank=True)
    is_police = models.BooleanField("police", default=False)
    rank = models.CharField(max_length=8, choices=Rank.choices, blank=True)
    key_role = models.CharField("key professional", max_length=30, choices=KeyRole.choices, blank=True)
    status = models.CharField(max_length=10, choices=AttendanceStatus.choices, default=AttendanceStatus.INVITED)

    class Meta:
        ordering = ["meeting", "-is_police", "name"]

    def __str__(self) -> str:
        rank = f"{self.rank} " if self.rank else ""
        return f"{rank}{self.name} ({self.agency})"

    @property
    def audit_referral_id(self) -> int | None:
        return getattr(self.meeting, "referral_id", None)


class StrategyRecord(models.Model):
    """Decisions and agreed actions of a strategy meeting, countersigned by its chair.

    Once countersigned it never changes (a PostgreSQL trigger refuses it as well)."""

    meeting = models.OneToOneField(Meeting, on_delete=models.PROTECT, related_name="strategy_record")
    decisions = models.TextField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    countersigned_by = models.CharField("countersigned by (chair)", max_length=120, blank=True)
    countersigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        triggers = [
            pgtrigger.Protect(name="strategy_record_countersigned_frozen",
                              operation=pgtrigger.Update | pgtrigger.Delete,
                              condition=pgtrigger.Q(old__countersigned_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"Strategy record of {self.meeting}"

    @property
    def audit_referral_id(self) -> int | None:
        return getattr(self.meeting, "referral_id", None)

    @property
    def is_countersigned(self) -> bool:
        return self.countersigned_at is not None


class AgreedAction(models.Model):
    """An action agreed at a strategy meeting; it becomes a case action with an owner and due date."""

    record = models.ForeignKey(StrategyRecord, on_delete=models.PROTECT, related_name="agreed_actions")
    description = models.CharField(max_length=300)
    owner_agency = models.CharField(max_length=120)
    # The officer who owns it on the case (and chases a partner agency for it), and when it is due.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    due_at = models.DateTimeField()
    action = models.OneToOneField(Action, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["record", "pk"]
        triggers = [
            pgtrigger.Trigger(
                name="agreed_action_frozen_when_countersigned",
                operation=pgtrigger.Update | pgtrigger.Delete | pgtrigger.Insert,
                when=pgtrigger.Before,
                func="""
                    IF EXISTS (SELECT 1 FROM conferences_strategyrecord
                               WHERE id = COALESCE(OLD.record_id, NEW.record_id)
                               AND countersigned_at IS NOT NULL) THEN
                        RAISE EXCEPTION 'A countersigned strategy record cannot be changed';
                    END IF;
                    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
                    RETURN NEW;
                """,
            ),
        ]

    def __str__(self) -> str:
        return self.description


class ReportStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"


class PoliceReport(models.Model):
    """The police report for a child protection conference, prepared by the PCLO."""

    meeting = models.OneToOneField(Meeting, on_delete=models.PROTECT, related_name="police_report")
    status = models.CharField(max_length=10, choices=ReportStatus.choices, default=ReportStatus.DRAFT)
    summary_of_concerns = models.TextField("summary of police concerns", blank=True)
    police_involvement = models.TextField("police involvement since the last conference", blank=True)
    analysis = models.TextField("analysis of risk", blank=True)
    recommendations = models.TextField(blank=True)
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    pre_conference_assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, null=True, blank=True,
                                                  related_name="+")
    submitted_to = models.CharField(max_length=200, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by_label = models.CharField(max_length=150, blank=True)
    # What the report said when it was submitted, so it reads the same ever after.
    snapshot = models.JSONField(null=True, blank=True)

    class Meta:
        triggers = [
            pgtrigger.Protect(name="police_report_submitted_frozen", operation=pgtrigger.Update | pgtrigger.Delete,
                              condition=pgtrigger.Q(old__status="submitted")),
        ]

    def __str__(self) -> str:
        return f"Police report for {self.meeting}"

    @property
    def audit_referral_id(self) -> int | None:
        return getattr(self.meeting, "referral_id", None)

    @property
    def is_submitted(self) -> bool:
        return self.status == ReportStatus.SUBMITTED


class ExaminationKind(models.TextChoices):
    SEXUAL = "sexual", "Sexual abuse"
    PHYSICAL = "physical", "Physical / non-accidental injury"
    NEGLECT = "neglect", "Neglect"


class MedicalExamination(models.Model):
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="medical_examinations")
    child = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="medical_examinations")
    examined_at = models.DateTimeField("when")
    kind = models.CharField(max_length=10, choices=ExaminationKind.choices)
    examiner_name = models.CharField("examiner", max_length=120)
    examiner_role = models.CharField("examiner's role", max_length=120)
    police_attended = models.BooleanField()
    non_attendance_reason = models.TextField("why police did not attend", blank=True)
    deciding_officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                         related_name="+", verbose_name="officer who decided")
    deciding_officer_label = models.CharField(max_length=150, blank=True)
    photographs_taken = models.BooleanField(default=False)
    first_account_secured = models.BooleanField(default=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-examined_at"]
        indexes = [
            # Supervisors' list of examinations without police attendance.
            models.Index(fields=["examined_at"], name="medical_no_police_idx", condition=Q(police_attended=False)),
            # Performance measure "medical examinations attended": every examination of a month.
            models.Index(fields=["examined_at"], name="medical_time_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(police_attended=True) | (~Q(non_attendance_reason="") & Q(deciding_officer__isnull=False)),
                name="medical_non_attendance_explained"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} examination of {self.child}"

    @property
    def audit_referral_id(self) -> int:
        return self.referral_id


class PoliceProtection(models.Model):
    """A child taken into police protection: at most 72 hours (Children Act 1989 s46)."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="police_protections")
    child = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="police_protections")
    started_at = models.DateTimeField("start")
    ends_by = models.DateTimeField("must end by")
    ended_at = models.DateTimeField("end", null=True, blank=True)
    designated_officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    designated_officer_label = models.CharField(max_length=150)
    reason = models.TextField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            # Queue "police protection running".
            models.Index(fields=["ends_by"], name="protection_running_idx", condition=Q(ended_at__isnull=True)),
            # Performance measure "children taken into police protection": protections begun in a month.
            models.Index(fields=["started_at"], name="protection_started_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                                   name="protection_ends_after_start"),
            models.CheckConstraint(condition=Q(ended_at__isnull=True) | Q(ended_at__lte=models.F("ends_by")),
                                   name="protection_within_72_hours"),
            models.UniqueConstraint(fields=["child"], condition=Q(ended_at__isnull=True),
                                    name="protection_one_running_per_child"),
        ]

    def __str__(self) -> str:
        return f"Police protection of {self.child}"

    @property
    def audit_referral_id(self) -> int:
        return self.referral_id

    @property
    def is_running(self) -> bool:
        return self.ended_at is None

    def hours_left(self, now: dt.datetime) -> float:
        return max((self.ends_by - now).total_seconds() / 3600, 0.0)
