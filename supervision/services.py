"""Writes of the supervisor's pages: leaving dates, reallocating a leaver's work, action
reallocation and notifications read. Each is one transaction; bad input stores nothing."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from cram_site.calendar import london_date
from cram_site.models import AuditEvent, Officer
from referrals.models import Action, ActionStatus, CaseLogKind, Referral, ReferralStatus
from referrals.services import case_log_append, referral_allocate

from .models import Notification, Reminder

ACTION_SUBJECT = "referrals.action"


# --- Leaving dates ------------------------------------------------------------------------------

def officer_leaving_date_set(*, officer: Officer, actor: Officer, now: dt.datetime,
                             leaving_date: dt.date | None) -> Officer:
    """Record (or clear) the date an officer leaves the team; the change is audited with who made it."""
    if leaving_date is not None and leaving_date < london_date(now):
        raise ValidationError({"leaving_date": "The leaving date cannot be in the past."})
    if officer.team_id != actor.team_id and not (actor.force_wide or actor.is_superuser):
        raise ValidationError({"officer": f"{officer.display_name} is not in your team."})
    with transaction.atomic():
        locked = Officer.objects.select_for_update().get(pk=officer.pk)
        before = locked.leaving_date
        if before == leaving_date:
            return locked
        locked.leaving_date = leaving_date
        locked.save(update_fields=["leaving_date"])
        # Officers are not change-logged by django-auditlog, so the change is written here, in
        # the same transaction as the save.
        AuditEvent.objects.log_create(
            locked, action=AuditEvent.Action.UPDATE, actor=actor,
            changes={"leaving_date": [str(before) if before else "None", str(leaving_date) if leaving_date else "None"]},
        )
    officer.leaving_date = leaving_date
    return locked


# --- Reallocating actions and a leaver's work ------------------------------------------------------

def _owner_problem(owner: Officer | None, *, team_id: int | None, leaver: Officer | None = None) -> str:
    if owner is None:
        return "Choose the new owner."
    if leaver is not None and owner.pk == leaver.pk:
        return "Choose someone other than the officer who is leaving."
    if not owner.is_active:
        return f"{owner.display_name} is no longer an active officer."
    if owner.team_id != team_id and not owner.force_wide:
        return f"{owner.display_name} is not in this team."
    return ""


def action_reallocate(*, action: Action, actor: Officer, now: dt.datetime, owner: Officer,
                      rationale: str) -> Action:
    """Give an open action a new owner, with the reason why, in the case log."""
    if not rationale.strip():
        raise ValidationError({"rationale": "Give the rationale for the reallocation."})
    with transaction.atomic():
        locked = Action.objects.select_for_update().select_related("referral__team", "owner").get(pk=action.pk)
        if not locked.is_open:
            raise ValidationError("This action is already finished.")
        problem = _owner_problem(owner, team_id=locked.referral.team_id)
        if problem:
            raise ValidationError({"owner": problem})
        if locked.owner_id == owner.pk:
            raise ValidationError({"owner": f"{owner.display_name} already owns this action."})
        before = locked.owner
        locked.owner = owner
        locked.save(update_fields=["owner"])
        # The action's open reminder follows it to the new owner.
        Reminder.objects.unresolved().filter(subject_type=ACTION_SUBJECT, subject_id=locked.pk,
                                             owner=before).update(owner=owner)
        case_log_append(
            referral=locked.referral, kind=CaseLogKind.SYSTEM, actor=actor, now=now,
            text=(f"Action reallocated from {before.display_name} to {owner.display_name}: {rationale.strip()} "
                  f"(action: {locked.description})"),
        )
    return locked


@dataclass(frozen=True)
class Move:
    """One item of a leaver's work and who takes it on, with why."""

    subject: str  # "referral" or "action"
    subject_id: int
    owner: Officer | None
    rationale: str

    @property
    def key(self) -> str:
        return f"{self.subject}-{self.subject_id}"


def leaver_work_reallocate(*, leaver: Officer, actor: Officer, now: dt.datetime, moves: list[Move]) -> int:
    """Reallocate a leaver's open referrals and actions, each to its new owner with its rationale.

    Every move is checked first; any problem is reported against its item (keyed "referral-12",
    "action-7") and nothing is stored. Then all moves are made in one transaction, each with its
    own case-log entry: a referral the leaver owns gets a new investigating officer, one they
    supervise a new supervisor. Returns how many items were moved.
    """
    if not moves:
        raise ValidationError("Choose a new owner and give a rationale for at least one item.")
    referrals = Referral.objects.in_bulk([m.subject_id for m in moves if m.subject == "referral"])
    actions = Action.objects.in_bulk([m.subject_id for m in moves if m.subject == "action"])
    problems: dict[str, list[str]] = {}
    for move in moves:
        messages = []
        record = (referrals if move.subject == "referral" else actions).get(move.subject_id)
        if record is None or not _is_open_work_of(record, leaver):
            messages.append(f"This is no longer open work of {leaver.display_name}.")
        problem = _owner_problem(move.owner, team_id=leaver.team_id, leaver=leaver)
        if problem:
            messages.append(problem)
        if not move.rationale.strip():
            messages.append("Give the rationale for this move.")
        if messages:
            problems[move.key] = messages
    if problems:
        raise ValidationError(problems)
    when = f" (leaving {leaver.leaving_date:%d/%m/%Y})" if leaver.leaving_date else ""
    with transaction.atomic():
        for move in moves:
            if move.subject == "action":
                action_reallocate(action=actions[move.subject_id], actor=actor, now=now, owner=move.owner,
                                  rationale=f"{leaver.display_name}{when} — {move.rationale.strip()}")
                continue
            referral = Referral.objects.select_related("team", "owner", "supervising_officer").get(
                pk=move.subject_id)
            owner = move.owner if referral.owner_id == leaver.pk else referral.owner
            supervisor = move.owner if referral.supervising_officer_id == leaver.pk else referral.supervising_officer
            referral_allocate(referral=referral, actor=actor, now=now, owner=owner, supervising_officer=supervisor,
                              reason=f"{leaver.display_name}{when} — {move.rationale.strip()}")
            # The leaver's open reminders on the case go with it.
            Reminder.objects.unresolved().filter(referral_id=referral.pk, owner=leaver).exclude(
                subject_type=ACTION_SUBJECT).update(owner=move.owner)
    return len(moves)


def _is_open_work_of(record: Referral | Action, leaver: Officer) -> bool:
    if isinstance(record, Action):
        return record.status == ActionStatus.OPEN and record.owner_id == leaver.pk
    return record.status != ReferralStatus.CLOSED and leaver.pk in (record.owner_id, record.supervising_officer_id)


# --- Notifications ------------------------------------------------------------------------------

def notifications_mark_read(*, recipient: Officer, now: dt.datetime) -> int:
    """Mark every unread notification of the officer read; returns how many were unread."""
    return Notification.objects.filter(recipient=recipient, read_at__isnull=True).update(read_at=now)
