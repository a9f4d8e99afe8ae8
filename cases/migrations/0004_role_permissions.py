"""Gives the care roles their permissions on cases (T-5)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CASE_WORK = [
    "view_case", "change_case", "view_caseupdate", "add_caseupdate", "view_attachment",
    "view_caseevent", "view_cloudservice", "view_productgroup",
]
ROLE_PERMISSIONS = {
    "CARE_ANALYST": CASE_WORK,
    "CARE_MANAGER": CASE_WORK + ["change_cloudservice", "add_cloudservice",
                                 "change_productgroup", "add_productgroup"],
    "PRODUCT_MANAGER": ["view_cloudservice", "view_productgroup"],
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
        perms = list(Permission.objects.filter(content_type__app_label="cases",
                                               codename__in=codenames))
        if len(perms) != len(set(codenames)):
            raise RuntimeError(f"Missing case permissions for {role}")
        group.permissions.add(*perms)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = Permission.objects.filter(content_type__app_label="cases")
    for group in Group.objects.filter(name__in=list(ROLE_PERMISSIONS)):
        group.permissions.remove(*perms)


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_numbers_and_search_index"), ("accounts", "0002_staff_roles")]
    operations = [migrations.RunPython(grant, revoke)]
