"""The police report for a conference (page, print page and PDF) and the PCLO's conference diary.

Reads go through `case_load` / `Meeting.objects.visible_to(user)`, so a record of another team is
a 404 whatever the address; writes go through the services and need `conferences.prepare_report`.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from cram_site.calendar import LONDON
from cram_site.models import AuditEvent, Officer
from referrals.models import Referral
from referrals.views import case_context, case_load

from . import services
from .models import Meeting, PoliceReport
from .pdf import render_pdf
from .report import report_contents

PRE_CONFERENCE_REFUSAL = "Complete the pre-conference CRAM for this conference before submitting the report."


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


# --- Forms ---------------------------------------------------------------------------------------

class NarrativeForm(forms.Form):
    summary_of_concerns = forms.CharField(label="Summary of police concerns", required=False,
                                          widget=forms.Textarea(attrs={"rows": 5}))
    police_involvement = forms.CharField(label="Police involvement since the last conference", required=False,
                                         widget=forms.Textarea(attrs={"rows": 5}))
    analysis = forms.CharField(label="Analysis of risk", required=False, widget=forms.Textarea(attrs={"rows": 5}))
    recommendations = forms.CharField(label="Recommendations", required=False,
                                      widget=forms.Textarea(attrs={"rows": 4}))


class SubmitForm(forms.Form):
    submitted_to = forms.CharField(label="Submit the report to", max_length=200,
                                   help_text="Usually the conference chair.")


# --- The report ----------------------------------------------------------------------------------

@dataclass
class ReportPage:
    referral: Referral
    meeting: Meeting
    report: PoliceReport | None


def _report_load(request: HttpRequest, urn: str, meeting_id: int) -> ReportPage:
    """The conference and its report, if this officer may see the case; a 404 otherwise."""
    referral = case_load(request, urn, tab="meetings")
    meeting = get_object_or_404(Meeting.objects.filter(referral=referral).select_related("police_attendee"),
                                pk=meeting_id)
    if not meeting.is_conference:
        raise Http404("Only a child protection conference has a police report")
    meeting.referral = referral  # already loaded, with its team, for the header and the report
    report = PoliceReport.objects.filter(meeting=meeting).select_related("prepared_by").first()
    return ReportPage(referral, meeting, report)


def _contents(page: ReportPage) -> dict[str, Any]:
    """What the report says: as submitted, once it has been; as it stands today until then."""
    if page.report is not None and page.report.is_submitted and page.report.snapshot:
        return page.report.snapshot
    return report_contents(page.meeting, page.report)


def _report_context(request: HttpRequest, page: ReportPage, now: dt.datetime) -> dict[str, Any]:
    report, meeting = page.report, page.meeting
    submitted = report is not None and report.is_submitted
    due = meeting.report_due_at
    late = due is not None and ((report.submitted_at if submitted else None) or now) > due
    return {
        "meeting": meeting, "report": report, "submitted": submitted, "contents": _contents(page),
        "report_due_at": due, "report_late": late, "now": now,
        "free_text": request.user.has_perm("referrals.read_free_text"),
    }


def report_page(request: HttpRequest, urn: str, meeting_id: int) -> HttpResponse:
    """Read the report; with `conferences.prepare_report`, open, write and submit it."""
    page = _report_load(request, urn, meeting_id)
    can_edit = request.user.has_perm("conferences.prepare_report")
    narrative_form: NarrativeForm | None = None
    submit_form: SubmitForm | None = None
    submit_errors: list[str] = []
    now = timezone.now()
    if request.method == "POST":
        _require(request, "conferences.prepare_report")
        intent = request.POST.get("intent", "")
        if intent == "open":
            try:
                services.police_report_open(meeting=page.meeting, actor=request.user, now=now)
            except ValidationError as error:
                for message in error.messages:
                    messages.error(request, message)
            else:
                messages.success(request, "Report opened. Write the narrative, then submit it to the chair.")
            return redirect("conferences:report", urn=urn, meeting_id=meeting_id)
        if page.report is None:
            messages.error(request, "Open the report first.")
            return redirect("conferences:report", urn=urn, meeting_id=meeting_id)
        if intent == "save":
            narrative_form = NarrativeForm(request.POST)
            if narrative_form.is_valid():
                try:
                    services.police_report_save(report=page.report, actor=request.user, now=now,
                                                **narrative_form.cleaned_data)
                except ValidationError as error:
                    # Only a report submitted meanwhile refuses a save; the page then shows it as submitted.
                    for message in error.messages:
                        messages.error(request, message)
                else:
                    messages.success(request, "Draft saved.")
                return redirect("conferences:report", urn=urn, meeting_id=meeting_id)
        elif intent == "submit":
            submit_form = SubmitForm(request.POST)
            if submit_form.is_valid():
                try:
                    # What the report says is fixed at this moment, as the chair receives it.
                    services.police_report_submit(
                        report=page.report, actor=request.user, now=now,
                        submitted_to=submit_form.cleaned_data["submitted_to"],
                        contents=report_contents(page.meeting, page.report))
                except ValidationError as error:
                    submit_errors = error.messages
                else:
                    messages.success(request, f"Report submitted to {submit_form.cleaned_data['submitted_to']}.")
                    return redirect("conferences:report", urn=urn, meeting_id=meeting_id)
        else:
            return redirect("conferences:report", urn=urn, meeting_id=meeting_id)

    context = case_context(request, page.referral, tab="meetings")
    context.update(_report_context(request, page, now))
    editing = can_edit and page.report is not None and not page.report.is_submitted
    if editing:
        report = page.report
        narrative_form = narrative_form or NarrativeForm(initial={
            "summary_of_concerns": report.summary_of_concerns, "police_involvement": report.police_involvement,
            "analysis": report.analysis, "recommendations": report.recommendations})
        submit_form = submit_form or SubmitForm(
            initial={"submitted_to": f"{page.meeting.chair_name} ({page.meeting.chair_agency})"})
    if page.report is None or not page.report.is_submitted:
        context.update(pre_conference=services.pre_conference_assessment(page.meeting), show_pre_conference=True)
    context.update(can_edit=can_edit, editing=editing, narrative_form=narrative_form, submit_form=submit_form,
                   submit_errors=submit_errors, needs_cram=PRE_CONFERENCE_REFUSAL in submit_errors)
    return render(request, "conferences/report.html", context, status=400 if submit_errors else 200)


def _print_html(request: HttpRequest, page: ReportPage, *, for_pdf: bool) -> str:
    context = _report_context(request, page, timezone.now())
    # The URN goes into the page footer through CSS, which Django does not escape: keep only the
    # characters a URN is made of (HY-26-00042).
    context.update(referral=page.referral, for_pdf=for_pdf, footer_urn=re.sub(r"[^A-Za-z0-9-]", "", page.referral.urn))
    return render_to_string("conferences/report_print.html", context, request=request)


@require_GET
def report_print(request: HttpRequest, urn: str, meeting_id: int) -> HttpResponse:
    """The report on its own, laid out for paper by the print stylesheet."""
    return HttpResponse(_print_html(request, _report_load(request, urn, meeting_id), for_pdf=False))


@require_GET
def report_pdf(request: HttpRequest, urn: str, meeting_id: int) -> HttpResponse:
    """The report as a PDF download; the export is audited with the report it came from."""
    page = _report_load(request, urn, meeting_id)
    pdf = render_pdf(_print_html(request, page, for_pdf=True))
    AuditEvent.objects.log_create(page.report or page.meeting, force_log=True, action=AuditEvent.Action.EXPORT,
                                  additional_data={"exported": "police report PDF"})
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{page.referral.urn}-police-report.pdf"'
    return response


# --- The conference diary -----------------------------------------------------------------------

WEEK_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$")
DIARY_PAGE_SIZE = 100
MINUTES_LIMIT = 100
NOT_ASSIGNED = "none"


def _week_start(text: str, today: dt.date) -> dt.date:
    """The Monday of an ISO week given as YYYY-Www; this week's when absent or malformed."""
    match = WEEK_PATTERN.match(text or "")
    if match:
        try:
            return dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
        except ValueError:
            pass
    return today - dt.timedelta(days=today.weekday())


def _week_label(monday: dt.date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def _london_midnight(day: dt.date) -> dt.datetime:
    # Each boundary is London midnight on its own date, so a week across a clock change is right.
    return dt.datetime.combine(day, dt.time.min, tzinfo=LONDON)


@dataclass
class DiaryRow:
    meeting: Meeting
    report: PoliceReport | None
    report_late: bool

    @property
    def report_status(self) -> str:
        if not self.meeting.is_conference:
            return "Not needed"
        if self.report is None:
            return "Not started"
        return "Submitted" if self.report.is_submitted else "Draft"


def _diary_row(meeting: Meeting, now: dt.datetime) -> DiaryRow:
    try:
        report: PoliceReport | None = meeting.police_report
    except PoliceReport.DoesNotExist:
        report = None
    submitted = report is not None and report.is_submitted
    late = meeting.report_due_at is not None and not submitted and meeting.report_due_at < now
    return DiaryRow(meeting, report, late)


@require_GET
def diary(request: HttpRequest) -> HttpResponse:
    """Upcoming meetings of one week with their police report status; minutes still outstanding."""
    _require(request, "conferences.view_diary")
    now = timezone.now()
    today = now.astimezone(LONDON).date()
    monday = _week_start(request.GET.get("week", ""), today)
    start, end = _london_midnight(monday), _london_midnight(monday + dt.timedelta(days=7))
    visible = Meeting.objects.visible_to(request.user)
    upcoming = visible.upcoming(now)

    officer_choice = request.GET.get("officer", "")
    week = upcoming.filter(starts_at__gte=start, starts_at__lt=end)
    if officer_choice == NOT_ASSIGNED:
        week = week.filter(police_attendee__isnull=True)
    elif officer_choice.isdigit():
        week = week.filter(police_attendee_id=int(officer_choice))
    else:
        officer_choice = ""
    week = week.select_related("referral", "police_attendee", "police_report").order_by("starts_at", "pk")
    page = Paginator(week, DIARY_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [_diary_row(meeting, now) for meeting in page.object_list]

    # Officers who are down to attend an upcoming meeting this officer may see.
    officers = Officer.objects.filter(pk__in=upcoming.filter(police_attendee__isnull=False)
                                      .values("police_attendee")).order_by("last_name", "first_name")
    minutes = list(visible.minutes_outstanding(now).select_related("referral")
                   .order_by("minutes_due_at", "pk")[:MINUTES_LIMIT + 1])

    def week_url(day: dt.date) -> str:
        query = {"week": _week_label(day)}
        if officer_choice:
            query["officer"] = officer_choice
        return f"{reverse('conferences:diary')}?{urlencode(query)}"

    this_monday = today - dt.timedelta(days=today.weekday())
    return render(request, "conferences/diary.html", {
        "now": now, "monday": monday, "sunday": monday + dt.timedelta(days=6), "week": _week_label(monday),
        "is_this_week": monday == this_monday, "is_next_week": monday == this_monday + dt.timedelta(days=7),
        "previous_url": week_url(monday - dt.timedelta(days=7)), "next_url": week_url(monday + dt.timedelta(days=7)),
        "this_week_url": week_url(this_monday),
        "page": page, "rows": rows, "officers": officers, "officer_choice": officer_choice,
        "not_assigned": NOT_ASSIGNED,
        "minutes": minutes[:MINUTES_LIMIT], "minutes_more": len(minutes) > MINUTES_LIMIT,
        "minutes_late": {meeting.pk for meeting in minutes if meeting.minutes_late(now)},
    })

