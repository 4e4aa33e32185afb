from __future__ import annotations

from django.apps import AppConfig


class ConferencesConfig(AppConfig):
    name = "conferences"
    verbose_name = "Meetings, conferences, medicals and police protection"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from . import models

        for model in (models.Meeting, models.Attendance, models.StrategyRecord, models.AgreedAction,
                      models.PoliceReport, models.MedicalExamination, models.PoliceProtection):
            auditlog.register(model)
