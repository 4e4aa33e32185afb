"""Officers, teams and the audit trail: the pieces every domain app builds on."""
from __future__ import annotations

import datetime as dt
from functools import cached_property

import pgtrigger
from auditlog.models import AbstractLogEntry, LogEntryManager
from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models


class Team(models.Model):
    """A Child Abuse Investigation Team; its code starts every URN it issues (HY-26-00042)."""

    code = models.CharField(
        max_length=4,
        unique=True,
        validators=[RegexValidator(r"^[A-Z]{2,4}$", "A team code is two to four capital letters.")],
    )
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Clock(models.TextChoices):
    """Every clock of SPEC §5. Each team holds one Timescale row per clock."""

    DESK_ASSESSMENT_URGENT = "desk_assessment_urgent", "Desk assessment of an urgent referral"
    DESK_ASSESSMENT = "desk_assessment", "Desk assessment of a referral"
    WRITTEN_FOLLOWUP = "written_followup", "Written follow-up of a phone referral"
    SOCIAL_SERVICES_UPDATE = "social_services_update", "Update from social services"
    CRAM_REVIEW = "cram_review", "CRAM review"
    CRAM_SIGNOFF = "cram_signoff", "Supervisor sign-off of a CRAM"
    INVESTIGATION_REVIEW = "investigation_review", "Supervisory review of an investigation"
    INACTIVITY = "inactivity", "No activity on an open investigation"
    LIMITATION = "limitation", "Limitation for a summary-only offence"
    LIMITATION_FIRST_WARNING = "limitation_first_warning", "Limitation: first warning after the offence"
    LIMITATION_SECOND_WARNING = "limitation_second_warning", "Limitation: second warning after the offence"
    LIMITATION_FINAL_WARNING = "limitation_final_warning", "Limitation: final warning before the limit"
    INITIAL_CONFERENCE = "initial_conference", "Initial conference after the strategy discussion"
    FIRST_CORE_GROUP = "first_core_group", "First core group after the initial conference"
    FIRST_REVIEW_CONFERENCE = "first_review_conference", "First review conference after the initial"
    LATER_REVIEW_CONFERENCE = "later_review_conference", "Later review conferences"
    REPORT_BEFORE_INITIAL = "report_before_initial", "Police report and CRAM before an initial conference"
    REPORT_BEFORE_REVIEW = "report_before_review", "Police report and CRAM before a review conference"
    MINUTES = "minutes", "Minutes of a meeting"
    POLICE_PROTECTION = "police_protection", "Police protection ends"
    POLICE_PROTECTION_WARNING = "police_protection_warning", "Police protection warning"
    LEAVER_WARNING = "leaver_warning", "Reallocation of a leaver's work: warning before the date"


class TimeUnit(models.TextChoices):
    HOURS = "hours", "hours"
    DAYS = "days", "days"
    WORKING_DAYS = "working_days", "working days"
    MONTHS = "months", "months"


class TimescaleQuerySet(models.QuerySet):
    def for_team(self, team_id: int, clock: str) -> Timescale:
        """The team's row for a clock, or the default of SPEC §5 when the team has none."""
        row = self.filter(team_id=team_id, clock=clock).first()
        if row is not None:
            return row
        amount, unit = DEFAULT_TIMESCALES[clock]
        return Timescale(team_id=team_id, clock=clock, amount=amount, unit=unit)


class Timescale(models.Model):
    """How long a clock runs for one team; administrators change it per team."""

    team = models.ForeignKey("Team", on_delete=models.CASCADE, related_name="timescales")
    clock = models.CharField(max_length=40, choices=Clock.choices)
    amount = models.PositiveIntegerField()
    unit = models.CharField(max_length=15, choices=TimeUnit.choices)

    objects = TimescaleQuerySet.as_manager()

    class Meta:
        ordering = ["team", "clock"]
        constraints = [models.UniqueConstraint(fields=["team", "clock"], name="timescale_once_per_team")]

    def __str__(self) -> str:
        return f"{self.get_clock_display()}: {self.amount} {self.get_unit_display()}"

    def after(self, start: dt.datetime) -> dt.datetime:
        """When this clock falls due for something that started at `start`."""
        from .calendar import shift

        return shift(start, self.amount, self.unit)

    def before(self, deadline: dt.datetime) -> dt.datetime:
        """When this clock falls due ahead of a fixed date (a report before a conference)."""
        from .calendar import shift

        return shift(deadline, -self.amount, self.unit)


# The defaults of SPEC §5: (amount, unit).
DEFAULT_TIMESCALES: dict[str, tuple[int, str]] = {
    Clock.DESK_ASSESSMENT_URGENT: (2, TimeUnit.HOURS),
    Clock.DESK_ASSESSMENT: (1, TimeUnit.WORKING_DAYS),
    Clock.WRITTEN_FOLLOWUP: (1, TimeUnit.WORKING_DAYS),
    Clock.SOCIAL_SERVICES_UPDATE: (14, TimeUnit.DAYS),
    Clock.CRAM_REVIEW: (42, TimeUnit.DAYS),
    Clock.CRAM_SIGNOFF: (3, TimeUnit.WORKING_DAYS),
    Clock.INVESTIGATION_REVIEW: (28, TimeUnit.DAYS),
    Clock.INACTIVITY: (14, TimeUnit.DAYS),
    Clock.LIMITATION: (6, TimeUnit.MONTHS),
    Clock.LIMITATION_FIRST_WARNING: (4, TimeUnit.MONTHS),
    Clock.LIMITATION_SECOND_WARNING: (5, TimeUnit.MONTHS),
    Clock.LIMITATION_FINAL_WARNING: (14, TimeUnit.DAYS),
    Clock.INITIAL_CONFERENCE: (15, TimeUnit.WORKING_DAYS),
    Clock.FIRST_CORE_GROUP: (10, TimeUnit.WORKING_DAYS),
    Clock.FIRST_REVIEW_CONFERENCE: (3, TimeUnit.MONTHS),
    Clock.LATER_REVIEW_CONFERENCE: (6, TimeUnit.MONTHS),
    Clock.REPORT_BEFORE_INITIAL: (2, TimeUnit.WORKING_DAYS),
    Clock.REPORT_BEFORE_REVIEW: (5, TimeUnit.WORKING_DAYS),
    Clock.MINUTES: (20, TimeUnit.WORKING_DAYS),
    Clock.POLICE_PROTECTION: (72, TimeUnit.HOURS),
    Clock.POLICE_PROTECTION_WARNING: (48, TimeUnit.HOURS),
    Clock.LEAVER_WARNING: (14, TimeUnit.DAYS),
}


class Role(models.TextChoices):
    """The roles of SPEC §2. Each is a Django group of the same name."""

    DESK_SERGEANT = "desk_sergeant", "Referral desk sergeant"
    INVESTIGATOR = "investigator", "Investigating officer"
    SUPERVISOR = "supervisor", "Supervisor"
    PCLO = "pclo", "Conference liaison officer"
    RESEARCHER = "researcher", "Researcher"
    PERFORMANCE = "performance", "Performance manager"
    AUDITOR = "auditor", "Auditor"
    ADMINISTRATOR = "administrator", "Administrator"


# Roles that may read narratives and case-log text; a performance manager alone may not.
FREE_TEXT_ROLES = frozenset(Role) - {Role.PERFORMANCE}


class Rank(models.TextChoices):
    PC = "PC", "Police Constable"
    DC = "DC", "Detective Constable"
    PS = "PS", "Police Sergeant"
    DS = "DS", "Detective Sergeant"
    DI = "DI", "Detective Inspector"
    DCI = "DCI", "Detective Chief Inspector"
    STAFF = "Staff", "Police staff"


class Officer(AbstractUser):
    """A user: an officer or member of police staff, in one team, holding one or more roles."""

    rank = models.CharField(max_length=8, choices=Rank.choices, default=Rank.STAFF)
    staff_number = models.CharField("warrant or staff number", max_length=20, blank=True)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, null=True, blank=True, related_name="officers")
    # A force-wide officer sees every team's records (SPEC §2); everyone else sees their own team's.
    force_wide = models.BooleanField(default=False)
    leaving_date = models.DateField(null=True, blank=True)
    # Who this officer's overdue work escalates to; the team's supervisors when not set.
    line_manager = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="reports")
    # What the officer is trained and experienced in, weighed when work is allocated.
    skills = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [
            # Queue "leavers' open work" and the leavers page: a team's officers with a leaving date.
            models.Index(fields=["team", "leaving_date"], name="officer_leaving_idx",
                         condition=models.Q(leaving_date__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """How an officer is named on every record: rank, name and number."""
        name = self.get_full_name() or self.username
        number = f" {self.staff_number}" if self.staff_number else ""
        return f"{self.rank} {name}{number}"

    @cached_property
    def roles(self) -> frozenset[str]:
        """The role names this officer holds; read once per request."""
        return frozenset(self.groups.values_list("name", flat=True))

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def sees_free_text(self) -> bool:
        return self.is_superuser or bool(self.roles & FREE_TEXT_ROLES)


class AuditEventManager(LogEntryManager):
    def log_create(self, instance: models.Model, force_log: bool = False, **kwargs: object) -> AuditEvent | None:
        # Records that belong to a case carry its id, so the case page's audit tab is one indexed read.
        kwargs.setdefault("referral_id", getattr(instance, "audit_referral_id", None))
        return super().log_create(instance, force_log=force_log, **kwargs)


class AuditEvent(AbstractLogEntry):
    """Who did what to which record, when (UTC) and from where. Never changed or deleted.

    django-auditlog writes create/change events for registered models and access events on
    views; the product adds its own actions for exports, sign-ins and refusals.
    """

    class Action(AbstractLogEntry.Action):
        EXPORT = 10
        LOGIN = 11
        LOGIN_FAILED = 12
        REFUSED = 13

        choices = (
            *AbstractLogEntry.Action.choices,
            (EXPORT, "export"),
            (LOGIN, "login"),
            (LOGIN_FAILED, "failed login"),
            (REFUSED, "refused"),
        )

    action = models.PositiveSmallIntegerField(choices=Action.choices, db_index=True)
    # The referral (case) the record belongs to; a plain id because referrals sit above cram_site.
    referral_id = models.BigIntegerField(null=True, blank=True)

    objects = AuditEventManager()

    class Meta(AbstractLogEntry.Meta):
        verbose_name = "audit event"
        indexes = [
            # Case page audit tab: every event of one referral, newest first.
            models.Index(fields=["referral_id", "-timestamp"], name="audit_referral_time_idx"),
            # Auditor's search by officer over a time range.
            models.Index(fields=["actor", "-timestamp"], name="audit_actor_time_idx"),
            # Auditor's search by record: every event of one person's (or any record's) history.
            models.Index(fields=["content_type", "object_pk", "-timestamp"], name="audit_record_time_idx"),
            # Auditor's search by action over a time range (every export, every refusal).
            models.Index(fields=["action", "-timestamp"], name="audit_action_time_idx"),
        ]
        triggers = [
            pgtrigger.Protect(name="audit_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    @property
    def action_label(self) -> str:
        return dict(self.Action.choices).get(self.action, str(self.action))


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Ready"
    FAILED = "failed", "Failed"


class ExportJob(models.Model):
    """A large export written in the background to a private file, with its progress.

    Only the officer who asked may download it; the file is removed after a day.
    """

    requested_by = models.ForeignKey(Officer, on_delete=models.CASCADE, related_name="+")
    requested_at = models.DateTimeField()
    # What was exported, in words (shown and audited) and as the name and parameters that rebuild it.
    title = models.CharField(max_length=200)
    source = models.CharField(max_length=60)
    parameters = models.JSONField(default=dict, blank=True)
    file_format = models.CharField(max_length=4, choices=ExportFormat.choices)
    status = models.CharField(max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)
    file_name = models.CharField(max_length=200, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["requested_by", "-requested_at"], name="export_officer_idx")]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_file_format_display()})"

    @property
    def percent_done(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        return int(100 * self.rows_written / self.total_rows) if self.total_rows else 0
