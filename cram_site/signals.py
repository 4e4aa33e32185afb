"""Sign-ins and failed sign-ins go into the audit trail (SPEC §3, audit event)."""
from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.contrib.contenttypes.models import ContentType
from django.dispatch import receiver
from django.http import HttpRequest

from .models import AuditEvent, Officer


def _remote_addr(request: HttpRequest | None) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None


@receiver(user_logged_in)
def audit_login(sender: type, request: HttpRequest | None, user: Officer, **kwargs: Any) -> None:
    AuditEvent.objects.create(
        content_type=ContentType.objects.get_for_model(Officer), object_pk=str(user.pk), object_id=user.pk,
        object_repr=user.username, action=AuditEvent.Action.LOGIN, actor=user,
        remote_addr=_remote_addr(request),
    )


@receiver(user_login_failed)
def audit_login_failed(sender: type, credentials: dict[str, Any], request: HttpRequest | None = None,
                       **kwargs: Any) -> None:
    # The password is never stored; only the username that was tried.
    AuditEvent.objects.create(
        content_type=ContentType.objects.get_for_model(Officer), object_pk="",
        object_repr=str(credentials.get("username", ""))[:150], action=AuditEvent.Action.LOGIN_FAILED,
        remote_addr=_remote_addr(request),
    )
