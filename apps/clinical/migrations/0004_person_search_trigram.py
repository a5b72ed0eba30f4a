"""On PostgreSQL: pg_trgm and a GIN trigram index on Person.search_name for typo-tolerant search.

pg_trgm is a trusted extension (PostgreSQL 13+), so a database owner may create it. If it cannot be
created (no privilege), the migration logs and continues: person search then falls back to its
portable candidate filter (apps/clinical/selectors.py).
"""

import logging

from django.db import DatabaseError, migrations, transaction

log = logging.getLogger(__name__)


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias), schema_editor.connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            cursor.execute(
                "CREATE INDEX IF NOT EXISTS clinical_person_search_trgm "
                "ON clinical_person USING gin (search_name gin_trgm_ops)"
            )
    except DatabaseError as exc:
        log.warning("pg_trgm unavailable (%s); person search uses its portable fallback", exc)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("DROP INDEX IF EXISTS clinical_person_search_trgm")


class Migration(migrations.Migration):
    dependencies = [("clinical", "0003_encounter_incident")]

    operations = [migrations.RunPython(forward, backward)]
