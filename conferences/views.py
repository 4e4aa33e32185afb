"""The meetings and medicals tabs of the case page, the meeting page, and supervisors' lists.

Every page loads its referral through `case_load`, so another team's case is a 404; every write
goes through one service in conferences.services, whose refusal is shown beside the field it names.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from referrals.models import Referral
from referrals.views import _add_service_errors, case_context, case_load

from . import services
from .forms import (
    AgreedActionFormSet,
    AttendanceForm,
    CancelForm,
    CountersignForm,
    HoldForm,
    MedicalForm,
    MeetingForm,
    MinutesForm,
    ProtectionEndForm,
    ProtectionStartForm,
    StrategyRecordForm,
    london_input,
    officer_choices,
)
from .models import (
    AgreedAction,
    Attendance,
    MedicalExamination,
    Meeting,
    MeetingStatus,
    PoliceProtection,
    PoliceReport,
    StrategyRecord,
)

RECORD = "conferences.record_meeting"
REVIEW = "conferences.review_medicals"
COUNTERSIGNED = "This record has been countersigned by the chair and cannot be changed."
AGREED_ACTIONS_PREFIX = "agreed"


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _saved(form: Any, write: Callable[[dict[str, Any]], object]) -> bool:
    """Validate the form, then let the service write; its refusal goes beside the field it names."""
    if not form.is_valid():
        return False
    try:
        write(form.cleaned_data)
    except ValidationError as error:
        _add_service_errors(form, error)
        return False
    return True


def _meeting_of(referral: Referral, meeting_id: int) -> Meeting:
    """A meeting of this (visible) referral, plain: the services read its attendance afresh."""
    meeting = get_object_or_404(Meeting.objects.filter(referral=referral), pk=meeting_id)
    meeting.referral = referral
    return meeting


# --- The meetings tab -----------------------------------------------------------------------------

def meetings_tab(request: HttpRequest, urn: str) -> HttpResponse:
    """The referral's meetings and conference clocks; a POST schedules or records a meeting."""
    if request.method == "POST":
        _require(request, RECORD)
    referral = case_load(request, urn, tab="meetings")
    form = MeetingForm(request.POST or None, referral=referral)
    if request.method == "POST" and form.is_valid():
        try:
            meeting = services.meeting_create(referral=referral, actor=request.user, now=timezone.now(),
                                              **form.service_arguments())
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            done = "recorded as held" if meeting.status == MeetingStatus.HELD else "scheduled"
            messages.success(request, f"{meeting.get_kind_display()} {done}.")
            return redirect(meeting.get_absolute_url())
    context = case_context(request, referral, tab="meetings")
    now = context["now"]
    meetings = list(Meeting.objects.filter(referral=referral).select_related("police_attendee")
                    .order_by("starts_at", "pk"))
    for meeting in meetings:
        meeting.referral = referral  # for their addresses, without a query each
    reports = {report.meeting_id: report for report in PoliceReport.objects.filter(meeting__referral=referral)}
    clocks = services.conference_clocks(meetings, reports, team_id=referral.team_id)
    context.update(
        form=form, can_record=request.user.has_perm(RECORD),
        meeting_rows=[{"meeting": meeting, "minutes_late": meeting.minutes_late(now),
                       "minutes_received_late": (meeting.minutes_received_at is not None
                                                 and meeting.minutes_due_at is not None
                                                 and meeting.minutes_received_at > meeting.minutes_due_at)}
                      for meeting in reversed(meetings)],
        clock_rows=[{"clock": clock, "late": clock.is_late(now)} for clock in clocks],
    )
    return render(request, "conferences/meetings_tab.html", context)


# --- One meeting ---------------------------------------------------------------------------------

def meeting_page(request: HttpRequest, urn: str, meeting_id: int) -> HttpResponse:
    referral = case_load(request, urn, tab="meetings")
    if request.method not in ("GET", "HEAD"):
        # Each form on the page posts to its own address.
        return HttpResponseNotAllowed(["GET"])
    return _render_meeting(request, referral, meeting_id)


def _render_meeting(request: HttpRequest, referral: Referral, meeting_id: int, **forms: Any) -> HttpResponse:
    """The meeting page, with any form that failed shown bound, with its errors."""
    meeting = get_object_or_404(
        Meeting.objects.filter(referral=referral).select_related("police_attendee", "created_by")
        .prefetch_related("children",
                          Prefetch("attendance", queryset=Attendance.objects.order_by("-is_police", "name"))),
        pk=meeting_id)
    record = None
    if meeting.is_strategy:
        record = (StrategyRecord.objects.filter(meeting=meeting).select_related("recorded_by")
                  .prefetch_related(Prefetch("agreed_actions",
                                             queryset=AgreedAction.objects.select_related("owner", "action")))
                  .first())
    context = case_context(request, referral, tab="meetings")
    now = context["now"]
    can_record = request.user.has_perm(RECORD)
    context.update(meeting=meeting, record=record, can_record=can_record,
                   minutes_late=meeting.minutes_late(now))
    if can_record:
        context["attendance_form"] = forms.get("attendance_form") or AttendanceForm()
        if meeting.status == MeetingStatus.SCHEDULED:
            if meeting.starts_at <= now:
                context["hold_form"] = forms.get("hold_form") or HoldForm(conference=meeting.is_conference)
            context["cancel_form"] = forms.get("cancel_form") or CancelForm()
        if meeting.status == MeetingStatus.HELD and meeting.minutes_received_at is None:
            context["minutes_form"] = forms.get("minutes_form") or MinutesForm(
                initial={"received_at": london_input(now)})
        # The record of a strategy meeting is written once it has been held, until the chair countersigns.
        if meeting.is_strategy and meeting.status == MeetingStatus.HELD and not (record and record.is_countersigned):
            context.update(_strategy_forms(meeting, record, forms))
    return render(request, "conferences/meeting_page.html", context)


def _strategy_forms(meeting: Meeting, record: StrategyRecord | None, forms: dict[str, Any]) -> dict[str, Any]:
    if "strategy_form" in forms:
        strategy_form, actions = forms["strategy_form"], forms["actions"]
    else:
        strategy_form = StrategyRecordForm(initial={"decisions": record.decisions} if record else None)
        actions = AgreedActionFormSet(
            prefix=AGREED_ACTIONS_PREFIX,
            form_kwargs={"team_id": meeting.team_id, "officers": officer_choices(meeting.team_id)},
            initial=[{"description": agreed.description, "owner_agency": agreed.owner_agency,
                      "owner": agreed.owner_id, "due_at": london_input(agreed.due_at)}
                     for agreed in record.agreed_actions.all()] if record else [])
    countersign_form = None
    if record is not None:
        countersign_form = forms.get("countersign_form") or CountersignForm(
            initial={"chair_name": meeting.chair_name})
    return {"strategy_form": strategy_form, "actions": actions, "countersign_form": countersign_form}


def _meeting_write(request: HttpRequest, urn: str, meeting_id: int) -> tuple[Referral, Meeting]:
    _require(request, RECORD)
    referral = case_load(request, urn, tab="meetings")
    return referral, _meeting_of(referral, meeting_id)


def attendance_add(request: HttpRequest, urn: str, meeting_id: int) -> HttpResponse:
    referral, meeting = _meeting_write(request, urn, meeting_id)
    if request.method != "POST":
        return redirect(meeting.get_absolute_url())
    form = AttendanceForm(request.POST)
    if _saved(form, lambda data: services.attendance_add(meeting=meeting, actor=request.user, now=timezone.now(),
                                                         **data)):
        messages.success(request, f"{form.cleaned_data['name']} added to the attendance.")
        return redirect(meeting.get_absolute_url() + "#attendance")
    return _render_meeting(request, referral, meeting.pk, attendance_form=form)


def meeting_hold(request: HttpRequest, urn: str, meeting_id: int) -> HttpResponse:
    referral, meeting = _meeting_write(request, urn, meeting_id)
    if request.method != "POST":
        return redirect(meeting.get_absolute_url())
    form = HoldForm(request.POST, conference=meeting.is_conference)
    if _saved(form, lambda data: services.meeting_hold(meeting=meeting, actor=request.user, now=timezone.now(),
                                                       outcome=data.get("outcome", ""),
                                                       plan_category=data.get("plan_category", ""))):
        messages.success(request, "Meeting recorded as held. Its minutes are now expected.")
        return redirect(meeting.get_absolute_url())
    return _render_meeting(request, referral, meeting.pk, hold_form=form)


def meeting_cancel(request: HttpRequest, urn: str, meeting_id: int) -> HttpResponse:
    referral, meeting = _meeting_write(request, urn, meeting_id)
    if request.method != "POST":
        return redirect(meeting.get_absolute_url())
    form = CancelForm(request.POST)
    if _saved(form, lambda data: services.meeting_cancel(meeting=meeting, actor=request.user, now=timezone.now(),
                                                         reason=data["reason"])):
        messages.success(request, "Meeting cancelled.")
        return redirect(meeting.get_absolute_url())
    return _render_meeting(request, referral, meeting.pk, cancel_form=form)


def minutes_record(request: HttpRequest, urn: str, meeting_id: int) -> HttpResponse:
    referral, meeting = _meeting_write(request, urn, meeting_id)
    if request.method != "POST":
        return redirect(meeting.get_absolute_url())
    form = MinutesForm(request.POST)
    if _saved(form, lambda data: services.minutes_record(meeting=meeting, actor=request.user, now=timezone.now(),
                                                         received_at=data["received_at"])):
        messages.success(request, "Minutes recorded as received.")
        return redirect(meeting.get_absolute_url())
    return _render_meeting(request, referral, meeting.pk, minutes_form=form)


def strategy_record_save(request: HttpRequest, urn: str, meeting_id: int) -> HttpResponse:
    referral, meeting = _meeting_write(request, urn, meeting_id)
    if request.method != "POST":
        return redirect(meeting.get_absolute_url() + "#strategy-record")
    record = StrategyRecord.objects.filter(meeting=meeting).first()
    if record is not None and record.is_countersigned:
        messages.error(request, COUNTERSIGNED)
        return _render_meeting(request, referral, meeting.pk)
    form = StrategyRecordForm(request.POST)
    actions = AgreedActionFormSet(request.POST, prefix=AGREED_ACTIONS_PREFIX,
                                  form_kwargs={"team_id": referral.team_id,
                                               "officers": officer_choices(referral.team_id)})
    actions_valid = actions.is_valid()
    if form.is_valid() and actions_valid:
        try:
            services.strategy_record_save(meeting=meeting, actor=request.user, now=timezone.now(),
                                          decisions=form.cleaned_data["decisions"], agreed_actions=actions.inputs())
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, "Strategy record saved. The chair's countersignature will make it final.")
            return redirect(meeting.get_absolute_url() + "#strategy-record")
    return _render_meeting(request, referral, meeting.pk, strategy_form=form, actions=actions)


def strategy_record_countersign(request: HttpRequest, urn: str, meeting_id: int) -> HttpResponse:
    referral, meeting = _meeting_write(request, urn, meeting_id)
    if request.method != "POST":
        return redirect(meeting.get_absolute_url() + "#strategy-record")
    record = StrategyRecord.objects.filter(meeting=meeting).first()
    if record is not None and record.is_countersigned:
        messages.error(request, COUNTERSIGNED)
        return _render_meeting(request, referral, meeting.pk)
    if record is None:
        messages.error(request, "Write the strategy record before the chair countersigns it.")
        return _render_meeting(request, referral, meeting.pk)
    form = CountersignForm(request.POST)
    if _saved(form, lambda data: services.strategy_record_countersign(record=record, actor=request.user,
                                                                      now=timezone.now(),
                                                                      chair_name=data["chair_name"])):
        messages.success(request, "Strategy record countersigned. Its agreed actions are now case actions.")
        return redirect(meeting.get_absolute_url() + "#strategy-record")
    return _render_meeting(request, referral, meeting.pk, countersign_form=form)


# --- Medical examinations and police protection ---------------------------------------------------

def medicals_tab(request: HttpRequest, urn: str) -> HttpResponse:
    referral = case_load(request, urn, tab="medicals")
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    return _render_medicals(request, referral)


def _render_medicals(request: HttpRequest, referral: Referral, **forms: Any) -> HttpResponse:
    context = case_context(request, referral, tab="medicals")
    now = context["now"]
    can_record = request.user.has_perm(RECORD)
    examinations = (MedicalExamination.objects.filter(referral=referral).select_related("child")
                    .order_by("-examined_at", "-pk"))
    protections = list(PoliceProtection.objects.filter(referral=referral).select_related("child")
                       .order_by("-started_at", "-pk"))
    end_forms = forms.get("end_forms", {})
    context.update(
        can_record=can_record, examinations=examinations,
        protection_rows=[{"protection": protection,
                          "hours_left": int(protection.hours_left(now)) if protection.is_running else None,
                          "end_form": (end_forms.get(protection.pk) or ProtectionEndForm(
                              prefix=f"end-{protection.pk}", initial={"ended_at": london_input(now)}))
                          if protection.is_running and can_record else None}
                         for protection in protections],
    )
    if can_record:
        officers = officer_choices(referral.team_id)
        context["medical_form"] = forms.get("medical_form") or MedicalForm(referral=referral, officers=officers)
        context["protection_form"] = forms.get("protection_form") or ProtectionStartForm(
            referral=referral, officers=officers, initial={"started_at": london_input(now)})
    return render(request, "conferences/medicals_tab.html", context)


def _medicals_write(request: HttpRequest, urn: str) -> Referral:
    _require(request, RECORD)
    return case_load(request, urn, tab="medicals")


def _back_to_medicals(referral: Referral, anchor: str) -> HttpResponse:
    return redirect(reverse("conferences:medicals", args=[referral.urn]) + anchor)


def medical_add(request: HttpRequest, urn: str) -> HttpResponse:
    referral = _medicals_write(request, urn)
    if request.method != "POST":
        return _back_to_medicals(referral, "#medicals")
    form = MedicalForm(request.POST, referral=referral)
    if _saved(form, lambda data: services.medical_record(referral=referral, actor=request.user, now=timezone.now(),
                                                         **form.service_arguments())):
        messages.success(request, "Medical examination recorded.")
        return _back_to_medicals(referral, "#medicals")
    return _render_medicals(request, referral, medical_form=form)


def protection_start(request: HttpRequest, urn: str) -> HttpResponse:
    referral = _medicals_write(request, urn)
    if request.method != "POST":
        return _back_to_medicals(referral, "#protection")
    form = ProtectionStartForm(request.POST, referral=referral)
    if _saved(form, lambda data: services.protection_start(referral=referral, actor=request.user,
                                                           now=timezone.now(), **form.service_arguments())):
        messages.success(request, "Police protection recorded. It must end within 72 hours of its start.")
        return _back_to_medicals(referral, "#protection")
    return _render_medicals(request, referral, protection_form=form)


def protection_end(request: HttpRequest, urn: str, protection_id: int) -> HttpResponse:
    referral = _medicals_write(request, urn)
    protection = get_object_or_404(PoliceProtection.objects.filter(referral=referral).select_related("child"),
                                   pk=protection_id)
    protection.referral = referral
    if request.method != "POST":
        return _back_to_medicals(referral, "#protection")
    form = ProtectionEndForm(request.POST, prefix=f"end-{protection.pk}")
    if _saved(form, lambda data: services.protection_end(protection=protection, actor=request.user,
                                                         now=timezone.now(), **data)):
        messages.success(request, f"Police protection of {protection.child.full_name} ended.")
        return _back_to_medicals(referral, "#protection")
    return _render_medicals(request, referral, end_forms={protection.pk: form})


# --- Supervisors' lists ---------------------------------------------------------------------------

@require_GET
def medicals_without_police(request: HttpRequest) -> HttpResponse:
    """Every examination police did not attend, across the referrals this officer may see, newest first."""
    _require(request, REVIEW)
    # Partial index medical_no_police_idx serves this list.
    examinations = (MedicalExamination.objects
                    .filter(police_attended=False, referral__in=Referral.objects.visible_to(request.user))
                    .select_related("referral", "child").order_by("-examined_at", "-pk"))
    page = Paginator(examinations, 50).get_page(request.GET.get("page"))
    return render(request, "conferences/medicals_without_police.html", {"page": page})


@require_GET
def flagged_meetings(request: HttpRequest) -> HttpResponse:
    """Held meetings with a missing supervisor, paediatrician or police attendance, newest first."""
    _require(request, REVIEW)
    meetings = (Meeting.objects.visible_to(request.user)
                .filter(Q(flag_no_police_supervisor=True) | Q(flag_no_paediatrician=True) | Q(flag_no_police=True),
                        status=MeetingStatus.HELD)
                .select_related("referral").order_by("-starts_at", "-pk"))
    page = Paginator(meetings, 50).get_page(request.GET.get("page"))
    return render(request, "conferences/flagged_meetings.html", {"page": page})
