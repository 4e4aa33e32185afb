"""Addresses of exports: a job's progress and its download (namespace "exports")."""
from __future__ import annotations

app_name = "exports"

urlpatterns: list = []
