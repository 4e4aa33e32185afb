"""The supervision tab of the case page: supervisory reviews of the investigation and closure.

Every address loads the referral through `case_load`, so another team's officer gets a 404.
"""
from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from cram_site.calendar import LONDON
from referrals.models import Referral, ReferralStatus
from referrals.views import case_context, case_load
from risk.forms import PlannedActionForm

from .closure import closure_checks, closure_problems, referral_close
from .models import Closure, SupervisoryReview
from .review_forms import ClosureForm, InvestigationReviewForm, ReviewActionFormSet, review_actions
from .review_services import investigation_review_record, is_open_investigation, next_investigation_review_due

TAB = "supervision"
ACTION_PREFIX = "action"


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


@require_GET
def case_tab(request: HttpRequest, urn: str) -> HttpResponse:
    referral = case_load(request, urn, tab=TAB)
    return _render(request, referral)


@require_http_methods(["GET", "POST"])
def review_add(request: HttpRequest, urn: str) -> HttpResponse:
    """Record a supervisory review of the investigation; a GET goes back to the tab."""
    if request.method == "GET":
        return redirect("supervision:case", urn=urn)
    _require(request, "supervision.review")
    referral = case_load(request, urn, tab=TAB)
    form = InvestigationReviewForm(request.POST)
    actions = _action_formset(referral, request.POST)
    if form.is_valid() and actions.is_valid():
        try:
            review = investigation_review_record(referral=referral, actor=request.user, now=timezone.now(),
                                                 actions=review_actions(actions), **form.cleaned_data)
        except ValidationError as error:
            _place_review_errors(error, form, actions)
        else:
            messages.success(request, "Supervisory review recorded and written to the case log. Next review due "
                                      f"{review.next_review_due_at.astimezone(LONDON):%d/%m/%Y}.")
            return redirect("supervision:case", urn=urn)
    return _render(request, referral, review_form=form, action_formset=actions)


@require_http_methods(["GET", "POST"])
def closure_approve(request: HttpRequest, urn: str) -> HttpResponse:
    """Approve the closure of the referral; refused with every unmet rule, storing nothing."""
    if request.method == "GET":
        return redirect("supervision:case", urn=urn)
    _require(request, "supervision.approve_closure")
    referral = case_load(request, urn, tab=TAB)
    form = ClosureForm(request.POST, referral=referral)
    if form.is_valid():
        try:
            referral_close(referral=referral, actor=request.user, now=timezone.now(), **form.service_arguments())
        except ValidationError as error:
            _place_errors(error, form)
        else:
            messages.success(request, f"{referral.urn} closed.")
            return redirect("supervision:case", urn=urn)
    else:
        # A form with a field missing still lists every rule that stands in the way, all at once.
        answered = form.cleaned_data
        for problem in closure_problems(referral, now=timezone.now(),
                                        prosecution_concluded=bool(answered.get("prosecution_concluded")),
                                        unmanaged_risk_override=answered.get("unmanaged_risk_override") or ""):
            form.add_error(problem.field if problem.field in form.fields else None, problem.message)
    return _render(request, referral, closure_form=form)


def _action_formset(referral: Referral, data: Any = None) -> forms.BaseFormSet:
    # The owners are read once and shared by every row, not once a row.
    return ReviewActionFormSet(data, prefix=ACTION_PREFIX,
                               form_kwargs={"team_id": referral.team_id,
                                            "owner_choices": PlannedActionForm.owner_choices(referral.team_id)})


def _place_errors(error: ValidationError, form: forms.Form) -> None:
    """Put a service's refusal next to the field it names, or at the top of the form."""
    if hasattr(error, "error_dict"):
        for field, problems in error.message_dict.items():
            form.add_error(field if field in form.fields else None, problems)
    else:
        form.add_error(None, error.messages)


def _place_review_errors(error: ValidationError, form: forms.Form, actions: forms.BaseFormSet) -> None:
    """Field errors beside their fields; "action-N" (the Nth filled-in row) on that row."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    filled = [row for row in actions.forms if row.has_changed() and row.cleaned_data]
    for key, problems in error.message_dict.items():
        kind, _, index = key.partition("-")
        if key in form.fields:
            form.add_error(key, problems)
        elif kind == ACTION_PREFIX and index.isdigit() and int(index) < len(filled):
            filled[int(index)].add_error(None, problems)
            form.add_error(None, problems)
        else:
            form.add_error(None, problems)


def _render(request: HttpRequest, referral: Referral, *, review_form: forms.Form | None = None,
            action_formset: forms.BaseFormSet | None = None,
            closure_form: ClosureForm | None = None) -> HttpResponse:
    user = request.user
    context = case_context(request, referral, tab=TAB)
    now = context["now"]
    reviews = list(SupervisoryReview.objects.filter(referral=referral).order_by("-reviewed_at", "-pk"))
    next_review_due_at = next_investigation_review_due(referral, reviews[0] if reviews else None)
    investigation = is_open_investigation(referral)
    can_review = investigation and user.has_perm("supervision.review")
    can_close = referral.status == ReferralStatus.OPEN and user.has_perm("supervision.approve_closure")
    context.update(
        reviews=reviews, investigation=investigation, next_review_due_at=next_review_due_at,
        review_overdue=next_review_due_at is not None and next_review_due_at < now,
        can_review=can_review, can_close=can_close,
        closure=None if referral.is_open else Closure.objects.filter(referral=referral).first(),
    )
    if can_review:
        context.update(review_form=review_form or InvestigationReviewForm(),
                       action_formset=action_formset or _action_formset(referral))
    if referral.is_open:
        # Shown as the supervisor last answered them, so a refused form and the panel agree.
        answered = getattr(closure_form, "cleaned_data", {}) if closure_form is not None else {}
        checks = closure_checks(referral, now=now,
                                prosecution_concluded=bool(answered.get("prosecution_concluded")),
                                unmanaged_risk_override=answered.get("unmanaged_risk_override") or "")
        context.update(closure_checks=checks, closable=all(check.met for check in checks))
    if can_close:
        context.update(closure_form=closure_form or ClosureForm(referral=referral))
    return render(request, "supervision/review_tab.html", context)
