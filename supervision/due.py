"""What is due, derived from the database for every clock of SPEC §5.

Each source is one query (however many referrals there are) returning the items due now or
later; the sweep turns them into reminders. Nothing here writes.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db.models import Max, Q

from conferences.models import CONFERENCE_KINDS, Meeting, MeetingStatus, PoliceProtection, ReportStatus
from cram_site.calendar import LONDON
from cram_site.models import DEFAULT_TIMESCALES, Clock, Officer, Role, Timescale
from referrals.models import Action, ActionStatus, CaseLogKind, Referral, ReferralStatus, Route

from .models import ReminderKind


@dataclass(frozen=True)
class DueItem:
    kind: str
    subject_type: str
    subject_id: int
    referral_id: int | None
    owner_id: int
    escalate_to_id: int | None
    notify_at: dt.datetime
    due_at: dt.datetime
    title: str
    escalate_to_email: str = ""

    @property
    def key(self) -> tuple[str, str, int, dt.datetime]:
        return (self.kind, self.subject_type, self.subject_id, self.due_at)


class Escalation:
    """Who an officer's overdue work goes to: their line manager while still serving, else a supervisor
    of their team other than themselves (the team's first supervisor, or the next one for that supervisor's
    own work)."""

    def __init__(self) -> None:
        officers = Officer.objects.filter(is_active=True).values("pk", "team_id", "line_manager_id")
        self.line_manager = {row["pk"]: row["line_manager_id"] for row in officers}
        self.team_of = {row["pk"]: row["team_id"] for row in officers}
        self.team_supervisors: dict[int, list[int]] = {}
        for pk, team_id in (Officer.objects.filter(is_active=True, groups__name=Role.SUPERVISOR)
                            .order_by("pk").values_list("pk", "team_id")):
            self.team_supervisors.setdefault(team_id, []).append(pk)

    def supervisor_of(self, officer_id: int | None, team_id: int | None = None) -> int | None:
        manager = self.line_manager.get(officer_id) if officer_id else None
        # A line manager who has left (inactive, so not in team_of) is passed over.
        if manager and manager != officer_id and manager in self.team_of:
            return manager
        team = team_id if team_id is not None else self.team_of.get(officer_id)
        return next((pk for pk in self.team_supervisors.get(team, []) if pk != officer_id), None)

    def duty_supervisor(self, team_id: int) -> int | None:
        supervisors = self.team_supervisors.get(team_id)
        return supervisors[0] if supervisors else None


def _timescales() -> dict[tuple[int, str], Timescale]:
    return {(row.team_id, row.clock): row for row in Timescale.objects.all()}


class Sources:
    """The due items of every clock, read with a fixed number of queries."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self.escalation = Escalation()
        self.timescales = _timescales()

    def timescale(self, team_id: int, clock: str) -> Timescale:
        timescale = self.timescales.get((team_id, clock))
        if timescale is None:
            # Every team's rows were read at the start: a team without one runs on the default of
            # SPEC §5, without a query per referral.
            amount, unit = DEFAULT_TIMESCALES[clock]
            timescale = self.timescales[(team_id, clock)] = Timescale(team_id=team_id, clock=clock, amount=amount,
                                                                      unit=unit)
        return timescale

    def all(self) -> Iterator[DueItem]:
        for source in self.SOURCES:
            yield from source(self)

    # --- referrals ----------------------------------------------------------------------------

    def desk_assessments(self) -> Iterator[DueItem]:
        for r in Referral.objects.filter(status=ReferralStatus.NEW).only(
                "pk", "urn", "team_id", "logged_by_id", "assessment_due_at"):
            yield DueItem(ReminderKind.DESK_ASSESSMENT, "referrals.referral", r.pk, r.pk, r.logged_by_id,
                          self.escalation.duty_supervisor(r.team_id), r.assessment_due_at, r.assessment_due_at,
                          f"{r.urn}: desk assessment due")

    def written_followups(self) -> Iterator[DueItem]:
        for r in Referral.objects.filter(written_followup_due_at__isnull=False,
                                         written_followup_received_at__isnull=True).exclude(
                status=ReferralStatus.CLOSED).only("pk", "urn", "team_id", "logged_by_id", "written_followup_due_at"):
            yield DueItem(ReminderKind.WRITTEN_FOLLOWUP, "referrals.referral", r.pk, r.pk, r.logged_by_id,
                          self.escalation.supervisor_of(r.logged_by_id, r.team_id), r.written_followup_due_at,
                          r.written_followup_due_at, f"{r.urn}: written referral not yet received")

    def social_services_updates(self) -> Iterator[DueItem]:
        for r in Referral.objects.filter(social_services_update_due_at__isnull=False,
                                         social_services_update_received_at__isnull=True).exclude(
                status=ReferralStatus.CLOSED):
            owner = r.owner_id or r.logged_by_id
            yield DueItem(ReminderKind.SOCIAL_SERVICES_UPDATE, "referrals.referral", r.pk, r.pk, owner,
                          self.escalation.supervisor_of(owner, r.team_id), r.social_services_update_due_at,
                          r.social_services_update_due_at, f"{r.urn}: update from social services due",
                          escalate_to_email=r.referrer_email)

    def cram_reviews(self) -> Iterator[DueItem]:
        for r in Referral.objects.filter(cram_review_due_at__isnull=False).exclude(status=ReferralStatus.CLOSED):
            owner = r.owner_id or r.logged_by_id
            yield DueItem(ReminderKind.CRAM_REVIEW, "referrals.referral", r.pk, r.pk, owner,
                          self.escalation.supervisor_of(owner, r.team_id), r.cram_review_due_at,
                          r.cram_review_due_at, f"{r.urn}: 42-day CRAM review due")

    def cram_signoffs(self) -> Iterator[DueItem]:
        for r in Referral.objects.filter(cram_signoff_due_at__isnull=False).exclude(status=ReferralStatus.CLOSED):
            owner = r.supervising_officer_id or self.escalation.duty_supervisor(r.team_id)
            if owner is None:
                continue
            yield DueItem(ReminderKind.CRAM_SIGNOFF, "referrals.referral", r.pk, r.pk, owner,
                          self.escalation.supervisor_of(owner, r.team_id), r.cram_signoff_due_at,
                          r.cram_signoff_due_at, f"{r.urn}: CRAM awaiting your sign-off")

    def investigation_reviews(self) -> Iterator[DueItem]:
        investigations = (Referral.objects.filter(status=ReferralStatus.OPEN,
                                                  route__in=[Route.POLICE_INVESTIGATION, Route.JOINT_INVESTIGATION])
                          .annotate(last_review=Max("supervisory_reviews__next_review_due_at")))
        for r in investigations:
            owner = r.supervising_officer_id or self.escalation.duty_supervisor(r.team_id)
            if owner is None or r.assessed_at is None:
                continue
            due = r.last_review or self.timescale(r.team_id, Clock.INVESTIGATION_REVIEW).after(r.assessed_at)
            yield DueItem(ReminderKind.INVESTIGATION_REVIEW, "referrals.referral", r.pk, r.pk, owner,
                          self.escalation.supervisor_of(owner, r.team_id), due, due,
                          f"{r.urn}: supervisory review of the investigation due")

    def inactivity(self) -> Iterator[DueItem]:
        investigations = (Referral.objects.filter(status=ReferralStatus.OPEN, owner__isnull=False,
                                                  route__in=[Route.POLICE_INVESTIGATION, Route.JOINT_INVESTIGATION])
                          # The system's own entries (reminders, escalations) are not activity.
                          .annotate(last_entry=Max("case_log__recorded_at",
                                                   filter=~Q(case_log__kind=CaseLogKind.SYSTEM))))
        for r in investigations:
            if r.last_entry is None:
                continue
            due = self.timescale(r.team_id, Clock.INACTIVITY).after(r.last_entry)
            yield DueItem(ReminderKind.INACTIVITY, "referrals.referral", r.pk, r.pk, r.owner_id,
                          self.escalation.supervisor_of(r.owner_id, r.team_id), due, due,
                          f"{r.urn}: no case-log entry for 14 days")

    def limitation(self) -> Iterator[DueItem]:
        """Summary-only offences: proceedings by six months after the offence; warnings at four
        months, five months and 14 days before, each escalating to the supervisor when passed."""
        for r in Referral.objects.filter(summary_only_offence=True, offence_date__isnull=False).exclude(
                status=ReferralStatus.CLOSED):
            owner = r.owner_id or r.logged_by_id
            offence = dt.datetime.combine(r.offence_date, dt.time(9, 0), tzinfo=LONDON)
            limit = self.timescale(r.team_id, Clock.LIMITATION).after(offence)
            first = self.timescale(r.team_id, Clock.LIMITATION_FIRST_WARNING).after(offence)
            second = self.timescale(r.team_id, Clock.LIMITATION_SECOND_WARNING).after(offence)
            final = self.timescale(r.team_id, Clock.LIMITATION_FINAL_WARNING).before(limit)
            supervisor = self.escalation.supervisor_of(owner, r.team_id)
            when = f"{limit.astimezone(LONDON):%d/%m/%Y}"
            for kind, moment, text in ((ReminderKind.LIMITATION_FIRST, first, "four months since the offence"),
                                       (ReminderKind.LIMITATION_SECOND, second, "five months since the offence"),
                                       (ReminderKind.LIMITATION_FINAL, final, "14 days left"),
                                       (ReminderKind.LIMITATION, limit, "proceedings must start today")):
                yield DueItem(kind, "referrals.referral", r.pk, r.pk, owner, supervisor, moment, moment,
                              f"{r.urn}: limitation {when} ({text})")

    def actions(self) -> Iterator[DueItem]:
        for a in Action.objects.filter(status=ActionStatus.OPEN).select_related("referral").only(
                "pk", "description", "owner_id", "due_at", "referral__urn", "referral__team_id"):
            yield DueItem(ReminderKind.ACTION, "referrals.action", a.pk, a.referral_id, a.owner_id,
                          self.escalation.supervisor_of(a.owner_id, a.referral.team_id), a.due_at, a.due_at,
                          f"{a.referral.urn}: {a.description}"[:300])

    # --- conferences ---------------------------------------------------------------------------

    def conference_reports(self) -> Iterator[DueItem]:
        meetings = (Meeting.objects.filter(status=MeetingStatus.SCHEDULED, kind__in=CONFERENCE_KINDS,
                                           report_due_at__isnull=False)
                    .exclude(police_report__status=ReportStatus.SUBMITTED).select_related("referral"))
        pclos = dict(Officer.objects.filter(is_active=True, groups__name=Role.PCLO).order_by("-pk")
                     .values_list("team_id", "pk"))
        for m in meetings:
            owner = m.police_attendee_id or pclos.get(m.team_id) or m.referral.owner_id
            if owner is None:
                continue
            yield DueItem(ReminderKind.CONFERENCE_REPORT, "conferences.meeting", m.pk, m.referral_id, owner,
                          self.escalation.supervisor_of(owner, m.team_id), m.report_due_at, m.report_due_at,
                          f"{m.referral.urn}: police report and pre-conference CRAM for the "
                          f"{m.get_kind_display().lower()} of {m.starts_at.astimezone(LONDON):%d/%m/%Y}")

    def minutes(self) -> Iterator[DueItem]:
        for m in Meeting.objects.filter(status=MeetingStatus.HELD, minutes_received_at__isnull=True,
                                        minutes_due_at__isnull=False).select_related("referral"):
            owner = m.police_attendee_id or m.referral.owner_id or m.created_by_id
            yield DueItem(ReminderKind.MINUTES, "conferences.meeting", m.pk, m.referral_id, owner,
                          self.escalation.supervisor_of(owner, m.team_id), m.minutes_due_at, m.minutes_due_at,
                          f"{m.referral.urn}: minutes of the {m.get_kind_display().lower()} of "
                          f"{m.starts_at.astimezone(LONDON):%d/%m/%Y} not received")

    def police_protection(self) -> Iterator[DueItem]:
        for p in PoliceProtection.objects.filter(ended_at__isnull=True).select_related("referral", "child"):
            warn_at = self.timescale(p.referral.team_id, Clock.POLICE_PROTECTION_WARNING).after(p.started_at)
            yield DueItem(ReminderKind.POLICE_PROTECTION, "conferences.policeprotection", p.pk, p.referral_id,
                          p.designated_officer_id,
                          self.escalation.supervisor_of(p.designated_officer_id, p.referral.team_id),
                          min(warn_at, p.ends_by), p.ends_by,
                          f"{p.referral.urn}: police protection of {p.child.full_name} must end by "
                          f"{p.ends_by.astimezone(LONDON):%d/%m/%Y %H:%M}")

    # --- officers ---------------------------------------------------------------------------

    def leavers(self) -> Iterator[DueItem]:
        """Fourteen days before an officer leaves, their supervisor is prompted to reallocate."""
        leavers = (Officer.objects.filter(is_active=True, leaving_date__isnull=False)
                   .filter(Q(owned_referrals__status=ReferralStatus.OPEN) | Q(actions__status=ActionStatus.OPEN))
                   .distinct())
        for officer in leavers:
            supervisor = self.escalation.supervisor_of(officer.pk, officer.team_id)
            if supervisor is None:
                continue
            leaving = dt.datetime.combine(officer.leaving_date, dt.time(0, 0), tzinfo=LONDON)
            warn = self.timescale(officer.team_id, Clock.LEAVER_WARNING).before(leaving) if officer.team_id else leaving
            yield DueItem(ReminderKind.LEAVER, "cram_site.officer", officer.pk, None, supervisor,
                          self.escalation.supervisor_of(supervisor, officer.team_id), warn, leaving,
                          f"{officer.display_name} leaves on {officer.leaving_date:%d/%m/%Y}: reallocate their open work")

    SOURCES: list[Callable[[Sources], Iterator[DueItem]]] = [
        desk_assessments, written_followups, social_services_updates, cram_reviews, cram_signoffs,
        investigation_reviews, inactivity, limitation, actions, conference_reports, minutes, police_protection,
        leavers,
    ]
