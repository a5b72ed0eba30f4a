"""On PostgreSQL the security audit is append-only: no UPDATE (except the user link going to NULL when a
user row is deleted; the username stays), and no DELETE of an event younger than 365 days (the purge
only removes older ones). SQLite relies on the admin and the service layer."""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION security_event_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.created_at > now() - interval '365 days' THEN
            RAISE EXCEPTION 'security event % is kept at least 365 days', OLD.id USING ERRCODE = '23514';
        END IF;
        RETURN OLD;
    END IF;
    IF NEW.user_id IS NULL AND
       (NEW.id, NEW.created_at, NEW.kind, NEW.username, NEW.ip, NEW.user_agent, NEW.path, NEW.details::text)
       IS NOT DISTINCT FROM
       (OLD.id, OLD.created_at, OLD.kind, OLD.username, OLD.ip, OLD.user_agent, OLD.path, OLD.details::text) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'security events are append-only' USING ERRCODE = '23514';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER security_event_guard BEFORE UPDATE OR DELETE ON security_securityevent
    FOR EACH ROW EXECUTE FUNCTION security_event_guard();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS security_event_guard ON security_securityevent;
DROP FUNCTION IF EXISTS security_event_guard();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("security", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
