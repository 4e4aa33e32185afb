"""Celery tasks: thin wrappers that read the clock once and call the plain functions."""
from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from .sweep import digest_send, sweep


@shared_task(name="supervision.sweep_reminders", acks_late=True)
def sweep_reminders_task() -> dict[str, int]:
    result = sweep(now=timezone.now())
    return vars(result)


@shared_task(name="supervision.send_digests", acks_late=True)
def send_digests_task() -> int:
    return digest_send(now=timezone.now())
