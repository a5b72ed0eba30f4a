"""Supervisors and admins manage shifts in the admin; clinical supervisors may look."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MODELS = ("shift", "shiftmember")
GRANTS = {
    "supervisor": ("add", "change", "delete", "view"),
    "admin": ("add", "change", "delete", "view"),
    "clinical_supervisor": ("view",),
}


def forwards(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, actions in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=role)
        codenames = [f"{action}_{model}" for model in MODELS for action in actions]
        group.permissions.add(*Permission.objects.filter(content_type__app_label="shifts", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [("shifts", "0001_initial"), ("accounts", "0002_role_groups")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
