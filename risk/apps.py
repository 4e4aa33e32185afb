from __future__ import annotations

from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "risk"
    verbose_name = "CRAM risk assessment"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from . import models

        for model in (models.Assessment, models.Answer, models.ControlMeasure, models.PlannedAction,
                      models.SystemsCheck, models.SignOff, models.RiskFactor, models.CatalogueVersion):
            auditlog.register(model)
