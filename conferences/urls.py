from __future__ import annotations

from django.urls import path

from . import report_urls, views

app_name = "conferences"

urlpatterns = [
    path("referrals/<str:urn>/meetings/", views.meetings_tab, name="meetings"),
    path("referrals/<str:urn>/meetings/<int:meeting_id>/", views.meeting_page, name="meeting"),
    path("referrals/<str:urn>/meetings/<int:meeting_id>/attendance/", views.attendance_add, name="attendance_add"),
    path("referrals/<str:urn>/meetings/<int:meeting_id>/held/", views.meeting_hold, name="hold"),
    path("referrals/<str:urn>/meetings/<int:meeting_id>/cancel/", views.meeting_cancel, name="cancel"),
    path("referrals/<str:urn>/meetings/<int:meeting_id>/minutes/", views.minutes_record, name="minutes"),
    path("referrals/<str:urn>/meetings/<int:meeting_id>/strategy-record/", views.strategy_record_save,
         name="strategy_record"),
    path("referrals/<str:urn>/meetings/<int:meeting_id>/strategy-record/countersign/",
         views.strategy_record_countersign, name="countersign"),
    path("referrals/<str:urn>/medicals/", views.medicals_tab, name="medicals"),
    path("referrals/<str:urn>/medicals/examinations/new/", views.medical_add, name="medical_add"),
    path("referrals/<str:urn>/medicals/protection/new/", views.protection_start, name="protection_start"),
    path("referrals/<str:urn>/medicals/protection/<int:protection_id>/end/", views.protection_end,
         name="protection_end"),
    path("conferences/medicals-without-police/", views.medicals_without_police, name="medicals_without_police"),
    path("conferences/flagged-meetings/", views.flagged_meetings, name="flagged_meetings"),
]

# The police report and the conference diary live in report_urls.py, under this app's namespace.
urlpatterns += report_urls.urlpatterns
