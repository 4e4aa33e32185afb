"""Catalogue version 1: the default risk factors (risk/catalogue.py), at least eight per section."""
from django.db import migrations
from django.utils import timezone


def create_catalogue(apps, schema_editor):
    from risk.catalogue import DEFAULT_CATALOGUE

    CatalogueVersion = apps.get_model("risk", "CatalogueVersion")
    RiskFactor = apps.get_model("risk", "RiskFactor")
    if CatalogueVersion.objects.exists():
        return
    version = CatalogueVersion.objects.create(number=1, created_at=timezone.now(), note="Default catalogue")
    positions: dict[str, int] = {}
    for code, section, question, help_text, weight, contextual, check in DEFAULT_CATALOGUE:
        positions[section] = positions.get(section, 0) + 1
        RiskFactor.objects.create(version=version, code=code, section=section, position=positions[section],
                                  question=question, help_text=help_text, weight=weight, contextual=contextual,
                                  closing_check=check)


class Migration(migrations.Migration):
    dependencies = [("risk", "0001_initial")]

    operations = [migrations.RunPython(create_catalogue, migrations.RunPython.noop)]
