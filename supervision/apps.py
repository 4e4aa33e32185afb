from __future__ import annotations

from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "supervision"
    verbose_name = "Supervision, queues and reminders"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from . import models

        for model in (models.SupervisoryReview, models.Closure):
            auditlog.register(model)
