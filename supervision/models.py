"""Supervision: reminders for every clock of SPEC §5, notifications, supervisory reviews and closures.

Reads every other app; nothing imports supervision.
"""
from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q

from referrals.models import AllegationCategory, Referral


class ReminderKind(models.TextChoices):
    DESK_ASSESSMENT = "desk_assessment", "Desk assessment due"
    WRITTEN_FOLLOWUP = "written_followup", "Written follow-up of a phone referral due"
    SOCIAL_SERVICES_UPDATE = "social_services_update", "Update from social services due"
    CRAM_REVIEW = "cram_review", "42-day CRAM review due"
    CRAM_SIGNOFF = "cram_signoff", "CRAM sign-off due"
    INVESTIGATION_REVIEW = "investigation_review", "Supervisory review of the investigation due"
    INACTIVITY = "inactivity", "No case-log entry for 14 days"
    LIMITATION_FIRST = "limitation_first", "Limitation: four months since the offence"
    LIMITATION_SECOND = "limitation_second", "Limitation: five months since the offence"
    LIMITATION_FINAL = "limitation_final", "Limitation: 14 days left to start proceedings"
    LIMITATION = "limitation", "Limitation date for proceedings"
    CONFERENCE_REPORT = "conference_report", "Police report and pre-conference CRAM due"
    MINUTES = "minutes", "Minutes of a meeting due"
    POLICE_PROTECTION = "police_protection", "Police protection must end"
    ACTION = "action", "Action due"
    LEAVER = "leaver", "Leaver's open work to reallocate"


class ReminderState(models.TextChoices):
    PENDING = "pending", "Pending"
    NOTIFIED = "notified", "Notified"
    ESCALATED = "escalated", "Escalated"
    RESOLVED = "resolved", "Resolved"


class ReminderQuerySet(models.QuerySet):
    def unresolved(self) -> ReminderQuerySet:
        # Every sweep step reads these: partial index reminder_unresolved_idx.
        return self.exclude(state=ReminderState.RESOLVED)

    def for_officer(self, officer_id: int) -> ReminderQuerySet:
        return self.filter(Q(owner_id=officer_id) | Q(escalated_to_id=officer_id))


class Reminder(models.Model):
    """One due item. At most one per (kind, subject, due date), whatever runs twice."""

    kind = models.CharField(max_length=30, choices=ReminderKind.choices)
    # What it is about: a model label ("referrals.referral", "conferences.meeting"…) and its id.
    subject_type = models.CharField(max_length=40)
    subject_id = models.BigIntegerField()
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, null=True, blank=True, related_name="reminders")
    title = models.CharField(max_length=300)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reminders")
    escalate_to = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    # A partner contact outside the force (the named social-services contact), by e-mail.
    escalate_to_email = models.EmailField(blank=True)
    notify_at = models.DateTimeField()
    due_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=ReminderState.choices, default=ReminderState.PENDING)
    created_at = models.DateTimeField()
    notified_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalated_to = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="escalated_reminders")
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = ReminderQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "subject_type", "subject_id", "due_at"],
                                    name="reminder_once_per_due_item"),
        ]
        indexes = [
            # The sweep: unresolved reminders by when they next need attention.
            models.Index(fields=["state", "notify_at"], name="reminder_unresolved_idx",
                         condition=~Q(state="resolved")),
            # An officer's own due and overdue items (home screen, digest).
            models.Index(fields=["owner", "due_at"], name="reminder_owner_idx", condition=~Q(state="resolved")),
        ]

    def __str__(self) -> str:
        return self.title


class Notification(models.Model):
    """An in-app prompt. One per (reminder, recipient, event), so a rerun cannot prompt twice."""

    class Event(models.TextChoices):
        DUE = "due", "Due"
        OVERDUE = "overdue", "Overdue, escalated"

    reminder = models.ForeignKey(Reminder, on_delete=models.PROTECT, related_name="notifications")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    event = models.CharField(max_length=10, choices=Event.choices)
    text = models.CharField(max_length=400)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["reminder", "recipient", "event"], name="notification_once"),
        ]
        indexes = [
            # The unread count in every page header.
            models.Index(fields=["recipient"], name="notification_unread_idx", condition=Q(read_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.text


class PartnerEmail(models.Model):
    """An escalation e-mail to a partner contact outside the force: one per reminder, and claimed
    (compare and swap on `sent_at`) before it is handed to the mail server, so it is sent once."""

    reminder = models.OneToOneField(Reminder, on_delete=models.PROTECT, related_name="partner_email")
    address = models.EmailField()
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)


class DigestDelivery(models.Model):
    """The 07:00 digest an officer was sent on a day: one row per officer per day, claimed by
    setting `sent_at` before sending, so two workers never both send it."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    sent_at = models.DateTimeField(null=True, blank=True)
    item_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["recipient", "day"], name="digest_once_a_day")]


class SweepRun(models.Model):
    """When the reminder sweep ran and what it did; pages warn when the last run is over an hour old."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    as_of = models.DateTimeField()
    created = models.PositiveIntegerField(default=0)
    notified = models.PositiveIntegerField(default=0)
    escalated = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]
        get_latest_by = "started_at"


class Quality(models.TextChoices):
    YES = "yes", "Yes"
    PARTLY = "partly", "Partly"
    NO = "no", "No"


class SupervisoryReview(models.Model):
    """A supervisor's review of an investigation, every 28 days, with direction and a quality assessment."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="supervisory_reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewer_label = models.CharField(max_length=150)
    reviewed_at = models.DateTimeField()
    direction = models.TextField("direction given")
    investigation_progressing = models.CharField("investigation progressing?", max_length=10,
                                                 choices=Quality.choices)
    risk_managed = models.CharField("risk being managed?", max_length=10, choices=Quality.choices)
    records_complete = models.CharField("records complete and current?", max_length=10, choices=Quality.choices)
    actions_timely = models.CharField("actions timely?", max_length=10, choices=Quality.choices)
    next_review_due_at = models.DateTimeField()

    class Meta:
        ordering = ["-reviewed_at"]
        indexes = [models.Index(fields=["referral", "-reviewed_at"], name="review_referral_idx")]
        triggers = [pgtrigger.Protect(name="review_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    @property
    def audit_referral_id(self) -> int:
        return self.referral_id


class Closure(models.Model):
    """A supervisor's approval that closed a referral, with any override of an unmanaged risk."""

    referral = models.OneToOneField(Referral, on_delete=models.PROTECT, related_name="closure")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_by_label = models.CharField(max_length=150)
    approved_at = models.DateTimeField()
    rationale = models.TextField()
    unmanaged_risk_override = models.TextField(blank=True)

    class Meta:
        triggers = [pgtrigger.Protect(name="closure_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    @property
    def audit_referral_id(self) -> int:
        return self.referral_id


class RetentionPeriod(models.Model):
    """How long after closure a team's referrals of one allegation category wait for their MoPI review.

    Administrators change the table; the defaults follow the MoPI groups for child abuse records.
    """

    team = models.ForeignKey("cram_site.Team", on_delete=models.CASCADE, related_name="retention_periods")
    allegation_category = models.CharField(max_length=20, choices=AllegationCategory.choices)
    review_after_years = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["team", "allegation_category"]
        constraints = [models.UniqueConstraint(fields=["team", "allegation_category"],
                                               name="retention_once_per_category")]

    def __str__(self) -> str:
        return f"{self.get_allegation_category_display()}: review {self.review_after_years} years after closure"


# MoPI defaults: sexual and physical abuse are Group 1 or 2 (reviewed after ten years), the rest Group 3 (six).
DEFAULT_RETENTION_YEARS: dict[str, int] = {
    AllegationCategory.SEXUAL: 10,
    AllegationCategory.PHYSICAL: 10,
    AllegationCategory.NEGLECT: 10,
    AllegationCategory.EMOTIONAL: 6,
    AllegationCategory.OTHER: 6,
}


class RetentionDecision(models.TextChoices):
    RETAIN = "retain", "Retain"
    DISPOSE = "dispose", "Dispose"


class MopiReview(models.Model):
    """An information management review of a closed referral: retain (with the next review date) or
    dispose. Nothing is deleted by the system; a disposal decision is recorded for the records team."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="mopi_reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewer_label = models.CharField(max_length=150)
    reviewed_at = models.DateTimeField()
    decision = models.CharField(max_length=10, choices=RetentionDecision.choices)
    reason = models.TextField()
    next_review_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-reviewed_at"]
        indexes = [models.Index(fields=["referral", "-reviewed_at"], name="mopi_review_referral_idx")]
        triggers = [pgtrigger.Protect(name="mopi_review_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    @property
    def audit_referral_id(self) -> int:
        return self.referral_id
