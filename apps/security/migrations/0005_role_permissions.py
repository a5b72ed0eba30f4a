"""The admin role may read the security audit and see and lift lockouts (issue 8 items 3 and 7)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "admin": [
        ("security", "securityevent", ("view",)),
        ("security", "lockout", ("view", "change")),
    ],
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
                codename__in=[f"{action}_{model}" for action in actions],
            )
            group.permissions.add(*perms)


class Migration(migrations.Migration):
    dependencies = [("security", "0004_lockout"), ("accounts", "0002_role_groups")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
