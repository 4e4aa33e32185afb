"""Addresses of the auditor's search of the audit trail (namespace "audit")."""
from __future__ import annotations

from django.urls import path

from . import audit_views

app_name = "audit"

urlpatterns: list = [
    # The auditor's screen: events by officer, record, action and time range (perm cram_site.search_audit).
    path("", audit_views.audit_search, name="search"),
]
