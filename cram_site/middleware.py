from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from .audit import audit_refused


class RefusalAuditMiddleware:
    """Record every refused request (not found, not visible, not permitted).

    A refusal is raised inside the request's transaction, which rolls back; this runs after
    that, so the audit event survives it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if not getattr(request, "user", None) or not request.user.is_authenticated:
            return None
        if isinstance(exception, Http404):
            audit_refused(path=request.get_full_path(), reason="not found or not visible to this officer")
        elif isinstance(exception, PermissionDenied):
            audit_refused(path=request.get_full_path(), reason="role does not permit this")
        return None
