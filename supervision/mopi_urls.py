"""Addresses of the information management (MoPI) review queue and reviews; added to supervision/urls.py (namespace "supervision")."""
from __future__ import annotations

urlpatterns: list = []
