"""Report snapshots are append-only in the database too (PostgreSQL; SQLite relies on the model), like
the signed notes (clinical 0002); supervisors keep the training log in the admin.

TRUNCATE (test-database flushes) is not a row operation and is not affected.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION insights_snapshot_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'report snapshot % is frozen (%): reopen the quarter to make a new version', OLD.id, TG_OP
        USING ERRCODE = '23514';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER insights_reportsnapshot_append_only BEFORE UPDATE OR DELETE ON insights_reportsnapshot
    FOR EACH ROW EXECUTE FUNCTION insights_snapshot_append_only();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS insights_reportsnapshot_append_only ON insights_reportsnapshot;
DROP FUNCTION IF EXISTS insights_snapshot_append_only();
"""

GRANTS = {
    "supervisor": {"trainingrecord": ("add", "change", "delete", "view"), "reportsnapshot": ("view",)},
    "admin": {"trainingrecord": ("add", "change", "delete", "view")},
    "clinical_supervisor": {"trainingrecord": ("view",), "reportsnapshot": ("view",)},
}


def triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # No params: psycopg must not read the '%' of RAISE messages as placeholders.
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(FORWARD)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(BACKWARD)


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, models in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=role)
        codenames = [f"{action}_{model}" for model, actions in models.items() for action in actions]
        group.permissions.add(*Permission.objects.filter(content_type__app_label="insights", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [("insights", "0001_training_rollup_snapshots"), ("accounts", "0002_role_groups")]
    operations = [
        migrations.RunPython(triggers, drop_triggers),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
