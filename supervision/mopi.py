"""Information management review (MoPI) of closed referrals.

Each referral gets a review date when it closes: the London date of closure plus its allegation
category's retention period (the team's RetentionPeriod row, or DEFAULT_RETENTION_YEARS). When the
date comes, the referral is in the queue "records due for information management review"; a
supervisor or administrator decides to retain it (with the next review date) or to dispose of it.
A disposal decision is recorded for the records team: nothing is ever deleted by the system.
"""
from __future__ import annotations

import datetime as dt

from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery

from cram_site.calendar import LONDON, london_date
from cram_site.models import Officer, Team
from referrals.models import AllegationCategory, CaseLogKind, Referral, ReferralStatus
from referrals.services import case_log_append

from .models import DEFAULT_RETENTION_YEARS, MopiReview, RetentionDecision, RetentionPeriod

# A reviewer who retains a record may set the next review this many years on, at most.
MAX_NEXT_REVIEW_YEARS = 100


# --- Retention periods and review dates -----------------------------------------------------------

def retention_years(*, team_id: int, allegation_category: str) -> int:
    """The team's retention period for the category, or the MoPI default when the team has no row."""
    years = (RetentionPeriod.objects.filter(team_id=team_id, allegation_category=allegation_category)
             .values_list("review_after_years", flat=True).first())
    if years is not None:
        return years
    return DEFAULT_RETENTION_YEARS.get(allegation_category, DEFAULT_RETENTION_YEARS[AllegationCategory.OTHER])


def years_after(day: dt.date, years: int) -> dt.date:
    """The same calendar date `years` on; 29 February falls on 28 February in a year without one."""
    return day + relativedelta(years=years)


def retention_review_date(referral: Referral, closed_at: dt.datetime) -> dt.date:
    """When a referral closed at `closed_at` is first reviewed: the London date of closure plus its
    category's years (a closure at 23:30 on 31 December counts from that day, 00:30 on 1 January
    from the next)."""
    years = retention_years(team_id=referral.team_id, allegation_category=referral.allegation_category)
    return years_after(london_date(closed_at), years)


def team_retention_periods_create(*, team: Team) -> int:
    """Give a team a row for every category at the MoPI default; rows it already has are kept."""
    existing = set(RetentionPeriod.objects.filter(team=team).values_list("allegation_category", flat=True))
    rows = [RetentionPeriod(team=team, allegation_category=category, review_after_years=years)
            for category, years in DEFAULT_RETENTION_YEARS.items() if category not in existing]
    # ignore_conflicts: a row another request added meanwhile is kept as it is.
    RetentionPeriod.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


# --- The queue and the lists -----------------------------------------------------------------------

def _with_last_review(referrals: QuerySet[Referral]) -> QuerySet[Referral]:
    """Each referral with its latest review's decision and date (index mopi_review_referral_idx)."""
    latest = MopiReview.objects.filter(referral_id=OuterRef("pk")).order_by("-reviewed_at", "-pk")
    return referrals.annotate(last_decision=Subquery(latest.values("decision")[:1]),
                              last_reviewed_at=Subquery(latest.values("reviewed_at")[:1]))


def records_due_for_review(user: Officer, *, today: dt.date) -> QuerySet[Referral]:
    """Queue "records due for information management review": closed referrals whose review date
    has come, oldest first (partial index referral_mopi_review_idx: team, mopi_review_due_on)."""
    due = (Referral.objects.visible_to(user)
           .filter(status=ReferralStatus.CLOSED, mopi_review_due_on__isnull=False, mopi_review_due_on__lte=today)
           .order_by("mopi_review_due_on", "pk"))
    return _with_last_review(due.select_related("team")).only(
        "pk", "urn", "team__code", "allegation_category", "closed_at", "mopi_review_due_on", "status")


def records_approved_for_disposal(user: Officer) -> QuerySet[MopiReview]:
    """The disposal decisions on records the user may see, newest first, for the records team.

    A disposal is final in the product (the referral leaves the review queue), so each referral
    appears once; the decisions are few, read through mopi_review_referral_idx from the referral.
    """
    return (MopiReview.objects.filter(decision=RetentionDecision.DISPOSE,
                                      referral__in=Referral.objects.visible_to(user))
            .select_related("referral", "referral__team").order_by("-reviewed_at", "-pk"))


# --- Recording a review -----------------------------------------------------------------------------

def mopi_review_record(*, referral: Referral, actor: Officer, now: dt.datetime, decision: str, reason: str,
                       next_review_years: int | None = None) -> MopiReview:
    """Record an information management review of a closed referral whose review date has come.

    Retain: the next review is the category's period from today unless the reviewer chooses a
    number of years, and the referral's review date moves to it. Dispose: the decision is recorded
    and the referral leaves the queue (its review date is cleared); nothing is deleted. Both write a
    case-log entry. Bad input is refused with a message on its field and stores nothing.
    """
    if not actor.has_perm("supervision.review_retention"):
        raise PermissionDenied("Only a supervisor or an administrator reviews records for retention.")
    if actor.team_id != referral.team_id and not (actor.force_wide or actor.is_superuser):
        raise PermissionDenied("A record is reviewed by its own team.")
    errors: dict[str, list[str]] = {}
    if decision not in RetentionDecision.values:
        errors["decision"] = ["Choose to retain or to dispose of the record."]
    if not reason.strip():
        errors["reason"] = ["Give the reason for the decision."]
    if decision == RetentionDecision.RETAIN and next_review_years is not None and not (
            1 <= next_review_years <= MAX_NEXT_REVIEW_YEARS):
        errors["next_review_years"] = [f"The next review is 1 to {MAX_NEXT_REVIEW_YEARS} years away."]
    if errors:
        raise ValidationError(errors)
    today = now.astimezone(LONDON).date()
    with transaction.atomic():
        # Locked, so two reviewers deciding at once cannot both record a decision on the same date.
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        _refuse_unless_due(locked, today=today)
        next_review_on = None
        if decision == RetentionDecision.RETAIN:
            years = next_review_years or retention_years(team_id=locked.team_id,
                                                         allegation_category=locked.allegation_category)
            next_review_on = years_after(today, years)
        review = MopiReview.objects.create(referral=locked, reviewer=actor, reviewer_label=actor.display_name,
                                           reviewed_at=now, decision=decision, reason=reason.strip(),
                                           next_review_on=next_review_on)
        locked.mopi_review_due_on = next_review_on
        locked.save(update_fields=["mopi_review_due_on"])
        if next_review_on is not None:
            text = (f"Information management (MoPI) review by {actor.display_name}: retain. "
                    f"Next review due {next_review_on:%d/%m/%Y}. Reason: {review.reason}")
        else:
            text = (f"Information management (MoPI) review by {actor.display_name}: approved for disposal "
                    f"(nothing has been deleted; the records team acts on the decision). Reason: {review.reason}")
        case_log_append(referral=locked, kind=CaseLogKind.DECISION, actor=actor, now=now, text=text)
    referral.mopi_review_due_on = locked.mopi_review_due_on
    referral.case_log_count = locked.case_log_count
    return review


def _refuse_unless_due(referral: Referral, *, today: dt.date) -> None:
    if referral.status != ReferralStatus.CLOSED:
        raise ValidationError("This referral is still open: only a closed referral is reviewed for retention.")
    due = referral.mopi_review_due_on
    if due is None:
        if MopiReview.objects.filter(referral_id=referral.pk, decision=RetentionDecision.DISPOSE).exists():
            raise ValidationError("This record has already been approved for disposal.")
        raise ValidationError("This referral has no information management review date.")
    if due > today:
        raise ValidationError(f"This record is not due for review until {due:%d/%m/%Y}.")


def review_due_state(referral: Referral, *, today: dt.date) -> str:
    """Why the review form is not offered ("" when it is), in the words of the refusal."""
    try:
        _refuse_unless_due(referral, today=today)
    except ValidationError as error:
        return error.messages[0]
    return ""

