"""Information management (MoPI) review pages: the queue of records due for review (and those
approved for disposal), and the review of one referral with its history.

Supervisors and administrators only (perm supervision.review_retention); every referral is loaded
through `visible_to(user)`, so another team's record is a 404. Nothing here deletes anything.
"""
from __future__ import annotations

from functools import cached_property
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from cram_site.audit import audit_view
from cram_site.calendar import LONDON
from referrals.models import Referral

from .mopi import (
    mopi_review_record,
    records_approved_for_disposal,
    records_due_for_review,
    retention_years,
    review_due_state,
)
from .mopi_forms import MopiReviewForm
from .models import RetentionDecision

PAGE_SIZE = 50
LISTS = {"due": "Due for review", "disposal": "Approved for disposal"}


def _require(request: HttpRequest) -> None:
    if not request.user.has_perm("supervision.review_retention"):
        raise PermissionDenied


class CountedPaginator(Paginator):
    """A paginator told its count, which the page has already read for its tabs."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


@require_GET
def retention_queue(request: HttpRequest) -> HttpResponse:
    """Records due for information management review, oldest due first; or those approved for disposal."""
    _require(request)
    now = timezone.now()
    today = now.astimezone(LONDON).date()
    shown = request.GET.get("show", "due")
    if shown not in LISTS:
        shown = "due"
    due = records_due_for_review(request.user, today=today)
    disposals = records_approved_for_disposal(request.user)
    counts = {"due": due.count(), "disposal": disposals.count()}
    rows = due if shown == "due" else disposals
    page = CountedPaginator(rows, PAGE_SIZE, count=counts[shown]).get_page(request.GET.get("page"))
    return render(request, "supervision/retention_queue.html", {
        "page": page, "shown": shown, "lists": LISTS, "counts": counts, "today": today,
        "free_text": request.user.sees_free_text,
    })


@require_GET
def retention_badge(request: HttpRequest) -> HttpResponse:
    """The count of records due for review beside the link on the supervisor's home (fetched by htmx,
    so the home page keeps its own query count)."""
    count = 0
    if request.user.has_perm("supervision.review_retention"):
        count = records_due_for_review(request.user, today=timezone.now().astimezone(LONDON).date()).count()
    return render(request, "supervision/retention_badge.html", {"count": count})


@require_http_methods(["GET", "POST"])
def retention_review(request: HttpRequest, urn: str) -> HttpResponse:
    """The review form of one closed referral and the history of its reviews."""
    _require(request)
    now = timezone.now()
    referral = get_object_or_404(Referral.objects.visible_to(request.user).select_related("team"), urn=urn)
    default_years = retention_years(team_id=referral.team_id, allegation_category=referral.allegation_category)
    form = MopiReviewForm(request.POST or None, default_years=default_years)
    if request.method == "POST" and form.is_valid():
        try:
            review = mopi_review_record(referral=referral, actor=request.user, now=now, **form.service_arguments())
        except ValidationError as error:
            _place_errors(error, form)
        else:
            if review.decision == RetentionDecision.RETAIN:
                messages.success(request, f"{referral.urn} retained; next review due {review.next_review_on:%d/%m/%Y}.")
            else:
                messages.success(request, f"{referral.urn} approved for disposal. Nothing has been deleted.")
            return redirect("supervision:retention_queue")
    audit_view(referral, detail="information management review")
    return render(request, "supervision/retention_review.html", {
        "referral": referral, "form": form, "default_years": default_years,
        "not_due": review_due_state(referral, today=now.astimezone(LONDON).date()),
        "reviews": list(referral.mopi_reviews.order_by("-reviewed_at", "-pk")),
        "free_text": request.user.sees_free_text,
    })


def _place_errors(error: ValidationError, form: MopiReviewForm) -> None:
    """A service's refusal next to the field it names, or at the top of the form."""
    if hasattr(error, "error_dict"):
        for field, problems in error.message_dict.items():
            form.add_error(field if field in form.fields else None, problems)
    else:
        form.add_error(None, error.messages)
