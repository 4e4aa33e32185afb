"""Celery tasks of cram_site: thin wrappers that read the clock once and call the plain functions."""
from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from .exports import export_job_run, export_jobs_tidy


@shared_task(name="cram_site.run_export", acks_late=True)
def run_export_task(job_id: int) -> str:
    return export_job_run(job_id=job_id, now=timezone.now())


@shared_task(name="cram_site.tidy_exports", acks_late=True)
def tidy_exports_task() -> dict[str, int]:
    return vars(export_jobs_tidy(now=timezone.now()))
