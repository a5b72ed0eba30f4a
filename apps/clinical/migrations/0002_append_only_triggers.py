"""Database-enforced integrity on PostgreSQL (SQLite relies on the service layer):

- a signed note is never updated or deleted; the only change allowed is a first co-signature, and
  re-encryption of its ciphertext columns by ``rotate_note_keys`` (which sets the transaction-local
  flag ``clinical.rotating_keys``; the content hash, checked on read, still covers the plaintext);
- addenda, C-SSRS screens and the access log are append-only (addendum text may only be
  re-encrypted by the rotation, under the same flag).

TRUNCATE (test-database flushes) is not a row operation and is not affected.
"""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION clinical_note_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status = 'signed' THEN
            RAISE EXCEPTION 'signed clinical note % cannot be deleted', OLD.id USING ERRCODE = '23514';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status <> 'signed' THEN
        RETURN NEW;
    END IF;
    IF (NEW.id, NEW.encounter_id, NEW.format, NEW.status, NEW.revision, NEW.author_id, NEW.created_at,
        NEW.updated_at, NEW.signed_by_id, NEW.signed_at, NEW.content_hash, NEW.safety_precautions)
       IS DISTINCT FROM
       (OLD.id, OLD.encounter_id, OLD.format, OLD.status, OLD.revision, OLD.author_id, OLD.created_at,
        OLD.updated_at, OLD.signed_by_id, OLD.signed_at, OLD.content_hash, OLD.safety_precautions) THEN
        RAISE EXCEPTION 'signed clinical note % cannot be changed (add an addendum)', OLD.id USING ERRCODE = '23514';
    END IF;
    IF OLD.cosigned_at IS NOT NULL
       AND (NEW.cosigned_at, NEW.cosigned_by_id) IS DISTINCT FROM (OLD.cosigned_at, OLD.cosigned_by_id) THEN
        RAISE EXCEPTION 'co-signature of note % cannot be changed', OLD.id USING ERRCODE = '23514';
    END IF;
    IF (NEW.sections, NEW.diagnoses, NEW.medications, NEW.substance_use)
       IS DISTINCT FROM (OLD.sections, OLD.diagnoses, OLD.medications, OLD.substance_use)
       AND coalesce(current_setting('clinical.rotating_keys', true), '') <> 'on' THEN
        RAISE EXCEPTION 'signed clinical note % cannot be changed (add an addendum)', OLD.id USING ERRCODE = '23514';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER clinical_note_guard BEFORE UPDATE OR DELETE ON clinical_clinicalnote
    FOR EACH ROW EXECUTE FUNCTION clinical_note_guard();

CREATE OR REPLACE FUNCTION clinical_addendum_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND coalesce(current_setting('clinical.rotating_keys', true), '') = 'on'
       AND (NEW.id, NEW.note_id, NEW.kind, NEW.reason, NEW.author_id, NEW.created_at)
           IS NOT DISTINCT FROM (OLD.id, OLD.note_id, OLD.kind, OLD.reason, OLD.author_id, OLD.created_at) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'addenda are append-only (%)', TG_OP USING ERRCODE = '23514';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER clinical_addendum_guard BEFORE UPDATE OR DELETE ON clinical_addendum
    FOR EACH ROW EXECUTE FUNCTION clinical_addendum_guard();

CREATE OR REPLACE FUNCTION clinical_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (%)', TG_TABLE_NAME, TG_OP USING ERRCODE = '23514';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER clinical_accesslog_append_only BEFORE UPDATE OR DELETE ON clinical_accesslog
    FOR EACH ROW EXECUTE FUNCTION clinical_append_only();
CREATE TRIGGER clinical_cssrsscreen_append_only BEFORE UPDATE OR DELETE ON clinical_cssrsscreen
    FOR EACH ROW EXECUTE FUNCTION clinical_append_only();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS clinical_cssrsscreen_append_only ON clinical_cssrsscreen;
DROP TRIGGER IF EXISTS clinical_accesslog_append_only ON clinical_accesslog;
DROP FUNCTION IF EXISTS clinical_append_only();
DROP TRIGGER IF EXISTS clinical_addendum_guard ON clinical_addendum;
DROP FUNCTION IF EXISTS clinical_addendum_guard();
DROP TRIGGER IF EXISTS clinical_note_guard ON clinical_clinicalnote;
DROP FUNCTION IF EXISTS clinical_note_guard();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # No params: psycopg must not read the '%' of RAISE messages as placeholders.
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("clinical", "0001_persons_encounters_notes")]

    operations = [migrations.RunPython(forward, backward)]
