"""Closing a referral (SPEC §5): it closes only when every action is done or cancelled, no reminder
is open, no risk is unmanaged (or a supervisor overrides with a reason), the social-services update
is in where that route was chosen, and any prosecution has concluded; a supervisor approves it.

`closure_checks` says, rule by rule, what stands in the way (the case page shows it);
`referral_close` refuses with every unmet rule at once and stores nothing, or closes the referral.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction

from conferences.models import Meeting, MeetingStatus, ReportStatus
from cram_site.calendar import LONDON
from cram_site.models import Officer
from referrals.models import Action, ActionStatus, CaseLogKind, Referral, ReferralStatus, Route
from referrals.services import case_log_append
from risk.services import unmanaged_risks

from .models import Closure, Reminder, ReminderKind, ReminderState
from .mopi import retention_review_date


class Rule:
    """The closure rules, in the order the case page lists them."""

    ASSESSED = "assessed"
    ACTIONS = "actions"
    REMINDERS = "reminders"
    UNMANAGED_RISK = "unmanaged_risk"
    SOCIAL_SERVICES_UPDATE = "social_services_update"
    PROSECUTION = "prosecution"


RULE_LABELS = {
    Rule.ASSESSED: "The referral has been assessed and is open",
    Rule.ACTIONS: "Every action is done or cancelled",
    Rule.REMINDERS: "No reminder is open",
    Rule.UNMANAGED_RISK: "No risk is unmanaged (or a supervisor overrides with a reason)",
    Rule.SOCIAL_SERVICES_UPDATE: "The update from social services is in",
    Rule.PROSECUTION: "Any prosecution has concluded",
}

# Clocks that run only while a case is open: closing it ends them, so they do not hold it open.
# (A limitation date matters only to a prosecution, which the prosecution rule covers.)
ENDED_BY_CLOSURE = frozenset({
    ReminderKind.CRAM_REVIEW, ReminderKind.INVESTIGATION_REVIEW, ReminderKind.INACTIVITY,
    ReminderKind.LIMITATION_FIRST, ReminderKind.LIMITATION_SECOND, ReminderKind.LIMITATION_FINAL,
    ReminderKind.LIMITATION,
})
# Reminders whose item has a closure rule of its own, which reads the item itself.
OWN_RULE = frozenset({ReminderKind.ACTION, ReminderKind.SOCIAL_SERVICES_UPDATE})


@dataclass(frozen=True)
class Problem:
    """One unmet closure rule, in plain words; `field` is the closure form field that can answer it."""

    rule: str
    message: str
    field: str | None = None
    overridable: bool = False


@dataclass(frozen=True)
class RuleCheck:
    """One closure rule as it stands: met, unmet (with its problems), or not applying to this referral."""

    rule: str
    problems: list[Problem] = field(default_factory=list)
    applies: bool = True
    note: str = ""

    @property
    def label(self) -> str:
        return RULE_LABELS[self.rule]

    @property
    def met(self) -> bool:
        return not self.problems


def _when(moment: dt.datetime) -> str:
    return f"{moment.astimezone(LONDON):%d/%m/%Y %H:%M}"


def closure_checks(referral: Referral, *, now: dt.datetime, prosecution_concluded: bool = False,
                   unmanaged_risk_override: str = "") -> list[RuleCheck]:
    """Every closure rule for this referral as it stands now, with a fixed number of queries."""
    return [
        _assessed(referral),
        _actions(referral),
        _reminders(referral, now=now),
        _unmanaged_risk(referral, override=unmanaged_risk_override),
        _social_services_update(referral),
        _prosecution(referral, confirmed=prosecution_concluded),
    ]


def closure_problems(referral: Referral, *, now: dt.datetime, prosecution_concluded: bool = False,
                     unmanaged_risk_override: str = "") -> list[Problem]:
    """What stands in the way of closing the referral; empty when it may close."""
    return [problem
            for check in closure_checks(referral, now=now, prosecution_concluded=prosecution_concluded,
                                        unmanaged_risk_override=unmanaged_risk_override)
            for problem in check.problems]


def _assessed(referral: Referral) -> RuleCheck:
    if referral.status == ReferralStatus.NEW:
        return RuleCheck(Rule.ASSESSED, [Problem(Rule.ASSESSED, "The referral has not been assessed yet.")])
    if referral.status == ReferralStatus.CLOSED:
        return RuleCheck(Rule.ASSESSED, [Problem(Rule.ASSESSED, "This referral is already closed.")])
    return RuleCheck(Rule.ASSESSED)


def _actions(referral: Referral) -> RuleCheck:
    open_actions = list(Action.objects.filter(referral_id=referral.pk, status=ActionStatus.OPEN)
                        .select_related("owner").order_by("due_at", "pk"))
    if not open_actions:
        return RuleCheck(Rule.ACTIONS)
    listed = "; ".join(f"{action.description} ({action.owner.display_name}, due {_when(action.due_at)})"
                       for action in open_actions)
    count = len(open_actions)
    return RuleCheck(Rule.ACTIONS, [Problem(
        Rule.ACTIONS, f"{count} action{'s are' if count > 1 else ' is'} still open: {listed}.")])


def _reminders(referral: Referral, *, now: dt.datetime) -> RuleCheck:
    """Open reminders of the referral whose item is still outstanding.

    A reminder the sweep has not yet resolved (the written referral has arrived, the CRAM is signed
    off) does not hold the case open: the page must not depend on the worker having run.
    """
    reminders = [reminder for reminder in Reminder.objects.unresolved().filter(referral_id=referral.pk)
                 .order_by("due_at", "pk")
                 if reminder.kind not in ENDED_BY_CLOSURE and reminder.kind not in OWN_RULE]
    meeting_ids = {reminder.subject_id for reminder in reminders
                   if reminder.kind in (ReminderKind.CONFERENCE_REPORT, ReminderKind.MINUTES)}
    meetings = ({row["pk"]: row for row in Meeting.objects.filter(pk__in=meeting_ids)
                 .values("pk", "status", "minutes_received_at", "police_report__status")}
                if meeting_ids else {})
    outstanding = [reminder for reminder in reminders if _still_outstanding(reminder, referral, meetings)]
    if not outstanding:
        return RuleCheck(Rule.REMINDERS)
    listed = "; ".join(f"{reminder.title} ({'overdue since' if reminder.due_at < now else 'due'} "
                       f"{_when(reminder.due_at)})" for reminder in outstanding)
    return RuleCheck(Rule.REMINDERS, [Problem(Rule.REMINDERS, f"Reminders still open: {listed}.")])


def _still_outstanding(reminder: Reminder, referral: Referral, meetings: dict[int, dict[str, Any]]) -> bool:
    """Whether the item a reminder is about still waits to be done (the sweep may not have caught up)."""
    match reminder.kind:
        case ReminderKind.DESK_ASSESSMENT:
            return referral.status == ReferralStatus.NEW
        case ReminderKind.WRITTEN_FOLLOWUP:
            return referral.awaiting_written_followup
        case ReminderKind.CRAM_SIGNOFF:
            return referral.cram_signoff_due_at is not None
        case ReminderKind.POLICE_PROTECTION:
            return referral.police_protection_ends_by is not None
        case ReminderKind.CONFERENCE_REPORT:
            meeting = meetings.get(reminder.subject_id, {})
            return (meeting.get("status") == MeetingStatus.SCHEDULED
                    and meeting.get("police_report__status") != ReportStatus.SUBMITTED)
        case ReminderKind.MINUTES:
            meeting = meetings.get(reminder.subject_id, {})
            return meeting.get("status") == MeetingStatus.HELD and meeting.get("minutes_received_at") is None
    return True


def _unmanaged_risk(referral: Referral, *, override: str) -> RuleCheck:
    count = referral.unmanaged_risk_count
    if not count:
        return RuleCheck(Rule.UNMANAGED_RISK)
    if override.strip():
        return RuleCheck(Rule.UNMANAGED_RISK, note=f"Overridden: {override.strip()}")
    questions = _unmanaged_risk_questions(referral)
    named = f": {'; '.join(questions)}" if questions else ""
    return RuleCheck(Rule.UNMANAGED_RISK, [Problem(
        Rule.UNMANAGED_RISK,
        f"The current CRAM has {count} unmanaged risk{'s' if count > 1 else ''} (a present risk factor with no "
        f"active control measure){named}. Manage {'them' if count > 1 else 'it'} in a new CRAM, or give a "
        "reason to override.",
        field="unmanaged_risk_override", overridable=True)])


def _unmanaged_risk_questions(referral: Referral) -> list[str]:
    """The wording of the current CRAM's unmanaged risks (three queries, only when there are some)."""
    current = (referral.assessments.completed().order_by("-number")
               .prefetch_related("answers", "control_measures").first())
    if current is None:
        return []
    return [answer.question for answer in unmanaged_risks(current.answers.all(), current.control_measures.all())]


def _social_services_update(referral: Referral) -> RuleCheck:
    if referral.route != Route.SOCIAL_SERVICES_ONLY:
        return RuleCheck(Rule.SOCIAL_SERVICES_UPDATE, applies=False,
                         note="Not needed: the route is not “social services only”.")
    if referral.social_services_update_received_at is not None:
        return RuleCheck(Rule.SOCIAL_SERVICES_UPDATE,
                         note=f"Received {_when(referral.social_services_update_received_at)}.")
    due = f" (due {_when(referral.social_services_update_due_at)})" if referral.social_services_update_due_at else ""
    return RuleCheck(Rule.SOCIAL_SERVICES_UPDATE, [Problem(
        Rule.SOCIAL_SERVICES_UPDATE, f"The update from social services has not been received{due}.")])


def _prosecution(referral: Referral, *, confirmed: bool) -> RuleCheck:
    # The product records no charging outcome, so the supervisor confirms it when a crime is recorded.
    if not referral.crime_report_number:
        return RuleCheck(Rule.PROSECUTION, applies=False, note="No crime report number: nothing to confirm.")
    if confirmed:
        return RuleCheck(Rule.PROSECUTION, note="Confirmed by the approving supervisor.")
    return RuleCheck(Rule.PROSECUTION, [Problem(
        Rule.PROSECUTION, f"Crime report {referral.crime_report_number} is recorded: confirm that any "
                          "prosecution has concluded.", field="prosecution_concluded")])


def referral_close(*, referral: Referral, actor: Officer, now: dt.datetime, rationale: str,
                   unmanaged_risk_override: str = "", prosecution_concluded: bool = False) -> Closure:
    """A supervisor approves the closure of a referral that meets every rule.

    Refuses with every unmet rule listed, storing nothing. On approval: the Closure record, the
    referral closed, a case-log entry, and the referral's open reminders resolved.
    """
    if not actor.has_perm("supervision.approve_closure"):
        raise PermissionDenied("Only a supervisor approves the closure of a referral.")
    if actor.team_id != referral.team_id and not actor.force_wide:
        raise PermissionDenied("A referral is closed by a supervisor of its own team.")
    with transaction.atomic():
        # Locked, so two supervisors approving at once cannot both close it, and an action added
        # meanwhile is seen.
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        if locked.status == ReferralStatus.CLOSED or Closure.objects.filter(referral_id=locked.pk).exists():
            raise ValidationError("This referral is already closed.")
        override = unmanaged_risk_override.strip() if locked.unmanaged_risk_count else ""
        problems = closure_problems(locked, now=now, prosecution_concluded=prosecution_concluded,
                                   unmanaged_risk_override=override)
        errors: dict[str, list[str]] = {}
        if not rationale.strip():
            errors["rationale"] = ["Give the rationale for closing the referral."]
        for problem in problems:
            errors.setdefault(problem.field or NON_FIELD_ERRORS, []).append(problem.message)
        if errors:
            raise ValidationError(errors)
        closure = Closure.objects.create(referral=locked, approved_by=actor, approved_by_label=actor.display_name,
                                         approved_at=now, rationale=rationale.strip(),
                                         unmanaged_risk_override=override)
        locked.status = ReferralStatus.CLOSED
        locked.closed_at = now
        # Information management (MoPI): the first review date, from the category's retention period.
        locked.mopi_review_due_on = retention_review_date(locked, now)
        locked.save(update_fields=["status", "closed_at", "mopi_review_due_on"])
        text = f"Closure approved by {actor.display_name}."
        if override:
            text += (f" {locked.unmanaged_risk_count} unmanaged risk{'s' if locked.unmanaged_risk_count > 1 else ''}"
                     f" overridden: {override}")
            text = text.rstrip(".") + "."
        if locked.crime_report_number:
            text += f" Confirmed that any prosecution on crime report {locked.crime_report_number} has concluded."
        text += f" Rationale: {closure.rationale}"
        case_log_append(referral=locked, kind=CaseLogKind.SUPERVISION, actor=actor, now=now, text=text)
        Reminder.objects.unresolved().filter(referral_id=locked.pk).update(state=ReminderState.RESOLVED,
                                                                           resolved_at=now)
    referral.status, referral.closed_at = locked.status, locked.closed_at
    referral.mopi_review_due_on = locked.mopi_review_due_on
    referral.case_log_count = locked.case_log_count
    return closure
