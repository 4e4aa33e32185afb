"""Addresses of supervisory reviews and closures; added to supervision/urls.py (namespace "supervision")."""
from __future__ import annotations

urlpatterns: list = []
