"""The supervisor's queues (SPEC §6) and the workload by officer: reads only, nothing here writes.

Each queue is a named method of `Queues(user, now)` returning a queryset already narrowed to what
the user may see (`visible_to(user)`), with a comment naming the index that serves it. A queue
page is the union of its parts (a queue may list referrals and meetings, or referrals and
actions), sorted by due date and paginated in the database, then the page's records are loaded
in a fixed number of queries, however long the queue is.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.urls import reverse

from conferences.models import CONFERENCE_KINDS, Meeting, MeetingStatus, PoliceProtection, ReportStatus
from cram_site.calendar import LONDON, london_date, shift
from cram_site.models import DEFAULT_TIMESCALES, Clock, Officer, Role, Timescale
from referrals.models import (
    Action,
    ActionStatus,
    CaseLogEntry,
    CaseLogKind,
    Referral,
    ReferralStatus,
    Route,
)
from risk.models import Assessment

from .models import Reminder, ReminderKind

INVESTIGATION_ROUTES = (Route.POLICE_INVESTIGATION, Route.JOINT_INVESTIGATION)
# A summary-only offence shows in the limitation queue this long before its limitation date.
LIMITATION_WINDOW_MONTHS = 2
# The risk ratings a queue and the workload are broken down by; "none" is a referral without a CRAM yet.
RATINGS = (("high", "High"), ("medium", "Medium"), ("standard", "Standard"), ("none", "No rating"))
# Roles whose holders carry casework, and so appear on the workload page.
CASEWORK_ROLES = (Role.INVESTIGATOR, Role.SUPERVISOR, Role.DESK_SERGEANT, Role.PCLO, Role.RESEARCHER)
PAGE_SIZE = 50


def _team_scope(user: Officer, team_field: str) -> Q:
    """The `visible_to(user)` rule for records reached through `team_field` (e.g. referral__team_id)."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    if user.force_wide or user.is_superuser:
        return Q()
    if user.team_id is None:
        return Q(pk__in=[])
    return Q(**{team_field: user.team_id})


def limitation_date(timescale: Timescale, offence_date: dt.date) -> dt.datetime:
    """When proceedings for a summary-only offence must have started (the reminders use the same rule)."""
    return timescale.after(dt.datetime.combine(offence_date, dt.time(9, 0), tzinfo=LONDON))


def _latest_offence_date(timescale: Timescale, horizon: dt.datetime) -> dt.date:
    """The latest date of offence whose limitation date falls on or before `horizon`."""
    day = london_date(timescale.before(horizon))
    while limitation_date(timescale, day + dt.timedelta(days=1)) <= horizon:
        day += dt.timedelta(days=1)
    while limitation_date(timescale, day) > horizon:
        day -= dt.timedelta(days=1)
    return day


# --- Parts and queues ----------------------------------------------------------------------------

@dataclass
class QueueRow:
    """One line of a queue page: the case, what is due on it, when, and where to act on it."""

    referral: Referral
    due: dt.datetime | dt.date | None
    what: str
    open_url: str
    overdue: bool = False
    sign_off_url: str = ""
    subject: Any = None

    @property
    def due_is_date(self) -> bool:
        """A leaving date is a day; every other due date has a time."""
        return isinstance(self.due, dt.date) and not isinstance(self.due, dt.datetime)


@dataclass(frozen=True)
class Part:
    """One kind of record in a queue.

    `rows` is the named queue method; `due`, `referral`, `owner` and `rating` are the paths from
    that record to its sort date, its referral, its officer and its referral's rating.
    """

    subject: str
    rows: str
    due: str
    referral: str
    owner: str
    rating: str


@dataclass(frozen=True)
class Queue:
    slug: str
    title: str
    explanation: str
    due_heading: str
    parts: tuple[Part, ...]
    # Whether a row whose date has passed is shown as overdue (not for "waiting since" or "leaves on").
    due_is_deadline: bool = True


def _referral_part(rows: str, due: str) -> Part:
    return Part("referral", rows, due, referral="pk", owner="owner_id", rating="rating")


QUEUES: tuple[Queue, ...] = (
    Queue("awaiting-assessment", "Awaiting desk assessment",
          "New referrals the desk has not yet assessed, by when the assessment is due.", "Assessment due",
          (_referral_part("awaiting_assessment", "assessment_due_at"),)),
    Queue("cram-signoff", "CRAMs awaiting sign-off",
          "Completed CRAMs no supervisor has signed off yet.", "Sign-off due",
          (_referral_part("crams_awaiting_signoff", "cram_signoff_due_at"),)),
    Queue("reviews-overdue", "Reviews overdue",
          "42-day CRAM reviews past their date, and conferences whose pre-conference CRAM and police report "
          "are late.", "Due",
          (_referral_part("cram_reviews_overdue", "cram_review_due_at"),
           Part("meeting", "pre_conference_overdue", "report_due_at", referral="referral_id",
                owner="referral__owner_id", rating="referral__rating"))),
    Queue("social-services-updates", "Social-services updates overdue",
          "Referrals sent to social services only, whose update has not come back in time.", "Update due",
          (_referral_part("social_services_updates_overdue", "social_services_update_due_at"),)),
    Queue("written-followups", "Written follow-ups missing",
          "Phone referrals whose written referral has not arrived in time.", "Written referral due",
          (_referral_part("written_followups_missing", "written_followup_due_at"),)),
    Queue("inactive", "Inactive investigations",
          "Open investigations with no case-log entry by an officer for 14 days (the system's own entries "
          "do not count).", "Activity due",
          (_referral_part("inactive_investigations", "last_activity_at"),)),
    Queue("limitation", "Limitation dates within 2 months",
          "Summary-only offences (e.g. common assault) whose six-month limit for proceedings is within two "
          "months, or has passed.", "Limitation date",
          (_referral_part("limitation_near", "offence_date"),)),
    Queue("police-protection", "Police protection running",
          "Children in police protection now, by when it must end.", "Must end by",
          (Part("protection", "police_protection_running", "ends_by", referral="referral_id",
                owner="referral__owner_id", rating="referral__rating"),)),
    Queue("conference-reports", "Reports due for conferences",
          "Scheduled child protection conferences whose police report has not been submitted.", "Report due",
          (Part("meeting", "conference_reports_due", "report_due_at", referral="referral_id",
                owner="referral__owner_id", rating="referral__rating"),)),
    Queue("minutes", "Minutes outstanding",
          "Meetings held whose minutes have not been received.", "Minutes due",
          (Part("meeting", "minutes_outstanding", "minutes_due_at", referral="referral_id",
                owner="referral__owner_id", rating="referral__rating"),)),
    Queue("leavers", "Leavers' open work",
          "Open referrals and actions owned by officers who have a leaving date.", "Owner leaves on",
          (_referral_part("leavers_referrals", "owner__leaving_date"),
           Part("action", "leavers_actions", "owner__leaving_date", referral="referral_id", owner="owner_id",
                rating="referral__rating")),
          due_is_deadline=False),
    Queue("unallocated", "Unallocated referrals",
          "Open referrals with no investigating officer, longest waiting first.", "Open since",
          (_referral_part("unallocated", "assessed_at"),),
          due_is_deadline=False),
)
QUEUES_BY_SLUG = {queue.slug: queue for queue in QUEUES}


class Queues:
    """Every queue as the user may see it, as of `now`. Timescales are read once per clock."""

    def __init__(self, user: Officer, now: dt.datetime) -> None:
        self.user = user
        self.now = now
        self._timescales: dict[str, dict[int | None, Timescale]] = {}

    # --- The queues, each one named and indexed ---------------------------------------------------

    @cached_property
    def referrals(self) -> QuerySet[Referral]:
        return Referral.objects.visible_to(self.user)

    def awaiting_assessment(self) -> QuerySet[Referral]:
        # Queue "awaiting desk assessment": partial index referral_awaiting_idx (status new).
        return self.referrals.awaiting_assessment()

    def crams_awaiting_signoff(self) -> QuerySet[Referral]:
        # Queue "CRAMs awaiting sign-off": partial index referral_cram_signoff_idx.
        return self.referrals.open().filter(cram_signoff_due_at__isnull=False)

    def cram_reviews_overdue(self) -> QuerySet[Referral]:
        # Queue "reviews overdue" (42-day CRAM reviews): partial index referral_cram_review_idx.
        return self.referrals.open().filter(cram_review_due_at__lt=self.now)

    def pre_conference_overdue(self) -> QuerySet[Meeting]:
        # Queue "reviews overdue" (pre-conference CRAM and report): partial index meeting_report_due_idx.
        # The report cannot be submitted until the pre-conference CRAM is complete, so an
        # unsubmitted report past its date means the CRAM, the report, or both are late.
        return self.conference_reports_due().filter(report_due_at__lt=self.now)

    def social_services_updates_overdue(self) -> QuerySet[Referral]:
        # Queue "social-services updates overdue": partial index referral_ss_update_idx.
        return self.referrals.open().filter(social_services_update_due_at__lt=self.now,
                                            social_services_update_received_at__isnull=True)

    def written_followups_missing(self) -> QuerySet[Referral]:
        # Queue "written follow-ups of phone referrals missing": partial index referral_followup_idx.
        return self.referrals.open().filter(written_followup_due_at__lt=self.now,
                                            written_followup_received_at__isnull=True)

    def inactive_investigations(self) -> QuerySet[Referral]:
        # Queue "investigations with no case-log entry for 14 days": partial index
        # referral_investigation_idx for the open investigations, and case_log_activity_idx for
        # each one's latest entry written by an officer.
        last_entry = (CaseLogEntry.objects.filter(referral=OuterRef("pk")).exclude(kind=CaseLogKind.SYSTEM)
                      .order_by("-recorded_at").values("recorded_at")[:1])
        investigations = (self.referrals.filter(status=ReferralStatus.OPEN, route__in=INVESTIGATION_ROUTES)
                          .annotate(last_activity_at=Subquery(last_entry)))
        return investigations.filter(self._by_team(
            Clock.INACTIVITY, lambda timescale: Q(last_activity_at__lt=timescale.before(self.now))))

    def limitation_near(self) -> QuerySet[Referral]:
        # Queue "limitation dates within 2 months": partial index referral_limitation_idx.
        horizon = shift(self.now, LIMITATION_WINDOW_MONTHS, "months")
        return self.referrals.open().filter(summary_only_offence=True, offence_date__isnull=False).filter(
            self._by_team(Clock.LIMITATION,
                          lambda timescale: Q(offence_date__lte=_latest_offence_date(timescale, horizon))))

    def police_protection_running(self) -> QuerySet[PoliceProtection]:
        # Queue "police protection running": partial index protection_running_idx.
        return PoliceProtection.objects.filter(_team_scope(self.user, "referral__team_id"), ended_at__isnull=True)

    def conference_reports_due(self) -> QuerySet[Meeting]:
        # Queue "reports due for conferences": partial index meeting_report_due_idx.
        return (Meeting.objects.visible_to(self.user)
                .filter(status=MeetingStatus.SCHEDULED, kind__in=CONFERENCE_KINDS, report_due_at__isnull=False)
                .exclude(police_report__status=ReportStatus.SUBMITTED))

    def minutes_outstanding(self) -> QuerySet[Meeting]:
        # Queue "minutes outstanding": partial index meeting_minutes_idx.
        return Meeting.objects.visible_to(self.user).minutes_outstanding(self.now)

    def leavers_referrals(self) -> QuerySet[Referral]:
        # Queue "leavers' open work" (referrals): officer_leaving_idx finds the leavers,
        # referral_owner_status_idx their referrals.
        return self.referrals.open().filter(owner__leaving_date__isnull=False)

    def leavers_actions(self) -> QuerySet[Action]:
        # Queue "leavers' open work" (actions): officer_leaving_idx, then action_owner_open_idx.
        return Action.objects.filter(_team_scope(self.user, "referral__team_id"), status=ActionStatus.OPEN,
                                     owner__leaving_date__isnull=False)

    def unallocated(self) -> QuerySet[Referral]:
        # Queue "unallocated referrals": partial index referral_unallocated_idx.
        return self.referrals.filter(status=ReferralStatus.OPEN, owner__isnull=True)

    # --- Counting and paging -------------------------------------------------------------------

    def count(self, queue: Queue) -> int:
        """How many items the queue holds: one count query per part."""
        return sum(getattr(self, part.rows)().order_by().count() for part in queue.parts)

    def counts(self) -> dict[str, int]:
        return {queue.slug: self.count(queue) for queue in QUEUES}

    def rows(self, queue: Queue, *, officer_id: int | None = None, rating: str = "",
             descending: bool = False) -> QuerySet:
        """The queue as (subject, subject id, referral id, due) tuples, sorted by due date, one union query."""
        selected = []
        for part in queue.parts:
            records = getattr(self, part.rows)().order_by()
            if officer_id:
                records = records.filter(**{part.owner: officer_id})
            if rating:
                records = records.filter(**{part.rating: "" if rating == "none" else rating})
            selected.append(records.annotate(
                q_subject=Value(part.subject, output_field=models.CharField()),
                q_subject_id=F("pk"), q_referral_id=F(part.referral), q_due=F(part.due),
            ).values_list("q_subject", "q_subject_id", "q_referral_id", "q_due"))
        union = selected[0].union(*selected[1:], all=True) if len(selected) > 1 else selected[0]
        direction = "-" if descending else ""
        return union.order_by(f"{direction}q_due", f"{direction}q_subject_id")

    def load(self, queue: Queue, rows: Iterable[tuple[str, int, int, Any]]) -> list[QueueRow]:
        """The records behind a page of rows, in one query per kind of record (and two for referrals)."""
        rows = list(rows)
        ids: dict[str, list[int]] = {}
        for subject, subject_id, _, _ in rows:
            ids.setdefault(subject, []).append(subject_id)
        referrals = {referral.pk: referral
                     for referral in Referral.objects.filter(pk__in={row[2] for row in rows}).for_list()}
        subjects: dict[str, dict[int, Any]] = {"referral": referrals}
        if "meeting" in ids:
            subjects["meeting"] = Meeting.objects.select_related("police_report").in_bulk(ids["meeting"])
        if "protection" in ids:
            subjects["protection"] = PoliceProtection.objects.select_related("child").in_bulk(ids["protection"])
        if "action" in ids:
            subjects["action"] = Action.objects.select_related("owner").in_bulk(ids["action"])
        assessments: dict[int, Assessment] = {}
        if queue.slug == "cram-signoff" and referrals:
            # The earliest-due CRAM awaiting sign-off of each referral: partial index assess_awaiting_signoff_idx.
            for assessment in (Assessment.objects.awaiting_signoff().filter(referral_id__in=referrals)
                               .order_by("-signoff_due_at", "-number")):
                assessments[assessment.referral_id] = assessment
        loaded = []
        for subject, subject_id, referral_id, due in rows:
            referral = referrals[referral_id]
            record = subjects[subject][subject_id]
            loaded.append(self._row(queue, subject, record, referral, due, assessments.get(referral_id)))
        return loaded

    # --- What each row says -------------------------------------------------------------------------

    def _row(self, queue: Queue, subject: str, record: Any, referral: Referral, due: Any,
             assessment: Assessment | None) -> QueueRow:
        case_url = referral.get_absolute_url()
        row = QueueRow(referral=referral, due=due, what="", open_url=case_url, subject=record)
        describe = getattr(self, f"_describe_{queue.slug.replace('-', '_')}")
        describe(row, record, assessment)
        if queue.due_is_deadline and isinstance(row.due, dt.datetime):
            row.overdue = row.due < self.now
        return row

    def _describe_awaiting_assessment(self, row: QueueRow, referral: Referral, _: Any) -> None:
        row.what = ("Urgent: " if referral.urgency == "urgent" else "") + (
            f"{referral.get_allegation_category_display()} allegation from {referral.source_agency}")

    def _describe_cram_signoff(self, row: QueueRow, referral: Referral, assessment: Assessment | None) -> None:
        if assessment is None:
            row.what = "CRAM awaiting sign-off"
            return
        row.what = (f"CRAM {assessment.number} ({assessment.get_kind_display().lower()}), completed "
                    f"{assessment.completed_at.astimezone(LONDON):%d/%m/%Y} by {assessment.completed_by_label}")
        row.sign_off_url = reverse("risk:assessment", args=[referral.urn, assessment.number])

    def _describe_reviews_overdue(self, row: QueueRow, record: Any, _: Any) -> None:
        if isinstance(record, Referral):
            row.what = "42-day CRAM review"
            return
        report = getattr(record, "police_report", None)
        status = "report in draft" if report is not None else "no report started"
        row.what = (f"Pre-conference CRAM and police report for the {record.get_kind_display().lower()} of "
                    f"{record.starts_at.astimezone(LONDON):%d/%m/%Y %H:%M} ({status})")
        row.open_url = reverse("conferences:meeting", args=[row.referral.urn, record.pk])

    def _describe_social_services_updates(self, row: QueueRow, referral: Referral, _: Any) -> None:
        contact = referral.referrer_email or referral.referrer_name or referral.source_agency
        row.what = f"Update from social services (contact: {contact})"

    def _describe_written_followups(self, row: QueueRow, referral: Referral, _: Any) -> None:
        row.what = f"Written referral from {referral.referrer_name or referral.source_agency}"

    def _describe_inactive(self, row: QueueRow, referral: Referral, _: Any) -> None:
        # The page sorts by the latest entry; the row shows when activity fell due.
        last = row.due
        row.what = f"Last case-log entry by an officer {last.astimezone(LONDON):%d/%m/%Y %H:%M}"
        row.due = self._timescale(Clock.INACTIVITY, referral.team_id).after(last)

    def _describe_limitation(self, row: QueueRow, referral: Referral, _: Any) -> None:
        limit = limitation_date(self._timescale(Clock.LIMITATION, referral.team_id), referral.offence_date)
        row.due = limit
        passed = " — the limit has passed" if limit < self.now else ""
        row.what = f"Summary-only offence of {referral.offence_date:%d/%m/%Y}{passed}"

    def _describe_police_protection(self, row: QueueRow, protection: PoliceProtection, _: Any) -> None:
        row.what = (f"{protection.child.full_name} in police protection since "
                    f"{protection.started_at.astimezone(LONDON):%d/%m/%Y %H:%M}; designated officer "
                    f"{protection.designated_officer_label}")
        row.open_url = reverse("conferences:medicals", args=[row.referral.urn])

    def _describe_conference_reports(self, row: QueueRow, meeting: Meeting, _: Any) -> None:
        report = getattr(meeting, "police_report", None)
        status = "in draft" if report is not None else "not started"
        row.what = (f"Police report for the {meeting.get_kind_display().lower()} of "
                    f"{meeting.starts_at.astimezone(LONDON):%d/%m/%Y %H:%M} ({status})")
        row.open_url = reverse("conferences:meeting", args=[row.referral.urn, meeting.pk])

    def _describe_minutes(self, row: QueueRow, meeting: Meeting, _: Any) -> None:
        row.what = (f"Minutes of the {meeting.get_kind_display().lower()} held "
                    f"{meeting.starts_at.astimezone(LONDON):%d/%m/%Y} (chair: {meeting.chair_name}, "
                    f"{meeting.chair_agency})")
        row.open_url = reverse("conferences:meeting", args=[row.referral.urn, meeting.pk])

    def _describe_leavers(self, row: QueueRow, record: Any, _: Any) -> None:
        if isinstance(record, Referral):
            row.what = f"Referral owned by {record.owner.display_name}"
            return
        row.what = f"Action owned by {record.owner.display_name}: {record.description}"
        row.open_url = f"{row.referral.get_absolute_url()}?tab=actions"

    def _describe_unallocated(self, row: QueueRow, referral: Referral, _: Any) -> None:
        row.what = f"{referral.get_route_display() or 'No route'}; no investigating officer"

    # --- Timescales ---------------------------------------------------------------------------------

    def _timescales_for(self, clock: str) -> dict[int | None, Timescale]:
        """The teams' rows for a clock (one query), with the default of SPEC §5 under None."""
        if clock not in self._timescales:
            rows = Timescale.objects.filter(_team_scope(self.user, "team_id"), clock=clock)
            found: dict[int | None, Timescale] = {row.team_id: row for row in rows}
            amount, unit = DEFAULT_TIMESCALES[clock]
            found[None] = Timescale(clock=clock, amount=amount, unit=unit)
            self._timescales[clock] = found
        return self._timescales[clock]

    def _timescale(self, clock: str, team_id: int) -> Timescale:
        timescales = self._timescales_for(clock)
        return timescales.get(team_id) or timescales[None]

    def _by_team(self, clock: str, condition: Callable[[Timescale], Q]) -> Q:
        """`condition` under each team's own timescale for `clock`, and the default for the rest."""
        timescales = self._timescales_for(clock)
        teams = [team_id for team_id in timescales if team_id is not None]
        combined = ~Q(team_id__in=teams) & condition(timescales[None])
        for team_id in teams:
            combined |= Q(team_id=team_id) & condition(timescales[team_id])
        return combined


# --- Officers and their workload ---------------------------------------------------------------------

def team_officers(user: Officer) -> QuerySet[Officer]:
    """The active officers of the user's team (every team's, for a force-wide officer), with
    whether each is an investigator (who may own a case) and carries casework at all."""
    officers = Officer.objects.filter(_team_scope(user, "team_id"), is_active=True)
    in_role = Group.objects.filter(user=OuterRef("pk"))
    return officers.annotate(
        is_investigator=Exists(in_role.filter(name=Role.INVESTIGATOR)),
        does_casework=Exists(in_role.filter(name__in=CASEWORK_ROLES)),
    ).order_by("last_name", "first_name", "pk")


def skills_match(skills: Iterable[str], allegation_category: str) -> bool:
    """Whether an officer's skills name the allegation's category ("Sexual offences" for a sexual allegation)."""
    category = allegation_category.lower()
    return bool(category) and any(category in str(skill).lower() for skill in skills)


@dataclass
class OfficerLoad:
    officer: Officer
    by_rating: dict[str, int] = field(default_factory=dict)
    open_actions: int = 0
    overdue_actions: int = 0
    overdue_reminders: int = 0

    @property
    def open_referrals(self) -> int:
        return sum(self.by_rating.values())

    @property
    def overdue(self) -> int:
        return self.overdue_actions + self.overdue_reminders

    @property
    def ratings(self) -> list[tuple[str, str, int]]:
        return [(key, label, self.by_rating.get(key, 0)) for key, label in RATINGS]


def workload(user: Officer, now: dt.datetime, officers: Iterable[Officer]) -> list[OfficerLoad]:
    """Each officer's open referrals by rating, open actions and overdue items, in three queries.

    Overdue items are open actions past their due date plus the officer's unresolved reminders
    past due; an action's own reminder is not counted again.
    """
    loads = {officer.pk: OfficerLoad(officer) for officer in officers}
    ids = list(loads)
    # An investigator's open cases: referral_owner_status_idx.
    for row in (Referral.objects.visible_to(user).open().filter(owner_id__in=ids)
                .values("owner_id", "rating").annotate(count=Count("pk")).order_by()):
        rating = row["rating"] or "none"
        loads[row["owner_id"]].by_rating[rating] = loads[row["owner_id"]].by_rating.get(rating, 0) + row["count"]
    # An officer's open actions by due date: action_owner_open_idx.
    for row in (Action.objects.filter(owner_id__in=ids, status=ActionStatus.OPEN).values("owner_id")
                .annotate(count=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=now))).order_by()):
        loads[row["owner_id"]].open_actions = row["count"]
        loads[row["owner_id"]].overdue_actions = row["overdue"]
    # An officer's own due and overdue items: reminder_owner_idx.
    for row in (Reminder.objects.unresolved().filter(owner_id__in=ids, due_at__lt=now)
                .exclude(kind=ReminderKind.ACTION).values("owner_id").annotate(count=Count("pk")).order_by()):
        loads[row["owner_id"]].overdue_reminders = row["count"]
    return list(loads.values())


def officer_open_work(user: Officer, officer: Officer) -> tuple[QuerySet[Referral], QuerySet[Action]]:
    """A leaver's open referrals (owned or supervised) and open actions, for the exit checklist."""
    # referral_owner_status_idx and referral_supervising_open_idx; action_owner_open_idx.
    referrals = (Referral.objects.visible_to(user).open().filter(Q(owner=officer) | Q(supervising_officer=officer))
                 .for_list().order_by("received_at", "pk"))
    actions = (Action.objects.filter(_team_scope(user, "referral__team_id"), owner=officer, status=ActionStatus.OPEN)
               .select_related("referral").order_by("due_at", "pk"))
    return referrals, actions


class SubqueryCount(Subquery):
    """How many rows a correlated subquery finds, as one scalar column."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) counted)"
    output_field = models.IntegerField()


def leavers(user: Officer) -> QuerySet[Officer]:
    """Officers of the user's team with a leaving date, with how much open work each still holds."""
    # The leavers page: partial index officer_leaving_idx.
    referrals = (Referral.objects.open().filter(Q(owner=OuterRef("pk")) | Q(supervising_officer=OuterRef("pk")))
                 .order_by().values("pk"))
    actions = Action.objects.filter(owner=OuterRef("pk"), status=ActionStatus.OPEN).order_by().values("pk")
    return (Officer.objects.filter(_team_scope(user, "team_id"), leaving_date__isnull=False)
            .annotate(open_referrals=SubqueryCount(referrals), open_actions=SubqueryCount(actions))
            .order_by("leaving_date", "last_name", "pk"))
