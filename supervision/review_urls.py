"""Addresses of supervisory reviews and closures; added to supervision/urls.py (namespace "supervision")."""
from __future__ import annotations

from django.urls import path

from . import review_views

urlpatterns: list = [
    path("referrals/<str:urn>/supervision/", review_views.case_tab, name="case"),
    path("referrals/<str:urn>/supervision/review/", review_views.review_add, name="review_add"),
    path("referrals/<str:urn>/supervision/close/", review_views.closure_approve, name="close"),
]
