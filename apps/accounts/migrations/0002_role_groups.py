"""Create one group per role, and give the admin role the account permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = [
    "dispatcher",
    "clinician",
    "clinical_supervisor",
    "officer",
    "care_navigator",
    "supervisor",
    "analyst",
    "admin",
]
GRANTS = {
    "admin": [
        ("accounts", "user", ("add", "change", "delete", "view")),
        ("accounts", "apikey", ("add", "change", "delete", "view")),
    ],
    "supervisor": [("accounts", "user", ("view",))],
}


def grant(apps, grants):
    # Permissions are normally made after all migrations (post_migrate); make them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, entries in grants.items():
        group, _ = Group.objects.get_or_create(name=role)
        for app_label, model, actions in entries:
            perms = Permission.objects.filter(
                content_type__app_label=app_label,
                codename__in=[f"{action}_{model}" for action in actions],
            )
            group.permissions.add(*perms)


def forwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for role in ROLES:
        Group.objects.get_or_create(name=role)
    grant(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
