"""Addresses of the legacy referral-log import; added to referrals/urls.py (namespace "referrals").

Under imports/, not referrals/<urn>/, whose pattern would catch them.
"""
from __future__ import annotations

from django.urls import path

from . import import_views

urlpatterns = [
    path("imports/", import_views.import_page, name="import"),
    path("imports/<int:run_id>/", import_views.import_run_page, name="import_run"),
    path("imports/<int:run_id>/progress/", import_views.import_run_progress, name="import_run_progress"),
    path("imports/<int:run_id>/rejections.csv", import_views.import_run_report, name="import_run_report"),
    path("imports/<int:run_id>/import/", import_views.import_run_again, name="import_run_again"),
]
