from __future__ import annotations

from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = "Referrals and case log"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from . import models

        # Every change to a child's record is audited in the transaction that makes it.
        for model in (models.Referral, models.Person, models.Household, models.ReferralPerson,
                      models.CaseLogEntry, models.Action, models.DisclosureRequest):
            auditlog.register(model)
