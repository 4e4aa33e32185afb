"""The investigation tab of the case page: the joint visit, the outcome and requests for disclosure
in family proceedings (the records behind three performance measures of SPEC §7).

Every address loads the referral through `case_load`, so another team's officer gets a 404 and
every view is audited. Bad input is shown next to its field and nothing is stored.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.forms import Form
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from cram_site.calendar import LONDON

from . import services
from .forms import DisclosureRequestForm, DisclosureResponseForm, InvestigationOutcomeForm, JointVisitForm
from .models import DisclosureDecision, DisclosureRequest, Referral
from .views import _add_service_errors, case_context, case_load

TAB = "investigation"
RECORD = "referrals.record_investigation"


def _require_record(request: HttpRequest) -> None:
    if not request.user.has_perm(RECORD):
        raise PermissionDenied


def _minute(moment: Any) -> Any:
    return moment.astimezone(LONDON).replace(second=0, microsecond=0) if moment else None


def _render(request: HttpRequest, referral: Referral, **forms: Any) -> HttpResponse:
    context = case_context(request, referral, tab=TAB)
    now = context["now"]
    can_record = request.user.has_perm(RECORD)
    requests = list(DisclosureRequest.objects.filter(referral=referral).order_by("-received_at", "-pk"))
    response_forms = forms.get("response_forms", {})
    context.update(
        can_record=can_record,
        is_investigation=referral.route in services.INVESTIGATION_ROUTES,
        disclosure_rows=[{
            "request": disclosure,
            "form": (response_forms.get(disclosure.pk) or DisclosureResponseForm(
                prefix=f"respond-{disclosure.pk}", initial={"responded_at": _minute(now)}))
            if can_record and disclosure.decision == DisclosureDecision.PENDING else None,
        } for disclosure in requests],
    )
    if can_record:
        context["joint_visit_form"] = forms.get("joint_visit_form") or JointVisitForm(
            initial={"visited_at": _minute(referral.joint_visit_at or now)})
        context["outcome_form"] = forms.get("outcome_form") or InvestigationOutcomeForm(
            initial={"outcome": referral.outcome, "outcome_at": _minute(referral.outcome_at or now)})
        context["disclosure_form"] = forms.get("disclosure_form") or DisclosureRequestForm(
            initial={"received_at": _minute(now)})
    return render(request, "referrals/investigation_tab.html", context)


def _back(referral: Referral) -> HttpResponse:
    return redirect("referrals:investigation", urn=referral.urn)


@require_GET
def investigation_tab(request: HttpRequest, urn: str) -> HttpResponse:
    referral = case_load(request, urn, tab=TAB)
    return _render(request, referral)


def _record(request: HttpRequest, referral: Referral, form: Form, *, write: Callable[..., object],
            done: str, shown_as: dict[str, Any]) -> HttpResponse:
    """Write one investigation record through its service; on bad input (the form's or the service's),
    show the tab again with the messages next to the fields and nothing stored."""
    if form.is_valid():
        try:
            write(actor=request.user, now=timezone.now(), **form.cleaned_data)
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, done)
            return _back(referral)
    return _render(request, referral, **shown_as)


@require_POST
def joint_visit(request: HttpRequest, urn: str) -> HttpResponse:
    _require_record(request)
    referral = case_load(request, urn, tab=TAB)
    form = JointVisitForm(request.POST)
    return _record(request, referral, form, write=partial(services.joint_visit_record, referral=referral),
                   done="Joint visit recorded and written to the case log.", shown_as={"joint_visit_form": form})


@require_POST
def outcome(request: HttpRequest, urn: str) -> HttpResponse:
    _require_record(request)
    referral = case_load(request, urn, tab=TAB)
    form = InvestigationOutcomeForm(request.POST)
    return _record(request, referral, form, write=partial(services.investigation_outcome_record, referral=referral),
                   done="Outcome recorded and written to the case log.", shown_as={"outcome_form": form})


@require_POST
def disclosure_add(request: HttpRequest, urn: str) -> HttpResponse:
    _require_record(request)
    referral = case_load(request, urn, tab=TAB)
    form = DisclosureRequestForm(request.POST)
    return _record(request, referral, form, write=partial(services.disclosure_request_record, referral=referral),
                   done="Request for disclosure recorded and written to the case log.",
                   shown_as={"disclosure_form": form})


@require_POST
def disclosure_respond(request: HttpRequest, urn: str, request_id: int) -> HttpResponse:
    _require_record(request)
    referral = case_load(request, urn, tab=TAB)
    disclosure = get_object_or_404(DisclosureRequest.objects.filter(referral=referral), pk=request_id)
    form = DisclosureResponseForm(request.POST, prefix=f"respond-{disclosure.pk}")
    return _record(request, referral, form, write=partial(services.disclosure_request_respond, request=disclosure),
                   done="Response to the request recorded and written to the case log.",
                   shown_as={"response_forms": {disclosure.pk: form}})
