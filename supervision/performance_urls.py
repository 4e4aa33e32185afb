"""Addresses of the performance dashboard, its drill-downs and charts; added to supervision/urls.py (namespace "supervision")."""
from __future__ import annotations

urlpatterns: list = []
