"""Supervisors and admins see sign-in sessions and devices in the admin and may revoke them (lost
phone; issue 8 item 2). The revoke actions need only the view permission: rows are never edited."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "admin": [("security", "usersession", ("view",)), ("realtime", "device", ("view",))],
    "supervisor": [("security", "usersession", ("view",)), ("realtime", "device", ("view",))],
}


def forwards(apps, schema_editor):
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
                content_type__app_label=app_label,
                content_type__model=model,
                codename__in=[f"{action}_{model}" for action in actions],
            )
            group.permissions.add(*perms)


class Migration(migrations.Migration):
    dependencies = [
        ("security", "0005_role_permissions"),
        ("realtime", "0002_devices_receipts_escalations_push"),
        ("accounts", "0002_role_groups"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
