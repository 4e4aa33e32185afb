"""The auditor's search of the audit trail: by officer, record, action and time range.

The page only reads; no screen changes or deletes an event (the table refuses it as well). The
search itself is a record access and leaves an event of its own: the trail shows which children's
records exist and who opened them, so looking through it is as accountable as opening a case.
"""
from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from .audit_forms import MINUTE, AuditSearchForm, with_default_range
from .audit_search import (
    AuditCriteria,
    audit_rows,
    capped_count,
    events_page,
    parse_cursor,
    search_events,
)
from .models import AuditEvent

# What a search narrowed to a person drops from the address once the person is chosen.
PERSON_LOOKUP_FIELDS = ("name", "date_of_birth", "before")


@require_GET
def audit_search(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("cram_site.search_audit"):
        raise PermissionDenied
    now = timezone.now()
    form = AuditSearchForm(with_default_range(request.GET, now=now), user=request.user, now=now)
    context: dict[str, Any] = {"form": form, "searched": False, "matches": None}
    if form.is_valid():
        if form.looking_for_a_person:
            context["matches"] = form.person_matches()
            context["choose_query"] = _query_without(request, *PERSON_LOOKUP_FIELDS, "person")
        else:
            criteria = form.criteria()
            context.update(_results(request, criteria))
            _audit_the_search(form.searched(criteria))
    # The chosen person stays chosen when another field needs correcting.
    context["person"] = form.cleaned_data.get("person_record")
    context["clear_person_query"] = _query_without(request, "person", "include_referrals", "before")
    return render(request, "cram_site/audit_search.html", context)


def _results(request: HttpRequest, criteria: AuditCriteria) -> dict[str, Any]:
    events = search_events(request.user, criteria)
    page = events_page(events, cursor=parse_cursor(request.GET.get("before")))
    count, more = capped_count(events)
    return {
        "searched": True, "criteria": criteria, "last_minute": criteria.end - MINUTE, "page": page,
        "rows": audit_rows(request.user, page.events),
        "count": count, "more_than_cap": more,
        "next_query": _query_with(request, before=page.next_cursor) if page.next_cursor else "",
        "first_query": _query_without(request, "before"),
    }


def _audit_the_search(searched: dict[str, str]) -> None:
    # An event on the audit trail itself, not on the record searched, so that a search of a record
    # is not mistaken for a view of it; the actor and address come from the request.
    AuditEvent.objects.create(
        content_type=ContentType.objects.get_for_model(AuditEvent), object_pk="",
        object_repr="Search of the audit trail", action=AuditEvent.Action.ACCESS,
        additional_data={"searched": searched},
    )


def _query_without(request: HttpRequest, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


def _query_with(request: HttpRequest, **values: str) -> str:
    query = request.GET.copy()
    for name, value in values.items():
        query[name] = value
    return query.urlencode()
