"""Addresses of exports: a job's progress and its download (namespace "exports")."""
from __future__ import annotations

from django.urls import path

from . import export_views

app_name = "exports"

urlpatterns: list = [
    # Any registered table as CSV or Excel: /exports/download/referrals/xlsx/?show=open
    path("download/<slug:source>/<slug:fmt>/", export_views.download, name="download"),
    # Large exports: the officer's own jobs, each one's progress and its file.
    path("jobs/", export_views.my_exports, name="jobs"),
    path("job/<int:job_id>/", export_views.job_page, name="job"),
    path("job/<int:job_id>/progress/", export_views.job_progress, name="job_progress"),
    path("job/<int:job_id>/file/", export_views.job_file, name="job_file"),
]
