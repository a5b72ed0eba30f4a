"""Re-encrypt every encrypted clinical column with the newest NOTE_ENCRYPTION_KEYS entry.

Rotation: put the new key first in NOTE_ENCRYPTION_KEYS (keep the old ones after it), restart,
run this command, then remove the old key. Rows are rewritten with a raw UPDATE of the ciphertext
only (no model save: ``updated_at``, revisions and content hashes stay as they were); on PostgreSQL
the transaction sets ``clinical.rotating_keys`` so the signed-note trigger lets ciphertext change.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from apps.core.crypto import EncryptedJSONField, EncryptedTextField, rotate_token, token_is_current


def encrypted_columns() -> list[tuple[str, str, list[str]]]:
    """(table, primary key column, [encrypted columns]) for every model with encrypted fields."""
    found = []
    for model in apps.get_models():
        cols = [
            str(f.column) for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField | EncryptedJSONField)
        ]
        pk = model._meta.pk
        if cols and pk is not None:
            found.append((model._meta.db_table, str(pk.column), cols))
    return sorted(found)


def rotate_all(*, batch_size: int = 500) -> dict[str, int]:
    """Re-encrypt in primary-key order, one transaction per batch (keyset pagination: memory and
    lock time stay bounded however large the table). Safe to re-run: current tokens are skipped."""
    counts: dict[str, int] = {}
    qn = connection.ops.quote_name
    for table, pk, cols in encrypted_columns():
        rotated = 0
        last: Any = None
        while True:
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT set_config('clinical.rotating_keys', 'on', true)")
                where = f"WHERE {qn(pk)} > %s " if last is not None else ""
                sql = (
                    f"SELECT {qn(pk)}, {', '.join(qn(c) for c in cols)} FROM {qn(table)} "  # noqa: S608 - identifiers from model metadata
                    f"{where}ORDER BY {qn(pk)} LIMIT %s"
                )
                with connection.cursor() as cursor:
                    cursor.execute(sql, [last, batch_size] if last is not None else [batch_size])
                    rows = cursor.fetchall()
                for row in rows:
                    changes: dict[str, str] = {}
                    for col, token in zip(cols, row[1:], strict=True):
                        if token is not None and not token_is_current(str(token)):
                            changes[col] = rotate_token(str(token))
                    if changes:
                        assignments = ", ".join(f"{qn(c)} = %s" for c in changes)
                        with connection.cursor() as cursor:
                            cursor.execute(
                                f"UPDATE {qn(table)} SET {assignments} WHERE {qn(pk)} = %s",  # noqa: S608
                                [*changes.values(), row[0]],
                            )
                        rotated += 1
            if len(rows) < batch_size:
                break
            last = rows[-1][0]
        counts[table] = rotated
    return counts


class Command(BaseCommand):
    help = "Re-encrypt clinical fields with the newest NOTE_ENCRYPTION_KEYS key (run after adding a key)."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = rotate_all()
        for table, n in counts.items():
            self.stdout.write(f"{table}: {n} row(s) re-encrypted")
        self.stdout.write(self.style.SUCCESS(f"Done: {sum(counts.values())} row(s) re-encrypted."))
