"""Supervisory reviews of investigations (SPEC §3): direction, actions set and a quality assessment,
with the next review due from the team's timescale (28 days by default, SPEC §5).

Every write is one transaction; a refusal stores nothing.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import NamedTuple

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from cram_site.calendar import LONDON
from cram_site.models import Clock, Officer
from cram_site.timescales import due_after
from referrals.models import CaseLogKind, Referral, ReferralStatus, Route
from referrals.services import action_create, case_log_append

from .models import Quality, Reminder, ReminderKind, ReminderState, SupervisoryReview

INVESTIGATION_ROUTES = frozenset({Route.POLICE_INVESTIGATION, Route.JOINT_INVESTIGATION})

# The four questions of the quality assessment, as the case log words them.
QUALITY_QUESTIONS = {
    "investigation_progressing": "investigation progressing",
    "risk_managed": "risk being managed",
    "records_complete": "records complete and current",
    "actions_timely": "actions timely",
}


class ReviewAction(NamedTuple):
    """An action the reviewing supervisor sets: what, for whom, by when."""

    description: str
    owner: Officer
    due_at: dt.datetime


def is_open_investigation(referral: Referral) -> bool:
    return referral.status == ReferralStatus.OPEN and referral.route in INVESTIGATION_ROUTES


def next_investigation_review_due(referral: Referral, latest: SupervisoryReview | None) -> dt.datetime | None:
    """When the next review of an open investigation is due: the latest review's date, or the
    team's timescale from the desk assessment when there has been none (as the reminders reckon it)."""
    if not is_open_investigation(referral):
        return None
    if latest is not None:
        return latest.next_review_due_at
    if referral.assessed_at is None:
        return None
    return due_after(team=referral.team_id, clock=Clock.INVESTIGATION_REVIEW, start=referral.assessed_at)


def investigation_review_record(*, referral: Referral, actor: Officer, now: dt.datetime, direction: str,
                                investigation_progressing: str, risk_managed: str, records_complete: str,
                                actions_timely: str,
                                actions: Iterable[tuple[str, Officer, dt.datetime]] = ()) -> SupervisoryReview:
    """A supervisor reviews an open investigation: direction given, actions set, quality assessed.

    The next review falls due after the team's INVESTIGATION_REVIEW timescale; the review, its
    actions and the case-log entry are written together or not at all.
    """
    if not actor.has_perm("supervision.review"):
        raise PermissionDenied("Only a supervisor reviews an investigation.")
    if actor.team_id != referral.team_id and not actor.force_wide:
        raise PermissionDenied("An investigation is reviewed by a supervisor of the referral's own team.")
    answers = {"investigation_progressing": investigation_progressing, "risk_managed": risk_managed,
               "records_complete": records_complete, "actions_timely": actions_timely}
    problems: dict[str, list[str]] = {}
    if not direction.strip():
        problems["direction"] = ["Give your direction for the investigation."]
    for field, value in answers.items():
        if value not in Quality.values:
            problems[field] = [f"Answer “{QUALITY_QUESTIONS[field]}?” with yes, partly or no."]
    actions = [ReviewAction(*action) for action in actions]
    for index, action in enumerate(actions):
        # Checked here, before anything is written, so every problem is reported at once.
        wrong = []
        if not action.description.strip():
            wrong.append("say what must be done")
        if action.due_at < now:
            wrong.append("the due date must not be in the past")
        if action.owner.team_id != referral.team_id and not action.owner.force_wide:
            wrong.append(f"{action.owner.display_name} is not in team {referral.team.code}")
        if wrong:
            problems[f"action-{index}"] = [f"Action {index + 1}: {'; '.join(wrong)}."]
    if problems:
        raise ValidationError(problems)

    with transaction.atomic():
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        if not is_open_investigation(locked):
            raise ValidationError("Only an open police or joint investigation is reviewed this way.")
        review = SupervisoryReview.objects.create(
            referral=locked, reviewer=actor, reviewer_label=actor.display_name, reviewed_at=now,
            direction=direction.strip(),
            next_review_due_at=due_after(team=locked.team_id, clock=Clock.INVESTIGATION_REVIEW, start=now),
            **answers,
        )
        quality = ", ".join(f"{QUALITY_QUESTIONS[field]} {Quality(value).label.lower()}"
                            for field, value in answers.items())
        case_log_append(
            referral=locked, kind=CaseLogKind.SUPERVISION, actor=actor, now=now,
            text=(f"Supervisory review of the investigation. Quality: {quality}. Actions set: "
                  f"{len(actions) or 'none'}. Next review due "
                  f"{review.next_review_due_at.astimezone(LONDON):%d/%m/%Y %H:%M}. "
                  f"Direction: {review.direction}"),
        )
        for action in actions:
            action_create(referral=locked, actor=actor, now=now, description=action.description,
                          owner=action.owner, due_at=action.due_at)
        # The review that was due has been done: its prompt closes now rather than at the next sweep,
        # which makes the prompt for the new date.
        (Reminder.objects.unresolved()
         .filter(referral=locked, kind=ReminderKind.INVESTIGATION_REVIEW)
         .update(state=ReminderState.RESOLVED, resolved_at=now))
    referral.case_log_count = locked.case_log_count
    return review
