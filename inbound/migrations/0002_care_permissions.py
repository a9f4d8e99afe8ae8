"""Care reads received email in the care workspace; managers may also download a raw
message (N-3). Nobody adds, changes or deletes them there."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {
    "CARE_ANALYST": ["view_inboundmessage"],
    "CARE_MANAGER": ["view_inboundmessage", "download_raw_inboundmessage"],
}


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations; create them now so the
    # roles can be given theirs in the same migration.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        perms = list(
            Permission.objects.filter(content_type__app_label="inbound", codename__in=codenames)
        )
        if len(perms) != len(codenames):
            raise RuntimeError(f"Missing inbound email permissions for {role}")
        group.permissions.add(*perms)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = Permission.objects.filter(content_type__app_label="inbound")
    for group in Group.objects.filter(name__in=list(ROLE_PERMISSIONS)):
        group.permissions.remove(*perms)


class Migration(migrations.Migration):
    dependencies = [("inbound", "0001_inbound_message"), ("accounts", "0002_staff_roles")]
    operations = [migrations.RunPython(grant, revoke)]
