"""The CRAM and checks tabs of the case page, the assessment form, sign-off and the catalogue."""
from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from cram_site.calendar import LONDON
from referrals.views import case_context, case_load

from . import services
from .diff import assessment_diff
from .forms import (
    AssessmentForm,
    FactorForm,
    MeasureFormSet,
    PlannedActionForm,
    PlannedActionFormSet,
    SignOffForm,
    StartAssessmentForm,
    SystemsCheckForm,
    measure_inputs,
    planned_action_inputs,
)
from .matrix import risk_score, suggested_rating
from .models import Answer, Assessment, CatalogueVersion, Rating, Section, SystemsCheck


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _assessment_or_404(referral: Any, number: int) -> Assessment:
    try:
        return services.assessment_for_page(referral, number)
    except Assessment.DoesNotExist as missing:
        raise Http404("No such assessment") from missing


def _summary(assessment: Assessment) -> dict[str, Any]:
    """Present risks, gaps and unmanaged risks of an assessment (answers and measures prefetched)."""
    answers = list(assessment.answers.all())
    measures = list(assessment.control_measures.all())
    closed = {answer.code for answer in answers if answer.closed_by_checks.all()} if assessment.is_completed else set()
    unmanaged = services.unmanaged_risks(answers, measures)
    unmanaged_codes = {answer.code for answer in unmanaged}
    return {
        "present": [{"answer": answer, "unmanaged": answer.code in unmanaged_codes,
                     "measures": [m.label for m in measures if m.is_active and answer.code in m.factor_codes]}
                    for answer in answers if answer.value == "yes"],
        "gaps": services.open_gaps(answers),
        "open_gap_codes": {answer.code for answer in services.open_gaps(answers, closed)},
        "unmanaged": unmanaged,
        "unmanaged_codes": unmanaged_codes,
        "measures": measures,
    }


# --- The CRAM tab -------------------------------------------------------------------------------

def cram_tab(request: HttpRequest, urn: str) -> HttpResponse:
    referral = case_load(request, urn, tab="cram")
    history = list(referral.assessments.select_related("completed_by", "signoff").order_by("-number"))
    current_stub = next((a for a in history if a.is_completed), None)
    draft = next((a for a in history if not a.is_completed), None)
    context = case_context(request, referral, tab="cram")
    context.update(history=history, draft=draft, start_form=StartAssessmentForm(
        initial={"kind": "initial" if current_stub is None else "review"}),
        can_edit=request.user.has_perm("risk.edit_assessment"))
    if current_stub is not None:
        current = services.assessment_for_page(referral, current_stub.number)
        context.update(current=current, **_summary(current))
    return render(request, "risk/cram_tab.html", context)


@require_POST
def assessment_start(request: HttpRequest, urn: str) -> HttpResponse:
    _require(request, "risk.edit_assessment")
    referral = case_load(request, urn, tab="cram")
    form = StartAssessmentForm(request.POST)
    if form.is_valid():
        try:
            assessment = services.assessment_start(referral=referral, kind=form.cleaned_data["kind"],
                                                   actor=request.user, now=timezone.now())
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            return redirect(reverse("risk:assessment", args=[urn, assessment.number]))
    return redirect("risk:cram", urn=urn)


# --- One assessment ---------------------------------------------------------------------------

def assessment_page(request: HttpRequest, urn: str, number: int) -> HttpResponse:
    """A completed assessment read-only with what changed; a draft as the form to complete it."""
    referral = case_load(request, urn, tab="cram")
    assessment = _assessment_or_404(referral, number)
    if assessment.is_completed:
        if request.method == "POST":
            messages.error(request, "A completed CRAM cannot be changed. Start a new assessment instead.")
            return redirect(assessment.get_absolute_url())
        return _completed_page(request, referral, assessment)
    if not request.user.has_perm("risk.edit_assessment"):
        return _completed_page(request, referral, assessment)
    return _draft_page(request, referral, assessment)


def _completed_page(request: HttpRequest, referral: Any, assessment: Assessment) -> HttpResponse:
    context = case_context(request, referral, tab="cram")
    context.update(assessment=assessment, **_summary(assessment),
                   can_sign_off=(request.user.has_perm("risk.sign_off") and assessment.is_completed
                                 and not hasattr(assessment, "signoff")
                                 and assessment.completed_by_id != request.user.pk))
    if assessment.previous_id:
        previous = services.assessment_for_page(referral, assessment.previous.number)
        context.update(previous=previous, diff=assessment_diff(previous, assessment))
    return render(request, "risk/assessment_detail.html", context)


def _draft_page(request: HttpRequest, referral: Any, assessment: Assessment) -> HttpResponse:
    # The form shows each factor's help text: read the factors in one query, not one per answer.
    prefetch_related_objects(list(assessment.answers.all()), "factor")
    factor_choices = [(answer.code, answer.question) for answer in assessment.answers.all() if not answer.contextual]
    data = request.POST if request.method == "POST" else None
    form = AssessmentForm(data, assessment=assessment)
    measures = MeasureFormSet(data, prefix="measure", form_kwargs={"factor_choices": factor_choices},
                              initial=[{"kind": m.kind, "description": m.description, "owner_agency": m.owner_agency,
                                        "status": m.status, "factor_codes": m.factor_codes}
                                       for m in assessment.control_measures.all()] if data is None else None)
    actions = PlannedActionFormSet(data, prefix="action",
                                   form_kwargs={"team_id": referral.team_id,
                                                "owner_choices": PlannedActionForm.owner_choices(referral.team_id)},
                                   initial=[{"description": p.description, "owner": p.owner_id,
                                             "due_at": p.due_at.astimezone(LONDON)}
                                            for p in assessment.planned_actions.all()] if data is None else None)
    if data is not None and form.is_valid() and measures.is_valid() and actions.is_valid():
        completing = "complete" in request.POST
        try:
            services.assessment_save(
                assessment=assessment, actor=request.user, now=timezone.now(), complete=completing,
                data=services.AssessmentInput(
                    revision=form.cleaned_data["revision"], answers=form.answer_inputs(),
                    measures=measure_inputs(measures), rating=form.cleaned_data["rating"] or "",
                    rating_rationale=form.cleaned_data["rating_rationale"],
                    decisions=form.cleaned_data["decisions"], planned_actions=planned_action_inputs(actions)),
            )
        except services.StaleDraftError as stale:
            form.add_error(None, stale.messages[0])
        except ValidationError as error:
            _place_errors(error, form, measures, actions)
        else:
            if completing:
                messages.success(request, f"CRAM {assessment.number} completed and written to the case log.")
            else:
                messages.success(request, "Draft saved.")
            return redirect(assessment.get_absolute_url())
    context = case_context(request, referral, tab="cram")
    context.update(assessment=assessment, form=form, measures=measures, actions=actions)
    if data is not None:
        context.update(_suggestion(assessment, data))
    else:
        context.update(suggested=assessment.get_suggested_rating_display(), score=None, unmanaged=None)
    return render(request, "risk/assessment_form.html", context)


@require_POST
def assessment_suggest(request: HttpRequest, urn: str, number: int) -> HttpResponse:
    """The matrix's suggestion for the answers as they stand on the form, before saving (htmx)."""
    _require(request, "risk.edit_assessment")
    referral = case_load(request, urn, tab="cram")
    assessment = _assessment_or_404(referral, number)
    return render(request, "risk/_suggestion.html", _suggestion(assessment, request.POST))


def _suggestion(assessment: Assessment, post: Any) -> dict[str, Any]:
    """The suggestion and unmanaged risks for the answers and measures as typed (not saved)."""
    answers = []
    for answer in assessment.answers.all():
        answer.value = post.get(f"answer-{answer.code}", "")
        answers.append(answer)
    managed = {code for index in range(_measure_count(post))
               if post.get(f"measure-{index}-status") == "active" and post.get(f"measure-{index}-kind")
               for code in post.getlist(f"measure-{index}-factor_codes")}
    unmanaged = [answer for answer in answers if answer.is_present_risk and answer.code not in managed]
    return {"suggested": dict(Rating.choices)[suggested_rating(answers)], "score": risk_score(answers),
            "unmanaged": unmanaged}


def _measure_count(post: Any) -> int:
    try:
        return min(int(post.get("measure-TOTAL_FORMS", 0)), 40)
    except ValueError:
        return 0


def _place_errors(error: ValidationError, form: AssessmentForm, measures: Any, actions: Any) -> None:
    """Put each problem the service found next to the field it is about."""
    for key, problems in error.message_dict.items():
        kind, _, rest = key.partition("-")
        if key in form.fields:
            form.add_error(key, problems)
        elif kind == "measure" and rest.isdigit() and int(rest) < len(measures.forms):
            measures.forms[int(rest)].add_error(None, problems)
        elif kind == "action" and rest.isdigit() and int(rest) < len(actions.forms):
            actions.forms[int(rest)].add_error(None, problems)
        else:
            form.add_error(None, problems)


def assessment_sign_off(request: HttpRequest, urn: str, number: int) -> HttpResponse:
    _require(request, "risk.sign_off")
    referral = case_load(request, urn, tab="cram")
    assessment = _assessment_or_404(referral, number)
    form = SignOffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.assessment_sign_off(assessment=assessment, actor=request.user, now=timezone.now(),
                                         data=services.SignOffInput(**form.cleaned_data))
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, f"CRAM {assessment.number} signed off.")
            return redirect(assessment.get_absolute_url())
    context = case_context(request, referral, tab="cram")
    context.update(assessment=assessment, form=form, **_summary(assessment))
    return render(request, "risk/sign_off.html", context)


# --- The checks tab -----------------------------------------------------------------------------

def checks_tab(request: HttpRequest, urn: str) -> HttpResponse:
    referral = case_load(request, urn, tab="checks")
    current = referral.assessments.completed().order_by("-number").first()
    gaps = (Answer.objects.filter(assessment=current, value="not_known", closed_by_checks__isnull=True)
            .order_by("section", "position") if current else Answer.objects.none())
    can_record = request.user.has_perm("risk.record_check")
    form = SystemsCheckForm(request.POST or None, gaps=gaps,
                            initial={"checked_at": timezone.now().astimezone(LONDON).replace(second=0, microsecond=0)})
    if request.method == "POST":
        _require(request, "risk.record_check")
        if form.is_valid():
            try:
                services.systems_check_record(referral=referral, actor=request.user, now=timezone.now(),
                                              **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error.messages)
            else:
                messages.success(request, "Check recorded.")
                return redirect("risk:checks", urn=urn)
    checks = (SystemsCheck.objects.filter(referral=referral).select_related("checked_by")
              .prefetch_related("closes_gaps").order_by("-checked_at", "-pk"))
    context = case_context(request, referral, tab="checks")
    context.update(checks=checks, form=form, can_record=can_record, gaps=gaps)
    return render(request, "risk/checks_tab.html", context)


# --- The catalogue ----------------------------------------------------------------------------

def catalogue(request: HttpRequest) -> HttpResponse:
    _require(request, "risk.edit_catalogue")
    version = services.catalogue_current(now=timezone.now())
    factors = list(version.factors.order_by("section", "position"))
    groups = [{"title": label, "factors": [f for f in factors if f.section == value]}
              for value, label in Section.choices]
    versions = CatalogueVersion.objects.select_related("created_by").annotate(size=Count("factors"))[:20]
    return render(request, "risk/catalogue.html", {"version": version, "groups": groups, "versions": versions})


def catalogue_factor(request: HttpRequest, code: str | None = None) -> HttpResponse:
    """Change, retire or add a factor; each save makes a new catalogue edition."""
    _require(request, "risk.edit_catalogue")
    version = services.catalogue_current(now=timezone.now())
    factor = version.factors.filter(code=code).first() if code else None
    if code and factor is None:
        raise Http404("No such factor")
    initial = ({"code": factor.code, "section": factor.section, "question": factor.question,
                "help_text": factor.help_text, "weight": factor.weight, "contextual": factor.contextual,
                "closing_check": factor.closing_check} if factor else {"weight": 1})
    form = FactorForm(request.POST or None, initial=initial)
    if factor:
        form.fields["code"].disabled = True
    else:
        del form.fields["retire"]
    if request.method == "POST" and form.is_valid():
        try:
            if factor:
                change = None if form.cleaned_data.get("retire") else form.fields_value()
                new = services.catalogue_revise(actor=request.user, now=timezone.now(),
                                                note=form.cleaned_data["note"], changes={factor.code: change})
            else:
                new = services.catalogue_revise(actor=request.user, now=timezone.now(),
                                                note=form.cleaned_data["note"],
                                                additions={form.cleaned_data["code"]: form.fields_value()})
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, f"Catalogue version {new.number} made. Assessments already started keep "
                                      "the wording they were answered with.")
            return redirect("risk:catalogue")
    return render(request, "risk/factor_form.html", {"form": form, "factor": factor, "version": version})
