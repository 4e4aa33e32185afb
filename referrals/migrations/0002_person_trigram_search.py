"""Spelling-tolerant name search on PostgreSQL: the pg_trgm extension and GIN trigram indexes.

SQLite, the embedded default, has neither; the search falls back to a simpler match there.
"""
from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # Possible matches as a surname is typed, and the search page's name search.
    "CREATE INDEX IF NOT EXISTS person_last_name_trgm ON referrals_person USING gin (last_name gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS person_first_name_trgm ON referrals_person USING gin (first_name gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS person_first_name_trgm",
    "DROP INDEX IF EXISTS person_last_name_trgm",
]


def _run(statements: list[str]):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("referrals", "0001_initial")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
