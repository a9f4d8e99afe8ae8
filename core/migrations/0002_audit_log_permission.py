"""Care managers read the staff access audit log; nobody changes it (T-5)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE = "CARE_MANAGER"
CODENAME = "view_auditlogentry"


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations; create them now so the
    # role can be given its permission in the same migration.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=ROLE)
    group.permissions.add(
        Permission.objects.get(content_type__app_label="core", codename=CODENAME)
    )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = Permission.objects.filter(content_type__app_label="core", codename=CODENAME)
    for group in Group.objects.filter(name=ROLE):
        group.permissions.remove(*perms)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_outbox_and_audit_log"), ("accounts", "0002_staff_roles")]
    operations = [migrations.RunPython(grant, revoke)]
