"""Default MoPI retention periods for the teams that exist, and a first review date for the referrals
closed before reviews were recorded, so that no closed record is left out of the review queue.

Teams created later need no rows: the lookup falls back to DEFAULT_RETENTION_YEARS, and an
administrator adds a row to change a period.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from django.db import migrations

# The MoPI defaults as they stood when this migration was written (supervision.models.DEFAULT_RETENTION_YEARS).
DEFAULTS = {"sexual": 10, "physical": 10, "neglect": 10, "emotional": 6, "other": 6}
LONDON = ZoneInfo("Europe/London")
BATCH = 2000


def _review_date(closed_at: dt.datetime, years: int) -> dt.date:
    return closed_at.astimezone(LONDON).date() + relativedelta(years=years)


def forwards(apps, schema_editor) -> None:
    team_model = apps.get_model("cram_site", "Team")
    period_model = apps.get_model("supervision", "RetentionPeriod")
    referral_model = apps.get_model("referrals", "Referral")
    period_model.objects.bulk_create(
        [period_model(team_id=team_id, allegation_category=category, review_after_years=years)
         for team_id in team_model.objects.values_list("pk", flat=True) for category, years in DEFAULTS.items()],
        ignore_conflicts=True)
    periods = {(row.team_id, row.allegation_category): row.review_after_years for row in period_model.objects.all()}
    closed = (referral_model.objects.filter(status="closed", closed_at__isnull=False, mopi_review_due_on__isnull=True)
              .only("pk", "team_id", "allegation_category", "closed_at"))
    last_pk = 0
    while True:
        # By primary key in batches: writing to the table being read is safe on SQLite too.
        batch = list(closed.filter(pk__gt=last_pk).order_by("pk")[:BATCH])
        if not batch:
            return
        for referral in batch:
            years = periods.get((referral.team_id, referral.allegation_category),
                                DEFAULTS.get(referral.allegation_category, DEFAULTS["other"]))
            referral.mopi_review_due_on = _review_date(referral.closed_at, years)
        referral_model.objects.bulk_update(batch, ["mopi_review_due_on"])
        last_pk = batch[-1].pk


class Migration(migrations.Migration):

    dependencies = [
        ("supervision", "0002_retention_and_mopi_reviews"),
        ("referrals", "0007_investigation_outcomes_imports_mopi"),
        ("cram_site", "0007_export_jobs_audit_indexes"),
    ]

    # The review dates are kept on the way back; the default rows are harmless there too.
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
