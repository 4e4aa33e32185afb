"""Every existing team gets a row per clock at the defaults of SPEC §5."""
from django.db import migrations


def create_rows(apps, schema_editor):
    from cram_site.models import DEFAULT_TIMESCALES

    Team = apps.get_model("cram_site", "Team")
    Timescale = apps.get_model("cram_site", "Timescale")
    for team in Team.objects.all():
        Timescale.objects.bulk_create(
            [Timescale(team=team, clock=clock, amount=amount, unit=unit)
             for clock, (amount, unit) in DEFAULT_TIMESCALES.items()],
            ignore_conflicts=True,
        )


class Migration(migrations.Migration):
    dependencies = [("cram_site", "0003_timescale")]

    operations = [migrations.RunPython(create_rows, migrations.RunPython.noop)]
