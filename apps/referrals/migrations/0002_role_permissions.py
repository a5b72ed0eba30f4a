"""Supervisors edit the agency directory and manage follow-up assignments in the admin; clinical
supervisors too; admins everything."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "supervisor": {"agency": ("add", "change", "delete", "view"), "followup": ("change", "view")},
    "clinical_supervisor": {"agency": ("add", "change", "delete", "view"), "followup": ("change", "view")},
    "admin": {"agency": ("add", "change", "delete", "view"), "followup": ("change", "view")},
}


def forwards(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, models in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=role)
        codenames = [f"{action}_{model}" for model, actions in models.items() for action in actions]
        group.permissions.add(*Permission.objects.filter(content_type__app_label="referrals", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [("referrals", "0001_agencies_referrals_followups"), ("accounts", "0002_role_groups")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
