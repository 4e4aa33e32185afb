"""Addresses of the auditor's search of the audit trail (namespace "audit")."""
from __future__ import annotations

app_name = "audit"

urlpatterns: list = []
