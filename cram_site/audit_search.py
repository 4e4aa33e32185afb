"""Reads of the auditor's search: which events an auditor may see, the events matching a search, a
page of them (newest first, by keyset), and what each row links to.

The audit table is the biggest table of the force, so every search is bounded by a time range and
narrowed through an index: by officer (audit_actor_time_idx), by referral (audit_referral_time_idx),
by record (audit_record_time_idx), by action (audit_action_time_idx), or by time alone (the
timestamp index). Pages are read by keyset, never by OFFSET, and the count stops at COUNT_CAP.

Referrals and people sit above cram_site, so their models are looked up when called, never imported.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q, QuerySet
from django.db.models.functions import Cast

from .models import AuditEvent, Officer

PAGE_SIZE = 50
# Counting every event of a long range would read the whole range; past this the page says "or more".
COUNT_CAP = 10_000
# How much of a value typed into a record (a reason, a searched name) a detail cell shows.
DETAIL_LIMIT = 300


@dataclass(frozen=True)
class AuditCriteria:
    """One search of the audit trail. `start` is inclusive and `end` exclusive, both aware."""

    start: dt.datetime
    end: dt.datetime
    officer: Officer | None = None
    referral: Any = None
    person: Any = None
    include_referrals: bool = False
    action: int | None = None
    # The person's referrals the auditor may see, when `include_referrals` is chosen.
    person_referral_ids: tuple[int, ...] = ()

    @property
    def narrowed_to_visible_records(self) -> bool:
        """An officer or a record the auditor may see: every event it matches is theirs to see."""
        return self.officer is not None or self.referral is not None or self.person is not None


def sees_every_team(user: Officer) -> bool:
    return user.is_superuser or user.force_wide


def auditable_officers(user: Officer) -> QuerySet[Officer]:
    """The officers whose events an auditor may search by: their own team's, or everyone's if force-wide."""
    officers = Officer.objects.select_related("team")
    if sees_every_team(user):
        return officers
    if user.team_id is None:
        return officers.none()
    return officers.filter(team_id=user.team_id)


def _pks_as_text(queryset: QuerySet) -> QuerySet:
    # An event names its record by `object_pk`, a text column shared by every kind of record.
    return queryset.annotate(pk_text=Cast("pk", models.CharField())).values("pk_text")


def visible_events(user: Officer) -> QuerySet[AuditEvent]:
    """The events an auditor may see at all.

    A force-wide auditor sees every event. A team auditor sees the events of the team's records (a
    referral and every record on it, the team's people, households and officers) and every event by
    the team's officers, wherever it happened (their refusals carry them as the actor). A failed
    sign-in has no actor: it is the team's when the username tried is one of the team's officers; a
    username nobody holds belongs to no team, so only a force-wide auditor sees it.
    """
    return AuditEvent.objects.filter(_visibility(user))


def _visibility(user: Officer) -> Q:
    if not user.is_authenticated:
        return Q(pk__in=[])
    if sees_every_team(user):
        return Q()
    if user.team_id is None:
        return Q(pk__in=[])
    return _team_events(user.team_id)


def _team_events(team_id: int) -> Q:
    referral_model = apps.get_model("referrals", "Referral")
    person_model = apps.get_model("referrals", "Person")
    household_model = apps.get_model("referrals", "Household")
    types = ContentType.objects.get_for_models(person_model, household_model, Officer)
    team_officers = Officer.objects.filter(team_id=team_id)
    return (
        Q(actor__in=team_officers.values("pk"))
        | Q(referral_id__in=referral_model.objects.filter(team_id=team_id).values("pk"))
        | Q(content_type=types[person_model],
            object_pk__in=_pks_as_text(person_model.objects.filter(team_id=team_id)))
        | Q(content_type=types[household_model],
            object_pk__in=_pks_as_text(household_model.objects.filter(team_id=team_id)))
        | Q(content_type=types[Officer], object_pk__in=_pks_as_text(team_officers))
        | Q(action=AuditEvent.Action.LOGIN_FAILED, actor__isnull=True,
            object_repr__in=team_officers.values("username"))
    )


def search_events(user: Officer, criteria: AuditCriteria) -> QuerySet[AuditEvent]:
    """The events matching a search, newest first, as the auditor may see them."""
    events = AuditEvent.objects.filter(timestamp__gte=criteria.start, timestamp__lt=criteria.end)
    if criteria.officer is not None:
        events = events.filter(actor=criteria.officer)
    if criteria.referral is not None:
        events = events.filter(referral_id=criteria.referral.pk)
    if criteria.person is not None:
        person_type = ContentType.objects.get_for_model(criteria.person)
        on_person = Q(content_type=person_type, object_pk=str(criteria.person.pk))
        if criteria.include_referrals and criteria.person_referral_ids:
            on_person |= Q(referral_id__in=criteria.person_referral_ids)
        events = events.filter(on_person)
    if criteria.action is not None:
        events = events.filter(action=criteria.action)
    if not criteria.narrowed_to_visible_records:
        # The officer and the record were checked against what the auditor may see when chosen.
        events = events.filter(_visibility(user))
    return events.select_related("actor", "content_type").order_by("-timestamp", "-pk")


def capped_count(events: QuerySet[AuditEvent]) -> tuple[int, bool]:
    """How many events match, reading at most COUNT_CAP of them: (count, whether there are more)."""
    count = events.order_by()[:COUNT_CAP + 1].count()
    return min(count, COUNT_CAP), count > COUNT_CAP


# --- Pages by keyset ------------------------------------------------------------------------------

def cursor_of(event: AuditEvent) -> str:
    return f"{event.timestamp.isoformat()}~{event.pk}"


def parse_cursor(text: str | None) -> tuple[dt.datetime, int] | None:
    """The (timestamp, id) of the last event of the previous page; None for a missing or mangled one."""
    if not text:
        return None
    moment, _, pk = text.rpartition("~")
    try:
        timestamp = dt.datetime.fromisoformat(moment)
        number = int(pk)
    except ValueError:
        return None
    if timestamp.tzinfo is None:
        return None
    return timestamp, number


@dataclass
class EventPage:
    events: list[AuditEvent]
    next_cursor: str = ""
    is_first: bool = True


def events_page(events: QuerySet[AuditEvent], *, cursor: tuple[dt.datetime, int] | None) -> EventPage:
    """One page of events after `cursor` (older than it), and the cursor of the page after."""
    if cursor is not None:
        timestamp, pk = cursor
        events = events.filter(Q(timestamp__lt=timestamp) | Q(timestamp=timestamp, pk__lt=pk))
    rows = list(events[:PAGE_SIZE + 1])
    page = EventPage(events=rows[:PAGE_SIZE], is_first=cursor is None)
    if len(rows) > PAGE_SIZE:
        page.next_cursor = cursor_of(rows[PAGE_SIZE - 1])
    return page


# --- What each row shows and links to -------------------------------------------------------------

@dataclass
class AuditRow:
    event: AuditEvent
    record_label: str
    record_url: str = ""
    case_urn: str = ""
    details: list[tuple[str, str]] = field(default_factory=list)


def audit_rows(user: Officer, events: list[AuditEvent]) -> list[AuditRow]:
    """The rows of a page, linking each record to its case page or person page where the auditor
    may open it: two queries, whatever the page holds."""
    referral_model = apps.get_model("referrals", "Referral")
    person_model = apps.get_model("referrals", "Person")
    person_type = ContentType.objects.get_for_model(person_model)
    referral_ids = {event.referral_id for event in events if event.referral_id}
    person_ids = {int(event.object_pk) for event in events
                  if event.content_type_id == person_type.pk and event.object_pk.isdigit()}
    cases = ({referral.pk: referral for referral in
              referral_model.objects.visible_to(user).filter(pk__in=referral_ids).only("pk", "urn")}
             if referral_ids else {})
    people = ({person.pk: person for person in
               person_model.objects.visible_to(user).filter(pk__in=person_ids).only("pk")}
              if person_ids else {})
    rows = []
    for event in events:
        row = AuditRow(event=event, record_label=_record_label(event), details=event_details(event))
        case = cases.get(event.referral_id) if event.referral_id else None
        if event.content_type_id == person_type.pk and event.object_pk.isdigit() and int(event.object_pk) in people:
            row.record_url = people[int(event.object_pk)].get_absolute_url()
        elif case is not None:
            row.record_url = case.get_absolute_url()
            if not (event.content_type.model == "referral" and event.object_pk == str(case.pk)):
                row.case_urn = case.urn
        rows.append(row)
    return rows


def _record_label(event: AuditEvent) -> str:
    if event.action == AuditEvent.Action.REFUSED:
        return f"address {event.object_repr}"
    if event.action == AuditEvent.Action.LOGIN_FAILED:
        return f"username tried: {event.object_repr}"
    if event.content_type.model_class() is AuditEvent:
        return event.object_repr
    return f"{event.content_type.name}: {event.object_repr}"


def event_details(event: AuditEvent) -> list[tuple[str, str]]:
    """What the event adds (what was viewed, the refusal's reason, an export's rows, what was
    searched), and for a change the names of the fields changed, as plain text pairs that the
    template escapes."""
    details: list[tuple[str, str]] = []
    data = event.additional_data if isinstance(event.additional_data, dict) else {}
    for key, value in data.items():
        details.append((str(key).replace("_", " "), _plain(value)))
    # A change names the fields it changed (their values may be free text; the record shows them).
    if event.action == AuditEvent.Action.UPDATE and event.changes:
        changed = event.changes_dict
        if changed:
            details.append(("fields", ", ".join(str(name).replace("_", " ") for name in changed)))
    return details


def _plain(value: object) -> str:
    if isinstance(value, dict):
        text = "; ".join(f"{str(key).replace('_', ' ')}: {_plain(item)}" for key, item in value.items())
    elif isinstance(value, list | tuple):
        text = ", ".join(_plain(item) for item in value)
    else:
        text = str(value)
    return text if len(text) <= DETAIL_LIMIT else text[:DETAIL_LIMIT - 1] + "…"
