"""Addresses of the police report and the conference diary, added to conferences/urls.py."""
from __future__ import annotations

from django.urls import path

from . import report_views

urlpatterns = [
    path("conferences/diary/", report_views.diary, name="diary"),
    path("referrals/<str:urn>/meetings/<int:meeting_id>/report/", report_views.report_page, name="report"),
    path("referrals/<str:urn>/meetings/<int:meeting_id>/report/print/", report_views.report_print,
         name="report_print"),
    path("referrals/<str:urn>/meetings/<int:meeting_id>/report/pdf/", report_views.report_pdf, name="report_pdf"),
]
