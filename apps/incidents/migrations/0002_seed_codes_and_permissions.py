"""Seed the call-type and disposition mapping tables (DOMAIN.md §3, §4) and let supervisors and
admins edit them in the admin; everyone staff may view incidents there (read-only by design)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

# DOMAIN.md §3 behavioural-health call types. The APCO common code column is left for the agency
# to fill in the admin: DOMAIN.md does not give the mapping, and a guessed code is worse than none.
CALL_TYPES = [
    ("EDP", "Emotional disturbance"),
    ("MNTL", "Mental health, non-violent"),
    ("MTLV", "Mental health, violent"),
    ("SUICIDE", "Suicide"),
    ("SUICTHRT", "Suicide attempt or threat"),
    ("WELFARE", "Welfare check"),
    ("OD", "Overdose"),
    ("INTOX", "Intoxicated person"),
    ("PERUNCON", "Person unconscious"),
    ("TROUBLE", "Trouble, unknown"),
    ("DISORD", "Disorderly"),
    ("TRESPASS", "Trespass"),
    ("BARICADE", "Barricaded person"),
]

# DOMAIN.md §4: program code, label, APCO common disposition code ("" where none is given).
DISPOSITIONS = [
    ("resolved_on_scene", "Resolved on scene", "18"),
    ("resolved_with_referral", "Resolved with referral", "15"),
    ("safety_plan_only", "Safety plan only", ""),
    ("transport_crisis_facility", "Voluntary transport to crisis facility", "16"),
    ("transport_ed", "Voluntary transport to ED", "16"),
    ("ems_transport", "EMS transport", "45"),
    ("ivc_initiated", "Involuntary commitment initiated", ""),
    ("arrest", "Arrest", "03"),
    ("citation", "Citation", "04"),
    ("jail_booking", "Jail booking", ""),
    ("refused_services", "Refused services", "42"),
    ("unable_to_locate", "Unable to locate", "14"),
    ("cancelled", "Cancelled", "21"),
    ("transferred_988", "Transferred to 988 / mobile crisis", "15"),
]

EDITABLE = ("calltype", "dispositioncode")
GRANTS = {
    "supervisor": {
        "calltype": ("add", "change", "delete", "view"),
        "dispositioncode": ("add", "change", "delete", "view"),
        "incident": ("view",),
        "timelineentry": ("view",),
        "assignment": ("view",),
    },
    "admin": {
        "calltype": ("add", "change", "delete", "view"),
        "dispositioncode": ("add", "change", "delete", "view"),
        "incident": ("view",),
        "timelineentry": ("view",),
        "assignment": ("view",),
    },
    "clinical_supervisor": {
        "calltype": ("view",),
        "dispositioncode": ("view",),
        "incident": ("view",),
        "timelineentry": ("view",),
        "assignment": ("view",),
    },
}


def seed(apps, schema_editor):
    CallType = apps.get_model("incidents", "CallType")
    DispositionCode = apps.get_model("incidents", "DispositionCode")
    for code, description in CALL_TYPES:
        CallType.objects.get_or_create(
            local_code=code, defaults={"description": description, "is_behavioral_health": True}
        )
    for code, label, apco in DISPOSITIONS:
        DispositionCode.objects.get_or_create(program_code=code, defaults={"label": label, "apco_code": apco})


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
        group.permissions.add(*Permission.objects.filter(content_type__app_label="incidents", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_incidents_assignments_timeline"), ("accounts", "0002_role_groups")]
    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
