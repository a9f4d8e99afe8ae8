"""Care roles are groups created by a migration (T-5)."""

import pytest
from django.contrib.auth.models import Group

from accounts import roles

pytestmark = pytest.mark.django_db


def test_roles_exist_with_their_permissions():
    perms = {
        g.name: set(g.permissions.values_list("codename", flat=True))
        for g in Group.objects.filter(name__in=roles.ALL_ROLES)
    }
    assert set(perms) == set(roles.ALL_ROLES)
    assert "view_organization" in perms[roles.CARE_ANALYST]
    assert "change_organization" not in perms[roles.CARE_ANALYST]
    assert {"change_organization", "change_membership", "add_calendarclosure"} <= perms[
        roles.CARE_MANAGER
    ]
    assert "view_organization" in perms[roles.PRODUCT_MANAGER]
    assert "view_case" not in perms[roles.PRODUCT_MANAGER]
    assert {"view_case", "change_case", "add_caseupdate"} <= perms[roles.CARE_ANALYST]


def test_manager_can_edit_organizations_and_analyst_cannot(client, analyst, manager, org_a):
    from django.urls import reverse

    url = reverse("admin:accounts_organization_change", args=[org_a.pk])
    client.force_login(manager)
    assert "Save" in client.get(url).content.decode()
    client.force_login(analyst)
    page = client.get(url).content.decode()
    assert 'name="_save"' not in page  # view-only


def test_staff_without_role_sees_nothing(client, db):
    from django.urls import reverse

    from tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True))
    url = reverse("admin:accounts_organization_changelist")
    assert client.get(url).status_code == 403
