"""Each role of SPEC §2 is a group of the same name."""
from django.db import migrations

ROLES = ["desk_sergeant", "investigator", "supervisor", "pclo", "researcher", "performance", "auditor",
         "administrator"]


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("cram_site", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
