"""Lets the care roles read the history of organization changes in the care workspace."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {
    "CARE_ANALYST": ["view_organizationchange"],
    "CARE_MANAGER": ["view_organizationchange"],
}


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        perms = list(
            Permission.objects.filter(content_type__app_label="accounts", codename__in=codenames)
        )
        if len(perms) != len(set(codenames)):
            raise RuntimeError(f"Missing organization history permissions for {role}")
        group.permissions.add(*perms)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = Permission.objects.filter(
        content_type__app_label="accounts", codename="view_organizationchange"
    )
    for group in Group.objects.filter(name__in=list(ROLE_PERMISSIONS)):
        group.permissions.remove(*perms)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_organization_change")]
    operations = [migrations.RunPython(grant, revoke)]
