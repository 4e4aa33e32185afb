"""Access audit: who looked at which record. Changes are audited by django-auditlog itself.

Each call writes inside the request's transaction, so a view that fails leaves no trace and a
view that succeeds cannot go unrecorded.
"""
from __future__ import annotations

from django.db import models

from .models import AuditEvent, ExportJob, Officer


def audit_view(instance: models.Model, *, detail: str = "") -> AuditEvent | None:
    """Record that the current user viewed `instance` (the actor comes from the request)."""
    extra = {"additional_data": {"viewed": detail}} if detail else {}
    return AuditEvent.objects.log_create(instance, force_log=True, action=AuditEvent.Action.ACCESS, **extra)


def audit_refused(*, path: str, reason: str) -> None:
    """Record a request that was refused (a record of another team, a role the user lacks)."""
    from django.contrib.contenttypes.models import ContentType

    AuditEvent.objects.create(
        content_type=ContentType.objects.get_for_model(AuditEvent),
        object_pk="",
        object_repr=path[:200],
        action=AuditEvent.Action.REFUSED,
        additional_data={"reason": reason},
    )


def audit_export(*, actor: Officer, source: str, title: str, parameters: dict[str, list[str]], file_format: str,
                 rows: int, job: ExportJob | None = None, stage: str = "direct") -> AuditEvent:
    """Record an export: what was exported (the table, its parameters), in which format and how many rows.

    `stage` says which step this is: "direct" (a small export sent at once), "requested" (a large
    one handed to a background job) or "downloaded" (a job's file fetched).
    """
    from django.contrib.contenttypes.models import ContentType

    return AuditEvent.objects.create(
        content_type=ContentType.objects.get_for_model(ExportJob),
        object_pk=str(job.pk) if job is not None else "",
        object_id=job.pk if job is not None else None,
        object_repr=title[:200],
        action=AuditEvent.Action.EXPORT,
        actor=actor,
        additional_data={"source": source, "title": title, "parameters": parameters, "format": file_format,
                         "rows": rows, "stage": stage, "job": job.pk if job is not None else None},
    )
