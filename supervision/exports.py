"""Supervisors' exports (registered with cram_site.exports): any queue, narrowed as its page is, and
the workload by officer. The performance measure tables register themselves in performance_exports."""
from __future__ import annotations

from . import performance_exports  # noqa: F401

from collections.abc import Iterator
from itertools import islice

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone

from cram_site.exports import ExportTable, register_export
from cram_site.models import Officer
from cram_site.rules import is_supervisor

from .forms import QueueFilterForm
from .queues import QUEUES_BY_SLUG, RATINGS, Queue, Queues, team_officers, workload

# Queue rows read per query; each batch's records are then loaded in a fixed number of queries.
CHUNK_SIZE = 500


def _require_supervisor(user: Officer) -> None:
    if not is_supervisor(user):
        raise PermissionDenied("Only supervisors may export the supervision pages.")


@register_export("queue", label="A supervisor's queue")
def queue_export(user: Officer, query: QueryDict) -> ExportTable:
    """A queue (`?queue=<slug>`) with the officer, rating and order its page was narrowed to."""
    _require_supervisor(user)
    queue = QUEUES_BY_SLUG.get(query.get("queue", ""))
    if queue is None:
        raise ValidationError("Choose one of the supervisor's queues to export.")
    officers = list(team_officers(user))
    form = QueueFilterForm(query, officers=officers)
    if not form.is_valid():
        raise ValidationError([f"{form.fields[name].label}: {' '.join(errors)}" for name, errors in form.errors.items()])
    filters = form.cleaned_data
    queues = Queues(user, timezone.now())
    rows = queues.rows(queue, officer_id=filters.get("officer"), rating=filters.get("rating") or "",
                       descending=filters.get("order") == "-due")
    narrowed = []
    if filters.get("officer"):
        narrowed.append(next(o.display_name for o in officers if o.pk == filters["officer"]))
    if filters.get("rating"):
        narrowed.append(dict(RATINGS)[filters["rating"]].lower() + (" risk" if filters["rating"] != "none" else ""))
    title = f"Queue: {queue.title}" + (f" ({', '.join(narrowed)})" if narrowed else "")
    headers = [queue.due_heading, *(["Overdue"] if queue.due_is_deadline else []), "URN", "Child", "What",
               "Risk rating", "Intelligence gaps", "Unmanaged risks", "Investigating officer"]
    return ExportTable(title=title, headers=headers, rows=_queue_rows(queues, queue, rows), total_rows=rows.count())


def _queue_rows(queues: Queues, queue: Queue, rows: QuerySet) -> Iterator[list[object]]:
    """The queue's rows in its order, a batch at a time: each batch's records are loaded together."""
    sorted_rows = rows.iterator(chunk_size=CHUNK_SIZE)
    while batch := list(islice(sorted_rows, CHUNK_SIZE)):
        for row in queues.load(queue, batch):
            referral = row.referral
            child = referral.lead_child
            yield [
                row.due, *([row.overdue] if queue.due_is_deadline else []), referral.urn,
                child.full_name if child else "", row.what, referral.rating.capitalize(), referral.gap_count,
                referral.unmanaged_risk_count, referral.owner.display_name if referral.owner else "Unallocated",
            ]


@register_export("workload", label="The workload by officer")
def workload_export(user: Officer, query: QueryDict) -> ExportTable:
    """Each officer's open referrals by rating, open actions, overdue items, skills and leaving date."""
    _require_supervisor(user)
    officers = [officer for officer in team_officers(user) if officer.does_casework]
    loads = workload(user, timezone.now(), officers)
    headers = ["Officer", *(label for _, label in RATINGS), "Open referrals", "Open actions", "Overdue items",
               "Skills", "Leaving date"]
    rows = ([load.officer.display_name, *(count for _, _, count in load.ratings), load.open_referrals,
             load.open_actions, load.overdue, ", ".join(str(skill) for skill in load.officer.skills),
             load.officer.leaving_date] for load in loads)
    return ExportTable(title="Workload by officer", headers=headers, rows=rows, total_rows=len(loads))
