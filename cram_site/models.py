"""Officers, teams and the audit trail: the pieces every domain app builds on."""
from __future__ import annotations

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

    class Meta:
        ordering = ["last_name", "first_name"]

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
        ]
        triggers = [
            pgtrigger.Protect(name="audit_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    @property
    def action_label(self) -> str:
        return dict(self.Action.choices).get(self.action, str(self.action))
