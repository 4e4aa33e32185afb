"""Referrals, the people in them, and the case log that is each referral's single chronology."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pgtrigger
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from cram_site.models import Team

from .querysets import PersonQuerySet, ReferralQuerySet, TeamScopedQuerySet

URN_PATTERN = r"^(?P<team>[A-Z]{2,4})-(?P<year>\d{2})-(?P<number>\d{5})$"


class Household(models.Model):
    """People who live together, so that siblings and adults are seen side by side."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="households")
    address = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TeamScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return self.address or f"Household {self.pk}"


class Gender(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Not known"


class Person(models.Model):
    """A child or adult. A date of birth may be approximate or unknown."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="people")
    household = models.ForeignKey(Household, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="members")
    first_name = models.CharField(max_length=80, blank=True)
    last_name = models.CharField(max_length=80)
    aliases = models.CharField(max_length=200, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    date_of_birth_approximate = models.BooleanField(default=False)
    gender = models.CharField(max_length=10, choices=Gender.choices, default=Gender.UNKNOWN)
    address = models.CharField(max_length=200, blank=True)
    registered_sex_offender = models.BooleanField(default=False)
    mappa = models.BooleanField("MAPPA nominal", default=False)
    potentially_dangerous = models.BooleanField("potentially dangerous person", default=False)
    created_at = models.DateTimeField(default=timezone.now)

    objects = PersonQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [
            models.Index(fields=["team", "last_name"], name="person_team_name_idx"),
            models.Index(fields=["date_of_birth"], name="person_dob_idx"),
            # The trigram GIN index for spelling-tolerant search is made in a PostgreSQL-only
            # migration (0002), as SQLite has no such index.
        ]

    def __str__(self) -> str:
        return self.full_name

    def get_absolute_url(self) -> str:
        return reverse("referrals:person", args=[self.pk])

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def flags(self) -> list[str]:
        names = []
        if self.registered_sex_offender:
            names.append("Registered sex offender")
        if self.mappa:
            names.append("MAPPA")
        if self.potentially_dangerous:
            names.append("Potentially dangerous person")
        return names

    def age_on(self, day: dt.date) -> int | None:
        if self.date_of_birth is None:
            return None
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class Channel(models.TextChoices):
    EMAIL = "email", "Email to the team mailbox"
    PHONE = "phone", "Phone"
    POLICE_SYSTEM = "police_system", "Police system"
    PARTNER_PORTAL = "partner_portal", "Partner portal / API"


class AllegationCategory(models.TextChoices):
    PHYSICAL = "physical", "Physical"
    SEXUAL = "sexual", "Sexual"
    NEGLECT = "neglect", "Neglect"
    EMOTIONAL = "emotional", "Emotional"
    OTHER = "other", "Other"


class Urgency(models.TextChoices):
    URGENT = "urgent", "Urgent"
    ROUTINE = "routine", "Routine"


class Route(models.TextChoices):
    POLICE_INVESTIGATION = "police_investigation", "Police investigation"
    JOINT_INVESTIGATION = "joint_investigation", "Joint investigation"
    SOCIAL_SERVICES_ONLY = "social_services_only", "Social services only"
    NO_FURTHER_ACTION = "no_further_action", "No further police action"


class ReferralStatus(models.TextChoices):
    NEW = "new", "Awaiting assessment"
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class InvestigationOutcome(models.TextChoices):
    """How an investigation ended. Charges, cautions and community resolutions are detections (SPEC §7)."""

    CHARGED = "charged", "Charged or summonsed"
    CAUTIONED = "cautioned", "Cautioned"
    COMMUNITY_RESOLUTION = "community_resolution", "Community resolution"
    NO_FURTHER_ACTION = "no_further_action", "No further action"
    EVIDENTIAL_DIFFICULTIES = "evidential_difficulties", "Evidential difficulties"


DETECTION_OUTCOMES = (InvestigationOutcome.CHARGED, InvestigationOutcome.CAUTIONED,
                      InvestigationOutcome.COMMUNITY_RESOLUTION)


class PersonRole(models.TextChoices):
    VICTIM = "victim", "Victim"
    SIBLING = "sibling", "Sibling"
    PARENT_CARER = "parent_carer", "Parent / carer"
    SUSPECT = "suspect", "Suspect"
    OTHER = "other", "Other"


# Roles that mark a person as one of the children concerned.
CHILD_ROLES = frozenset({PersonRole.VICTIM, PersonRole.SIBLING})


class Referral(models.Model):
    """The unit of work, known everywhere by its Unique Reference Number."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="referrals")
    urn = models.CharField("URN", max_length=16, unique=True)
    received_at = models.DateTimeField()
    channel = models.CharField(max_length=20, choices=Channel.choices)
    source_agency = models.CharField(max_length=120)
    referrer_name = models.CharField(max_length=120, blank=True)
    # The named partner contact: an overdue social-services update escalates to this address.
    referrer_email = models.EmailField("referrer's e-mail", blank=True)
    partner_reference = models.CharField(max_length=60, blank=True)
    allegation_category = models.CharField(max_length=20, choices=AllegationCategory.choices)
    offence_date = models.DateField("date of alleged offence", null=True, blank=True)
    # Summary-only offences (e.g. common assault) must be charged within six months of the offence.
    summary_only_offence = models.BooleanField("summary-only offence (e.g. common assault)", default=False)
    closed_at = models.DateTimeField(null=True, blank=True)
    summary = models.TextField()
    status = models.CharField(max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.NEW)
    urgency = models.CharField(max_length=10, choices=Urgency.choices, blank=True)
    route = models.CharField(max_length=30, choices=Route.choices, blank=True)
    crime_report_number = models.CharField(max_length=30, null=True, blank=True, unique=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="owned_referrals", verbose_name="investigating officer")
    supervising_officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                            blank=True, related_name="supervised_referrals",
                                            verbose_name="supervising sergeant")
    logged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="logged_referrals")
    logged_at = models.DateTimeField()
    assessment_due_at = models.DateTimeField()
    assessed_at = models.DateTimeField(null=True, blank=True)
    # A phone referral must be followed by a written one; until it arrives a prompt stays open.
    written_followup_due_at = models.DateTimeField(null=True, blank=True)
    written_followup_received_at = models.DateTimeField(null=True, blank=True)
    # The number of the last case-log entry; bumped under a row lock so numbers never repeat or skip.
    case_log_count = models.PositiveIntegerField(default=0)
    # Route "social services only": the update police wait for, due 14 days after the route is chosen.
    social_services_update_due_at = models.DateTimeField(null=True, blank=True)
    social_services_update_received_at = models.DateTimeField(null=True, blank=True)
    # The current CRAM, summarised for lists and queues; kept by the risk services on every change.
    rating = models.CharField(max_length=10, blank=True)
    gap_count = models.PositiveIntegerField(default=0)
    unmanaged_risk_count = models.PositiveIntegerField(default=0)
    cram_review_due_at = models.DateTimeField("next CRAM review due", null=True, blank=True)
    cram_signoff_due_at = models.DateTimeField("CRAM sign-off due", null=True, blank=True)
    # A child on the referral is in police protection until this time (kept by the conference services).
    police_protection_ends_by = models.DateTimeField(null=True, blank=True)
    # A visit made jointly with children's social care (a performance measure of SPEC §7).
    joint_visit_at = models.DateTimeField("joint visit with social care", null=True, blank=True)
    outcome = models.CharField("investigation outcome", max_length=30, choices=InvestigationOutcome.choices,
                               blank=True)
    outcome_at = models.DateTimeField(null=True, blank=True)
    # Information management (MoPI): when a closed referral is next reviewed for retention or disposal.
    mopi_review_due_on = models.DateField("MoPI review due", null=True, blank=True)
    # The spreadsheet a legacy referral came from; blank for referrals logged in the product.
    imported_from = models.CharField(max_length=200, blank=True)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            # Team referral lists and the desk's "today's referrals", newest first.
            models.Index(fields=["team", "-received_at"], name="referral_team_received_idx"),
            # Queue "awaiting desk assessment".
            models.Index(fields=["team", "assessment_due_at"], name="referral_awaiting_idx",
                         condition=Q(status="new")),
            # An investigator's own open cases.
            models.Index(fields=["owner", "status"], name="referral_owner_status_idx"),
            # Queue "written follow-ups of phone referrals missing".
            models.Index(fields=["team", "written_followup_due_at"], name="referral_followup_idx",
                         condition=Q(written_followup_due_at__isnull=False,
                                     written_followup_received_at__isnull=True)),
            # Queue "social-services updates overdue".
            models.Index(fields=["team", "social_services_update_due_at"], name="referral_ss_update_idx",
                         condition=Q(social_services_update_due_at__isnull=False,
                                     social_services_update_received_at__isnull=True)),
            # Queues "CRAM reviews overdue" and "CRAMs awaiting sign-off".
            models.Index(fields=["team", "cram_review_due_at"], name="referral_cram_review_idx",
                         condition=~Q(status="closed")),
            models.Index(fields=["team", "cram_signoff_due_at"], name="referral_cram_signoff_idx",
                         condition=Q(cram_signoff_due_at__isnull=False)),
            # Queue "investigations with no case-log entry for 14 days": a team's open investigations.
            models.Index(fields=["team", "owner"], name="referral_investigation_idx",
                         condition=Q(status="open", route__in=["police_investigation", "joint_investigation"])),
            # Queue "limitation dates within 2 months": open summary-only offences by date of offence.
            models.Index(fields=["team", "offence_date"], name="referral_limitation_idx",
                         condition=Q(summary_only_offence=True, offence_date__isnull=False) & ~Q(status="closed")),
            # Queue "unallocated referrals": open referrals with no investigating officer, oldest first.
            models.Index(fields=["team", "assessed_at"], name="referral_unallocated_idx",
                         condition=Q(status="open", owner__isnull=True)),
            # Queue "leavers' open work": the referrals a leaver supervises (owned ones use referral_owner_status_idx).
            models.Index(fields=["supervising_officer"], name="referral_supervising_open_idx",
                         condition=~Q(status="closed")),
            # Performance measures "s47 investigations" and "detections": desk assessments and outcomes
            # of a month, per team.
            models.Index(fields=["team", "assessed_at"], name="referral_team_assessed_idx",
                         condition=Q(assessed_at__isnull=False)),
            models.Index(fields=["team", "outcome_at"], name="referral_team_outcome_idx",
                         condition=Q(outcome_at__isnull=False)),
            # Queue "records due for information management review": closed referrals by review date.
            models.Index(fields=["team", "mopi_review_due_on"], name="referral_mopi_review_idx",
                         condition=Q(mopi_review_due_on__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.urn

    def get_absolute_url(self) -> str:
        return reverse("referrals:case", args=[self.urn])

    @property
    def audit_referral_id(self) -> int:
        return self.pk

    @property
    def is_open(self) -> bool:
        return self.status != ReferralStatus.CLOSED

    @property
    def awaiting_social_services_update(self) -> bool:
        return self.social_services_update_due_at is not None and self.social_services_update_received_at is None

    @property
    def awaiting_written_followup(self) -> bool:
        return self.written_followup_due_at is not None and self.written_followup_received_at is None

    def children(self) -> list[Person]:
        """The children concerned, from the prefetched people of the referral."""
        return [link.person for link in self.referral_people.all() if link.role in CHILD_ROLES]

    @property
    def lead_child(self) -> Person | None:
        victims = [link.person for link in self.referral_people.all() if link.role == PersonRole.VICTIM]
        others = self.children()
        return (victims or others or [None])[0]

    def next_due_at(self, open_actions: list[Action] | None = None) -> dt.datetime | None:
        """The earliest open clock on the case: assessment, written follow-up or an action."""
        candidates: list[dt.datetime] = []
        if self.status == ReferralStatus.NEW:
            candidates.append(self.assessment_due_at)
        if self.awaiting_written_followup:
            candidates.append(self.written_followup_due_at)
        if self.awaiting_social_services_update:
            candidates.append(self.social_services_update_due_at)
        if self.is_open:
            candidates.extend(d for d in (self.cram_review_due_at, self.cram_signoff_due_at) if d)
        for action in open_actions or []:
            candidates.append(action.due_at)
        return min(candidates) if candidates else None


class ReferralPerson(models.Model):
    """A person's part in one referral."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="referral_people")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="referral_links")
    role = models.CharField(max_length=20, choices=PersonRole.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["referral", "person"], name="referral_person_once"),
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.get_role_display()}) in {self.referral_id}"

    @property
    def audit_referral_id(self) -> int:
        return self.referral_id


class UrnSequence(models.Model):
    """The last URN number issued by a team in a year; locked while the next is issued."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "year"], name="urn_sequence_per_team_year")]


class CaseLogKind(models.TextChoices):
    INFORMATION = "information", "Information"
    DECISION = "decision", "Decision"
    ACTION = "action", "Action"
    SUPERVISION = "supervision", "Supervision"
    RESEARCH = "research", "Research"
    PARTNER_CONTACT = "partner_contact", "Partner contact"
    MEDICAL = "medical", "Medical"
    MEETING = "meeting", "Meeting"
    CORRECTION = "correction", "Correction"
    SYSTEM = "system", "System"


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete a record that is append-only."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Case-log entries are never changed: write a correction instead.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Case-log entries are never deleted.")


class CaseLogEntry(models.Model):
    """One numbered CRIS-style entry. Never edited or deleted; corrections are new entries."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="case_log")
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=CaseLogKind.choices)
    occurred_at = models.DateTimeField("when it happened")
    recorded_at = models.DateTimeField("when it was recorded")
    # The author as they were at the time: a later promotion does not rewrite history.
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+")
    author_name = models.CharField(max_length=150)
    author_rank = models.CharField(max_length=8, blank=True)
    author_staff_number = models.CharField(max_length=20, blank=True)
    text = models.TextField()
    corrects = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="corrections")

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["referral", "number"]
        verbose_name_plural = "case log entries"
        constraints = [
            models.UniqueConstraint(fields=["referral", "number"], name="case_log_number_once"),
            models.CheckConstraint(condition=Q(corrects__isnull=True) | Q(kind="correction"),
                                   name="case_log_only_corrections_correct"),
        ]
        indexes = [
            # Queue "investigations with no case-log entry for 14 days": the latest entry an officer
            # wrote on a case (the system's own entries are not activity).
            models.Index(fields=["referral", "-recorded_at"], name="case_log_activity_idx",
                         condition=~Q(kind="system")),
        ]
        triggers = [
            pgtrigger.Protect(name="case_log_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.referral_id} #{self.number}"

    @property
    def audit_referral_id(self) -> int:
        return self.referral_id

    @property
    def author_label(self) -> str:
        number = f" {self.author_staff_number}" if self.author_staff_number else ""
        rank = f"{self.author_rank} " if self.author_rank else ""
        return f"{rank}{self.author_name}{number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Case-log entries are never changed: write a correction instead.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Case-log entries are never deleted.")

    def clean(self) -> None:
        if self.kind == CaseLogKind.CORRECTION and self.corrects_id is None:
            raise ValidationError({"corrects": "Say which entry this corrects."})


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class Action(models.Model):
    """Something someone must do on the case, by a date."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="actions")
    description = models.CharField(max_length=300)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="actions")
    due_at = models.DateTimeField("due")
    status = models.CharField(max_length=10, choices=ActionStatus.choices, default=ActionStatus.OPEN)
    completion_note = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "pk"]
        indexes = [
            # An officer's open actions by due date (workload, reminders).
            models.Index(fields=["owner", "due_at"], name="action_owner_open_idx",
                         condition=Q(status="open")),
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def audit_referral_id(self) -> int:
        return self.referral_id

    @property
    def is_open(self) -> bool:
        return self.status == ActionStatus.OPEN

    def is_overdue(self, now: dt.datetime) -> bool:
        return self.is_open and self.due_at < now


class DisclosureDecision(models.TextChoices):
    PENDING = "pending", "Pending"
    DISCLOSED = "disclosed", "Disclosed"
    PARTLY_DISCLOSED = "partly_disclosed", "Partly disclosed"
    REFUSED = "refused", "Refused"


class DisclosureRequest(models.Model):
    """A request for police material in family proceedings (a performance measure of SPEC §7)."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="disclosure_requests")
    received_at = models.DateTimeField()
    requested_by = models.CharField("requested by (court, local authority or party)", max_length=200)
    proceedings_reference = models.CharField(max_length=60, blank=True)
    decision = models.CharField(max_length=20, choices=DisclosureDecision.choices,
                                default=DisclosureDecision.PENDING)
    responded_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["referral", "-received_at"], name="disclosure_referral_idx"),
            # Performance measure "requests for disclosure": requests received in a month.
            models.Index(fields=["received_at"], name="disclosure_received_idx"),
        ]

    def __str__(self) -> str:
        return f"Disclosure request from {self.requested_by}"

    @property
    def audit_referral_id(self) -> int:
        return self.referral_id


class ImportStatus(models.TextChoices):
    RUNNING = "running", "Running"
    DONE = "done", "Imported"
    DRY_RUN = "dry_run", "Checked (dry run, nothing stored)"
    FAILED = "failed", "Failed, nothing stored"


class ImportRun(models.Model):
    """One run of the legacy referral-log import: its progress, and every rejected row with its reason."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(max_length=200)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.RUNNING)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    already_imported = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    # [{"row": 12, "urn": "HY-19-00012", "reason": "..."}]; capped, the counts above are whole.
    rejections = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Import of {self.file_name} ({self.get_status_display()})"

    @property
    def percent_done(self) -> int:
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0
