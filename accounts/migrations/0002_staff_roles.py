"""Creates the care roles as groups with their permissions (T-5)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

TENANT_ADMIN_MODELS = [
    "organization", "deployment", "membership", "emaildomain", "businesscalendar",
    "calendarclosure", "resellerlink",
]

ROLE_PERMISSIONS = {
    # Analysts work cases; they read tenant set-up but do not change it.
    "CARE_ANALYST": [f"view_{m}" for m in TENANT_ADMIN_MODELS] + ["view_user"],
    # Managers also manage organizations: members and access levels, deployments,
    # calendars and closures, email domains, reseller links.
    "CARE_MANAGER": (
        [f"{a}_{m}" for m in TENANT_ADMIN_MODELS for a in ("view", "add", "change")]
        + [f"delete_{m}" for m in ("deployment", "membership", "emaildomain", "calendarclosure",
                                   "resellerlink")]
        + ["view_user", "add_user", "change_user"]
    ),
    # Product managers see organizations for context on ideas and feature requests.
    "PRODUCT_MANAGER": ["view_organization"],
}


def ensure_permissions(apps):
    # Permissions are normally created after all migrations; create them now so the
    # groups can be given theirs in the same migration.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None


def create_roles(apps, schema_editor):
    ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        perms = Permission.objects.filter(content_type__app_label="accounts", codename__in=codenames)
        missing = set(codenames) - set(perms.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"Permissions missing for {role}: {sorted(missing)}")
        group.permissions.add(*perms)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLE_PERMISSIONS)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
