"""Addresses of the information management (MoPI) review queue and reviews; added to supervision/urls.py (namespace "supervision")."""
from __future__ import annotations

from django.urls import path

from . import mopi_views

urlpatterns: list = [
    # The queue of records due for review, and those approved for disposal (?show=disposal).
    path("retention/", mopi_views.retention_queue, name="retention_queue"),
    # The count beside the link on the supervisor's home, fetched by htmx.
    path("retention/badge/", mopi_views.retention_badge, name="retention_badge"),
    # The review of one closed referral: retain or dispose, with the history of its reviews.
    path("referrals/<str:urn>/retention/", mopi_views.retention_review, name="retention_review"),
]
