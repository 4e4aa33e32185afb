"""Access audit: who looked at which record. Changes are audited by django-auditlog itself.

Each call writes inside the request's transaction, so a view that fails leaves no trace and a
view that succeeds cannot go unrecorded.
"""
from __future__ import annotations

from django.db import models

from .models import AuditEvent


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
