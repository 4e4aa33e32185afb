"""The Celery app. With no CELERY_BROKER_URL the settings make every task run inline."""
from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cram_site.settings")

app = Celery("cram_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
