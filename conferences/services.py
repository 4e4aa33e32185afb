"""Every write about meetings, reports, medicals and police protection; one transaction each."""
from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from cram_site.calendar import LONDON
from cram_site.models import Clock, Officer, Timescale
from cram_site.timescales import due_after, due_before
from referrals.models import CHILD_ROLES, AllegationCategory, CaseLogKind, Person, Referral
from referrals.services import action_create, case_log_append
from risk.models import Assessment, AssessmentKind

from .models import (
    CONFERENCE_KINDS,
    STRATEGY_KINDS,
    SUPERVISOR_RANKS,
    AgreedAction,
    Attendance,
    AttendanceStatus,
    ConferenceOutcome,
    KeyRole,
    MedicalExamination,
    Meeting,
    MeetingKind,
    MeetingStatus,
    PoliceProtection,
    PoliceReport,
    ReportStatus,
    StrategyRecord,
)


def _when(moment: dt.datetime) -> str:
    return f"{moment.astimezone(LONDON):%d/%m/%Y %H:%M}"


# --- Meetings ----------------------------------------------------------------------------------

def meeting_create(*, referral: Referral, actor: Officer, now: dt.datetime, kind: str, starts_at: dt.datetime,
                   place: str, chair_name: str, chair_agency: str, children: Iterable[Person] = (),
                   police_attendee: Officer | None = None, held: bool = False) -> Meeting:
    """Schedule a meeting, or record one already held. A meeting in the past cannot be "scheduled"."""
    if not held and starts_at < now:
        raise ValidationError({"starts_at": "This date is in the past: record the meeting as held, "
                                            "or give the date it will take place."})
    if held and starts_at > now:
        raise ValidationError({"starts_at": "A meeting that has been held cannot be in the future."})
    children = list(children)
    for child in children:
        if not referral.referral_people.filter(person=child, role__in=CHILD_ROLES).exists():
            raise ValidationError({"children": f"{child.full_name} is not named on this referral as a child."})
    with transaction.atomic():
        meeting = Meeting.objects.create(
            referral=referral, team_id=referral.team_id, kind=kind, starts_at=starts_at, place=place.strip(),
            chair_name=chair_name.strip(), chair_agency=chair_agency.strip(), police_attendee=police_attendee,
            created_by=actor, created_at=now,
            report_due_at=_report_due(referral, kind, starts_at),
        )
        meeting.children.set(children)
        case_log_append(referral=referral, kind=CaseLogKind.MEETING, actor=actor, now=now,
                        text=(f"{meeting.get_kind_display()} {'recorded' if held else 'scheduled'} for "
                              f"{_when(starts_at)} at {meeting.place}, chaired by {meeting.chair_name} "
                              f"({meeting.chair_agency})."))
        if held:
            meeting_hold(meeting=meeting, actor=actor, now=now)
    return meeting


def _report_due(referral: Referral, kind: str, starts_at: dt.datetime) -> dt.datetime | None:
    if kind == MeetingKind.INITIAL_CONFERENCE:
        return due_before(team=referral.team_id, clock=Clock.REPORT_BEFORE_INITIAL, deadline=starts_at)
    if kind == MeetingKind.REVIEW_CONFERENCE:
        return due_before(team=referral.team_id, clock=Clock.REPORT_BEFORE_REVIEW, deadline=starts_at)
    return None


def meeting_hold(*, meeting: Meeting, actor: Officer, now: dt.datetime, outcome: str = "",
                 plan_category: str = "") -> Meeting:
    """Mark the meeting held: its minutes clock starts, its flags are set, the case log records it."""
    if meeting.starts_at > now:
        raise ValidationError("A meeting cannot be recorded as held before it starts.")
    if meeting.kind in CONFERENCE_KINDS and outcome and outcome in (ConferenceOutcome.PLAN_MADE,
                                                                    ConferenceOutcome.PLAN_CONTINUED) \
            and not plan_category:
        raise ValidationError({"plan_category": "Give the category of the plan."})
    with transaction.atomic():
        locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
        if locked.status != MeetingStatus.SCHEDULED:
            raise ValidationError(f"This meeting is already {locked.get_status_display().lower()}.")
        meeting.status = MeetingStatus.HELD
        meeting.held_at = now
        meeting.outcome = outcome
        meeting.plan_category = plan_category
        meeting.minutes_due_at = due_after(team=meeting.team_id, clock=Clock.MINUTES, start=meeting.starts_at)
        meeting.save(update_fields=["status", "held_at", "outcome", "plan_category", "minutes_due_at"])
        _refresh_flags(meeting)
        text = f"{meeting.get_kind_display()} held on {_when(meeting.starts_at)}."
        if outcome:
            text += f" Outcome: {meeting.get_outcome_display()}"
            text += f" ({meeting.get_plan_category_display().lower()})." if plan_category else "."
        if meeting.flags:
            text += " Flagged: " + "; ".join(meeting.flags) + "."
        text += f" Minutes expected by {_when(meeting.minutes_due_at)}."
        case_log_append(referral=meeting.referral, kind=CaseLogKind.MEETING, actor=actor, now=now,
                        occurred_at=meeting.starts_at, text=text)
    return meeting


def meeting_cancel(*, meeting: Meeting, actor: Officer, now: dt.datetime, reason: str) -> Meeting:
    if not reason.strip():
        raise ValidationError({"reason": "Say why the meeting was cancelled."})
    with transaction.atomic():
        locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
        if locked.status != MeetingStatus.SCHEDULED:
            raise ValidationError(f"This meeting is already {locked.get_status_display().lower()}.")
        meeting.status = MeetingStatus.CANCELLED
        meeting.cancelled_reason = reason.strip()
        meeting.save(update_fields=["status", "cancelled_reason"])
        case_log_append(referral=meeting.referral, kind=CaseLogKind.MEETING, actor=actor, now=now,
                        text=f"{meeting.get_kind_display()} of {_when(meeting.starts_at)} cancelled: {reason.strip()}")
    return meeting


def minutes_record(*, meeting: Meeting, actor: Officer, now: dt.datetime, received_at: dt.datetime) -> Meeting:
    """The minutes have arrived: the minutes clock closes."""
    if meeting.status != MeetingStatus.HELD:
        raise ValidationError("Minutes are recorded for a meeting that has been held.")
    if meeting.minutes_received_at is not None:
        raise ValidationError("The minutes of this meeting have already been recorded.")
    if received_at > now:
        raise ValidationError({"received_at": "Minutes cannot arrive in the future."})
    if received_at < meeting.starts_at:
        raise ValidationError({"received_at": "Minutes cannot arrive before the meeting."})
    with transaction.atomic():
        meeting.minutes_received_at = received_at
        meeting.save(update_fields=["minutes_received_at"])
        late = meeting.minutes_due_at is not None and received_at > meeting.minutes_due_at
        case_log_append(referral=meeting.referral, kind=CaseLogKind.MEETING, actor=actor, now=now,
                        occurred_at=received_at,
                        text=(f"Minutes of the {meeting.get_kind_display().lower()} of {_when(meeting.starts_at)} "
                              f"received from {meeting.chair_agency}{' (late)' if late else ''}."))
    return meeting


# --- Attendance and flags ------------------------------------------------------------------------

def attendance_add(*, meeting: Meeting, actor: Officer, now: dt.datetime, name: str, agency: str,
                   status: str, designation: str = "", is_police: bool = False, rank: str = "",
                   key_role: str = "") -> Attendance:
    if not name.strip():
        raise ValidationError({"name": "Give the person's name."})
    if not agency.strip():
        raise ValidationError({"agency": "Give the person's agency."})
    if is_police and not rank:
        raise ValidationError({"rank": "Give the rank of a police attendee."})
    if status == AttendanceStatus.ATTENDED and meeting.starts_at > now:
        raise ValidationError({"status": "Nobody has attended a meeting that has not started."})
    with transaction.atomic():
        attendance = Attendance.objects.create(
            meeting=meeting, name=name.strip(), agency=agency.strip(), designation=designation.strip(),
            is_police=is_police, rank=rank if is_police else "", key_role=key_role, status=status)
        _refresh_flags(meeting)
    return attendance


def _refresh_flags(meeting: Meeting) -> None:
    """Recompute the attendance flags of a held meeting (SPEC §1: supervisor, paediatrician, police)."""
    if meeting.status != MeetingStatus.HELD:
        return
    attended = [row for row in meeting.attendance.all() if row.status == AttendanceStatus.ATTENDED]
    police = [row for row in attended if row.is_police]
    meeting.flag_no_police_supervisor = (meeting.kind in STRATEGY_KINDS
                                         and not any(row.rank in SUPERVISOR_RANKS for row in police))
    meeting.flag_no_paediatrician = (
        meeting.kind in STRATEGY_KINDS and meeting.referral.allegation_category == AllegationCategory.PHYSICAL
        and not any(row.key_role == KeyRole.EXAMINING_PAEDIATRICIAN for row in attended))
    meeting.flag_no_police = meeting.kind in CONFERENCE_KINDS and not police
    meeting.save(update_fields=["flag_no_police_supervisor", "flag_no_paediatrician", "flag_no_police"])


# --- Strategy meeting record ----------------------------------------------------------------------

@dataclass(frozen=True)
class AgreedActionInput:
    description: str
    owner_agency: str
    owner: Officer
    due_at: dt.datetime


def strategy_record_save(*, meeting: Meeting, actor: Officer, now: dt.datetime, decisions: str,
                         agreed_actions: list[AgreedActionInput]) -> StrategyRecord:
    """Write (or rewrite, until countersigned) the decisions and agreed actions of a strategy meeting."""
    if meeting.kind not in STRATEGY_KINDS:
        raise ValidationError("Only a strategy discussion or meeting has a strategy record.")
    if not decisions.strip():
        raise ValidationError({"decisions": "Record the decisions made."})
    for item in agreed_actions:
        if not item.description.strip() or not item.owner_agency.strip():
            raise ValidationError({"agreed_actions": "Each agreed action needs a description and an agency."})
        if item.due_at < now:
            raise ValidationError({"agreed_actions": "An agreed action cannot be due in the past."})
    with transaction.atomic():
        record = StrategyRecord.objects.select_for_update().filter(meeting=meeting).first()
        if record is not None and record.is_countersigned:
            raise ValidationError("This record has been countersigned by the chair and cannot be changed.")
        if record is None:
            record = StrategyRecord(meeting=meeting)
        record.decisions = decisions.strip()
        record.recorded_by = actor
        record.recorded_at = now
        record.save()
        record.agreed_actions.all().delete()
        for item in agreed_actions:
            # Agreed actions become case actions when the chair countersigns; until then none exists.
            AgreedAction.objects.create(record=record, description=item.description.strip(),
                                        owner_agency=item.owner_agency.strip(), owner=item.owner,
                                        due_at=item.due_at)
    return record


def strategy_record_countersign(*, record: StrategyRecord, actor: Officer, now: dt.datetime,
                                chair_name: str) -> StrategyRecord:
    """The chair countersigns: the record freezes and each agreed action becomes a case action."""
    if not chair_name.strip():
        raise ValidationError({"chair_name": "Give the chair's name."})
    with transaction.atomic():
        locked = StrategyRecord.objects.select_for_update().select_related("meeting__referral").get(pk=record.pk)
        if locked.is_countersigned:
            raise ValidationError("This record has already been countersigned.")
        if locked.meeting.status != MeetingStatus.HELD:
            raise ValidationError("The chair countersigns the record of a meeting that has been held.")
        referral = locked.meeting.referral
        for agreed in locked.agreed_actions.select_related("owner"):
            agreed.action = action_create(referral=referral, actor=actor, now=now, owner=agreed.owner,
                                          due_at=max(agreed.due_at, now),
                                          description=f"{agreed.description} ({agreed.owner_agency})"[:300])
            agreed.save(update_fields=["action"])
        locked.countersigned_by = chair_name.strip()
        locked.countersigned_at = now
        locked.save(update_fields=["countersigned_by", "countersigned_at"])
        case_log_append(referral=referral, kind=CaseLogKind.MEETING, actor=actor, now=now,
                        text=(f"Strategy record of {_when(locked.meeting.starts_at)} countersigned by the chair, "
                              f"{locked.countersigned_by}. Decisions: {locked.decisions}"))
    return locked


# --- Clocks ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ConferenceClock:
    label: str
    due_at: dt.datetime
    done_at: dt.datetime | None

    def is_late(self, now: dt.datetime) -> bool:
        return (self.done_at or now) > self.due_at


def conference_clocks(meetings: list[Meeting], reports: dict[int, PoliceReport], *,
                      team_id: int) -> list[ConferenceClock]:
    """Every conference clock of a referral's meetings (SPEC §5), from meetings ordered by date."""
    live = [m for m in meetings if m.status != MeetingStatus.CANCELLED]
    held = [m for m in live if m.status == MeetingStatus.HELD]
    clocks: list[ConferenceClock] = []

    # Each clock's timescale is read once, not once per review conference, so a case page's
    # queries do not grow with the number of meetings.
    @functools.cache
    def timescale(clock: str) -> Timescale:
        return Timescale.objects.for_team(team_id, clock)

    strategy = next((m for m in held if m.kind in STRATEGY_KINDS), None)
    initial = next((m for m in live if m.kind == MeetingKind.INITIAL_CONFERENCE), None)
    if strategy is not None:
        clocks.append(ConferenceClock(
            "Initial conference within 15 working days of the strategy discussion",
            timescale(Clock.INITIAL_CONFERENCE).after(strategy.starts_at),
            initial.starts_at if initial else None))
    initial_held = next((m for m in held if m.kind == MeetingKind.INITIAL_CONFERENCE), None)
    if initial_held is not None:
        core = next((m for m in live if m.kind == MeetingKind.CORE_GROUP and m.starts_at >= initial_held.starts_at),
                    None)
        clocks.append(ConferenceClock(
            "First core group within 10 working days of the initial conference",
            timescale(Clock.FIRST_CORE_GROUP).after(initial_held.starts_at),
            core.starts_at if core else None))
        reviews = [m for m in live if m.kind == MeetingKind.REVIEW_CONFERENCE and m.starts_at > initial_held.starts_at]
        previous, clock, label = initial_held.starts_at, Clock.FIRST_REVIEW_CONFERENCE, "First review conference"
        for review in reviews + [None]:
            clocks.append(ConferenceClock(f"{label} within {'3' if clock == Clock.FIRST_REVIEW_CONFERENCE else '6'}"
                                          " months", timescale(clock).after(previous),
                                          review.starts_at if review else None))
            if review is None or review.status != MeetingStatus.HELD:
                break
            previous, clock, label = review.starts_at, Clock.LATER_REVIEW_CONFERENCE, "Next review conference"
    for meeting in live:
        if meeting.report_due_at is not None:
            report = reports.get(meeting.pk)
            clocks.append(ConferenceClock(
                f"Police report and pre-conference CRAM for the {meeting.get_kind_display().lower()} of "
                f"{meeting.starts_at.astimezone(LONDON):%d/%m/%Y}", meeting.report_due_at,
                report.submitted_at if report is not None and report.is_submitted else None))
        if meeting.minutes_due_at is not None:
            clocks.append(ConferenceClock(
                f"Minutes of the {meeting.get_kind_display().lower()} of {meeting.starts_at.astimezone(LONDON):%d/%m/%Y}",
                meeting.minutes_due_at, meeting.minutes_received_at))
    return clocks


# --- The police report --------------------------------------------------------------------------

def police_report_open(*, meeting: Meeting, actor: Officer, now: dt.datetime) -> PoliceReport:
    if meeting.kind not in CONFERENCE_KINDS:
        raise ValidationError("A police report is prepared for a child protection conference.")
    with transaction.atomic():
        report, created = PoliceReport.objects.get_or_create(
            meeting=meeting, defaults={"prepared_by": actor, "opened_at": now, "updated_at": now})
        if created:
            case_log_append(referral=meeting.referral, kind=CaseLogKind.MEETING, actor=actor, now=now,
                            text=f"Police report opened for the {meeting.get_kind_display().lower()} of "
                                 f"{_when(meeting.starts_at)}.")
    return report


def police_report_save(*, report: PoliceReport, actor: Officer, now: dt.datetime, summary_of_concerns: str,
                       police_involvement: str, analysis: str, recommendations: str) -> PoliceReport:
    with transaction.atomic():
        locked = PoliceReport.objects.select_for_update().get(pk=report.pk)
        if locked.is_submitted:
            raise ValidationError("This report has been submitted and cannot be changed.")
        report.summary_of_concerns = summary_of_concerns.strip()
        report.police_involvement = police_involvement.strip()
        report.analysis = analysis.strip()
        report.recommendations = recommendations.strip()
        report.updated_at = now
        report.save(update_fields=["summary_of_concerns", "police_involvement", "analysis", "recommendations",
                                   "updated_at"])
    return report


def pre_conference_assessment(meeting: Meeting) -> Assessment | None:
    """The completed pre-conference CRAM for this conference: completed since the previous
    conference of the referral was held, and not after this one."""
    previous = (Meeting.objects.filter(referral_id=meeting.referral_id, kind__in=CONFERENCE_KINDS,
                                       status=MeetingStatus.HELD, starts_at__lt=meeting.starts_at)
                .exclude(pk=meeting.pk).order_by("-starts_at").first())
    candidates = Assessment.objects.completed().filter(referral_id=meeting.referral_id,
                                                       kind=AssessmentKind.PRE_CONFERENCE,
                                                       completed_at__lte=meeting.starts_at)
    if previous is not None:
        candidates = candidates.filter(completed_at__gt=previous.starts_at)
    return candidates.order_by("-completed_at").first()


def police_report_submit(*, report: PoliceReport, actor: Officer, now: dt.datetime, submitted_to: str,
                         contents: dict[str, Any]) -> PoliceReport:
    """Submit the report to the conference chair; what it says is kept exactly as submitted.

    Refused until a pre-conference CRAM for this conference is complete.
    """
    if not submitted_to.strip():
        raise ValidationError({"submitted_to": "Say to whom the report is submitted."})
    with transaction.atomic():
        locked = PoliceReport.objects.select_for_update().select_related("meeting__referral").get(pk=report.pk)
        if locked.is_submitted:
            raise ValidationError("This report has already been submitted.")
        assessment = pre_conference_assessment(locked.meeting)
        if assessment is None:
            raise ValidationError("Complete the pre-conference CRAM for this conference before submitting the report.")
        if not (locked.summary_of_concerns and locked.recommendations):
            raise ValidationError("Write the summary of concerns and the recommendations before submitting.")
        locked.status = ReportStatus.SUBMITTED
        locked.submitted_to = submitted_to.strip()
        locked.submitted_at = now
        locked.submitted_by_label = actor.display_name
        locked.pre_conference_assessment = assessment
        locked.snapshot = contents
        locked.save(update_fields=["status", "submitted_to", "submitted_at", "submitted_by_label",
                                   "pre_conference_assessment", "snapshot"])
        late = locked.meeting.report_due_at is not None and now > locked.meeting.report_due_at
        case_log_append(referral=locked.meeting.referral, kind=CaseLogKind.MEETING, actor=actor, now=now,
                        text=(f"Police report for the {locked.meeting.get_kind_display().lower()} of "
                              f"{_when(locked.meeting.starts_at)} submitted to {locked.submitted_to}"
                              f"{' (after its due date)' if late else ''}, with CRAM {assessment.number}."))
    return locked


# --- Medical examinations and police protection ---------------------------------------------------

def medical_record(*, referral: Referral, actor: Officer, now: dt.datetime, child: Person,
                   examined_at: dt.datetime, kind: str, examiner_name: str, examiner_role: str,
                   police_attended: bool, non_attendance_reason: str = "", deciding_officer: Officer | None = None,
                   photographs_taken: bool = False, first_account_secured: bool = False) -> MedicalExamination:
    if examined_at > now:
        raise ValidationError({"examined_at": "An examination cannot be recorded before it happens."})
    if not police_attended and not non_attendance_reason.strip():
        raise ValidationError({"non_attendance_reason": "Say why police did not attend."})
    if not police_attended and deciding_officer is None:
        raise ValidationError({"deciding_officer": "Name the officer who decided police would not attend."})
    if not referral.referral_people.filter(person=child, role__in=CHILD_ROLES).exists():
        raise ValidationError({"child": "The child must be named on this referral."})
    with transaction.atomic():
        examination = MedicalExamination.objects.create(
            referral=referral, child=child, examined_at=examined_at, kind=kind, examiner_name=examiner_name.strip(),
            examiner_role=examiner_role.strip(), police_attended=police_attended,
            non_attendance_reason="" if police_attended else non_attendance_reason.strip(),
            deciding_officer=None if police_attended else deciding_officer,
            deciding_officer_label="" if police_attended or deciding_officer is None else deciding_officer.display_name,
            photographs_taken=photographs_taken, first_account_secured=first_account_secured,
            recorded_by=actor, recorded_at=now)
        text = (f"{examination.get_kind_display()} medical examination of {child.full_name} by "
                f"{examination.examiner_name} ({examination.examiner_role}). ")
        if police_attended:
            text += "Police attended."
        else:
            text += (f"Police did not attend: {examination.non_attendance_reason} "
                     f"(decided by {examination.deciding_officer_label}).")
        text += f" Photographs {'taken' if photographs_taken else 'not taken'}; first account " \
                f"{'secured' if first_account_secured else 'not secured'}."
        case_log_append(referral=referral, kind=CaseLogKind.MEDICAL, actor=actor, now=now, occurred_at=examined_at,
                        text=text)
    return examination


def protection_start(*, referral: Referral, actor: Officer, now: dt.datetime, child: Person,
                     started_at: dt.datetime, designated_officer: Officer, reason: str) -> PoliceProtection:
    """A child taken into police protection; it must end within 72 hours of starting."""
    if started_at > now:
        raise ValidationError({"started_at": "Police protection cannot start in the future."})
    if not reason.strip():
        raise ValidationError({"reason": "Give the reason for police protection."})
    if not referral.referral_people.filter(person=child, role__in=CHILD_ROLES).exists():
        raise ValidationError({"child": "The child must be named on this referral."})
    ends_by = due_after(team=referral.team_id, clock=Clock.POLICE_PROTECTION, start=started_at)
    with transaction.atomic():
        already = ValidationError({"child": f"{child.full_name} is already in police protection."})
        if PoliceProtection.objects.filter(child=child, ended_at__isnull=True).exists():
            raise already
        try:
            # The unique constraint on a child's running protection settles two officers starting at once.
            with transaction.atomic():
                protection = PoliceProtection.objects.create(
                    referral=referral, child=child, started_at=started_at, ends_by=ends_by,
                    designated_officer=designated_officer, designated_officer_label=designated_officer.display_name,
                    reason=reason.strip(), recorded_by=actor, recorded_at=now)
        except IntegrityError as error:
            raise already from error
        _refresh_protection(referral)
        case_log_append(referral=referral, kind=CaseLogKind.DECISION, actor=actor, now=now, occurred_at=started_at,
                        text=(f"{child.full_name} taken into police protection at {_when(started_at)}. Designated "
                              f"officer: {designated_officer.display_name}. Must end by {_when(ends_by)}. "
                              f"Reason: {protection.reason}"))
    return protection


def protection_end(*, protection: PoliceProtection, actor: Officer, now: dt.datetime, ended_at: dt.datetime,
                   note: str = "") -> PoliceProtection:
    if ended_at < protection.started_at:
        raise ValidationError({"ended_at": "Police protection cannot end before it starts."})
    if ended_at > protection.ends_by:
        raise ValidationError({"ended_at": f"Police protection cannot run past 72 hours (by {_when(protection.ends_by)})."})
    if ended_at > now:
        raise ValidationError({"ended_at": "Police protection cannot end in the future."})
    with transaction.atomic():
        locked = PoliceProtection.objects.select_for_update().get(pk=protection.pk)
        if not locked.is_running:
            raise ValidationError("This police protection has already ended.")
        protection.ended_at = ended_at
        protection.save(update_fields=["ended_at"])
        _refresh_protection(protection.referral)
        case_log_append(referral=protection.referral, kind=CaseLogKind.DECISION, actor=actor, now=now,
                        occurred_at=ended_at,
                        text=f"Police protection of {protection.child.full_name} ended at {_when(ended_at)}. {note}".strip())
    return protection


def _refresh_protection(referral: Referral) -> None:
    running = (PoliceProtection.objects.filter(referral=referral, ended_at__isnull=True)
               .order_by("ends_by").values_list("ends_by", flat=True).first())
    Referral.objects.filter(pk=referral.pk).update(police_protection_ends_by=running)
    referral.police_protection_ends_by = running
