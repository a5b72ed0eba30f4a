"""On PostgreSQL the record of replies is append-only (no UPDATE except links going to NULL when a
user or a notification row is deleted; no DELETE). Supervisors and the admin role manage phone numbers
and read the telephone stages and replies in the admin."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION notifications_inbound_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'replies are append-only' USING ERRCODE = '23514';
    END IF;
    IF (NEW.user_id IS NULL OR NEW.user_id IS NOT DISTINCT FROM OLD.user_id)
       AND (NEW.notification_id IS NULL OR NEW.notification_id IS NOT DISTINCT FROM OLD.notification_id)
       AND (NEW.id, NEW.received_at, NEW.channel, NEW.dedupe_key, NEW.from_number, NEW.subject, NEW.command,
            NEW.outcome, NEW.detail, NEW.answer)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.received_at, OLD.channel, OLD.dedupe_key, OLD.from_number, OLD.subject, OLD.command,
            OLD.outcome, OLD.detail, OLD.answer) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'replies are append-only' USING ERRCODE = '23514';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER notifications_inbound_guard BEFORE UPDATE OR DELETE ON notifications_inbound
    FOR EACH ROW EXECUTE FUNCTION notifications_inbound_guard();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS notifications_inbound_guard ON notifications_inbound;
DROP FUNCTION IF EXISTS notifications_inbound_guard();
"""

GRANTS = {
    role: [
        ("notifications", "phonenumber", ("view", "add", "change", "delete")),
        ("notifications", "notification", ("view",)),
        ("notifications", "inbound", ("view",)),
    ]
    for role in ("supervisor", "admin")
}


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(FORWARD)
    # Permissions are normally made after all migrations (post_migrate); make them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, entries in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for app_label, model, actions in entries:
            perms = Permission.objects.filter(
                content_type__app_label=app_label, codename__in=[f"{action}_{model}" for action in actions]
            )
            group.permissions.add(*perms)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_phones_stages_replies"), ("accounts", "0002_role_groups")]
    operations = [migrations.RunPython(forward, backward)]
