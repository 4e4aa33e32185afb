"""What a police report for a conference says: assembled from the current CRAM, the chronology
since the last conference, the latest checks, attendance at earlier meetings and open actions.

The result is plain data (JSON-ready), so a submitted report can be kept exactly as it was.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import OuterRef, Prefetch, Subquery

from cram_site.calendar import LONDON
from referrals.models import Action, ActionStatus, CaseLogEntry
from risk.models import Answer, Assessment, SystemsCheck
from risk.services import open_gaps, unmanaged_risks

from .models import CONFERENCE_KINDS, Attendance, AttendanceStatus, Meeting, MeetingStatus, PoliceReport

# The chronology in a report is the entries since the last conference; a limit keeps a report of a
# long-running case readable, and the report says when entries were left out.
CHRONOLOGY_LIMIT = 300


def _london(moment: dt.datetime | None) -> str:
    return f"{moment.astimezone(LONDON):%d/%m/%Y %H:%M}" if moment else ""


def report_contents(meeting: Meeting, report: PoliceReport | None) -> dict[str, Any]:
    """Everything the report shows, in a fixed number of queries whatever the size of the case."""
    referral = meeting.referral
    previous = (Meeting.objects.filter(referral_id=referral.pk, kind__in=CONFERENCE_KINDS, status=MeetingStatus.HELD,
                                       starts_at__lt=meeting.starts_at)
                .exclude(pk=meeting.pk).order_by("-starts_at").first())
    since = previous.starts_at if previous else None
    return {
        "urn": referral.urn,
        "team": referral.team.name,
        "conference": {
            "kind": meeting.get_kind_display(), "date": _london(meeting.starts_at), "place": meeting.place,
            "chair": f"{meeting.chair_name} ({meeting.chair_agency})", "report_due": _london(meeting.report_due_at),
        },
        "children": [{"name": link.person.full_name,
                      "born": link.person.date_of_birth.strftime("%d/%m/%Y") if link.person.date_of_birth else "",
                      "role": link.get_role_display()}
                     for link in referral.referral_people.select_related("person").order_by("pk")],
        "since": _london(since) if since else "the referral",
        "cram": _cram(referral),
        "chronology": _chronology(referral, since),
        "checks": _latest_checks(referral),
        "earlier_meetings": _earlier_meetings(referral, meeting),
        "open_actions": [{"description": action.description, "owner": action.owner.display_name,
                          "due": _london(action.due_at)}
                         for action in Action.objects.filter(referral=referral, status=ActionStatus.OPEN)
                         .select_related("owner").order_by("due_at")],
        "narrative": {
            "summary_of_concerns": report.summary_of_concerns if report else "",
            "police_involvement": report.police_involvement if report else "",
            "analysis": report.analysis if report else "",
            "recommendations": report.recommendations if report else "",
        },
    }


def _cram(referral: Any) -> dict[str, Any] | None:
    current = (Assessment.objects.completed().filter(referral=referral).order_by("-number")
               .prefetch_related(Prefetch("answers", queryset=Answer.objects.prefetch_related("closed_by_checks")
                                          .order_by("section", "position")), "control_measures").first())
    if current is None:
        return None
    answers = list(current.answers.all())
    measures = list(current.control_measures.all())
    closed = {answer.code for answer in answers if answer.closed_by_checks.all()}
    unmanaged = {answer.code for answer in unmanaged_risks(answers, measures)}
    return {
        "number": current.number, "kind": current.get_kind_display(), "completed": _london(current.completed_at),
        "completed_by": current.completed_by_label, "rating": current.get_rating_display(),
        "suggested": current.get_suggested_rating_display(), "rationale": current.rating_rationale,
        "present": [{"question": a.question, "unmanaged": a.code in unmanaged, "contextual": a.contextual,
                     "note": a.note}
                    for a in answers if a.value == "yes"],
        "gaps": [{"question": a.question, "check": a.get_closing_check_display(), "closed": a.code in closed}
                 for a in open_gaps(answers)],
        "measures": [{"label": m.label, "agency": m.owner_agency, "status": m.get_status_display()} for m in measures],
    }


def _chronology(referral: Any, since: dt.datetime | None) -> dict[str, Any]:
    entries = CaseLogEntry.objects.filter(referral=referral)
    if since is not None:
        entries = entries.filter(occurred_at__gt=since)
    rows = list(entries.order_by("occurred_at", "number")[: CHRONOLOGY_LIMIT + 1])
    return {
        "entries": [{"number": e.number, "when": _london(e.occurred_at), "kind": e.get_kind_display(),
                     "author": e.author_label, "text": e.text} for e in rows[:CHRONOLOGY_LIMIT]],
        "more": len(rows) > CHRONOLOGY_LIMIT,
    }


def _latest_checks(referral: Any) -> list[dict[str, Any]]:
    """The latest check of each system or agency, newest first: one row per system, in one query, however
    many checks the case has (a cap on the rows read would drop a system checked only long ago)."""
    latest_of_system = (SystemsCheck.objects.filter(referral=referral, system=OuterRef("system"))
                        .order_by("-checked_at", "-pk").values("pk")[:1])
    latest = (SystemsCheck.objects.filter(referral=referral, pk=Subquery(latest_of_system))
              .order_by("-checked_at", "-pk"))
    return [{"system": c.get_system_display(), "when": _london(c.checked_at), "by": c.checked_by_label,
             "result": c.result, "new": c.anything_new} for c in latest]


def _earlier_meetings(referral: Any, meeting: Meeting) -> list[dict[str, Any]]:
    earlier = (Meeting.objects.filter(referral=referral, status=MeetingStatus.HELD, starts_at__lt=meeting.starts_at)
               .exclude(pk=meeting.pk).order_by("starts_at")
               .prefetch_related(Prefetch("attendance", queryset=Attendance.objects.order_by("-is_police", "name"))))
    return [{
        "kind": m.get_kind_display(), "date": _london(m.starts_at), "flags": m.flags,
        "police": [f"{a.rank} {a.name}".strip() for a in m.attendance.all()
                   if a.is_police and a.status == AttendanceStatus.ATTENDED],
        "attended": [f"{a.name} ({a.agency})" for a in m.attendance.all() if a.status == AttendanceStatus.ATTENDED],
    } for m in earlier]
