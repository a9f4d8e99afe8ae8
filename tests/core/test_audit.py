"""The staff access audit log (T-5): one row per staff look at tenant data, never changed,
readable by care managers only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import roles
from core.audit.models import AuditLogEntry
from core.audit.services import audit_staff_access
from tests.cases import make_case
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def request_of(user, path="/admin/cases/case/7/change/?tab=feed"):
    request = RequestFactory().get(path)
    request.user = user
    return request


def test_a_staff_view_of_a_case_writes_who_when_what_and_where(analyst, org_a, dc_a):
    case = make_case(org_a, dc_a)
    request = request_of(analyst)

    with CaptureQueriesContext(connection) as ctx:
        entry = audit_staff_access(request, case)

    # Cheap: one INSERT, nothing looked up.
    assert len(ctx.captured_queries) == 1
    assert ctx.captured_queries[0]["sql"].startswith("INSERT")
    entry = AuditLogEntry.objects.get(pk=entry.pk)
    assert (entry.actor_id, entry.action, entry.model, entry.object_id) == (
        analyst.pk,
        "view",
        "cases.case",
        str(case.pk),
    )
    assert (entry.object_repr, entry.organization_id, entry.path) == (
        case.display_number,
        org_a.pk,
        "/admin/cases/case/7/change/?tab=feed",
    )
    assert entry.created_at is not None


def test_a_list_is_recorded_by_label_with_its_filters(analyst):
    request = request_of(analyst, "/admin/cases/case/?queue=open&organization=3")

    entry = audit_staff_access(request, "cases.case")

    assert (entry.action, entry.model, entry.object_id, entry.organization_id) == (
        "list",
        "cases.case",
        "",
        None,
    )
    assert entry.path == "/admin/cases/case/?queue=open&organization=3"


def test_an_organization_is_its_own_organization(manager, org_a):
    entry = audit_staff_access(request_of(manager), org_a)

    assert (entry.model, entry.organization_id, entry.object_repr) == (
        "accounts.organization",
        org_a.pk,
        "Org A",
    )


def test_a_download_is_recorded_as_such(analyst, org_a, dc_a):
    case = make_case(org_a, dc_a)

    entry = audit_staff_access(request_of(analyst), case, action="download")

    assert entry.action == "download"


def test_customers_are_not_recorded(dc_a, org_a):
    # Their access is limited by tenancy; the log is about staff (T-5).
    assert audit_staff_access(request_of(dc_a), org_a) is None
    assert not AuditLogEntry.objects.exists()


def test_the_same_thing_is_recorded_once_per_request(analyst, org_a, org_b):
    request = request_of(analyst)

    audit_staff_access(request, org_a)
    audit_staff_access(request, org_a)
    audit_staff_access(request, org_b)

    assert AuditLogEntry.objects.count() == 2


def test_a_very_long_path_is_cut_not_refused(analyst):
    request = request_of(analyst, "/admin/cases/case/?q=" + "x" * 5000)

    entry = audit_staff_access(request, "cases.case")

    assert len(entry.path) == 2000


def test_entries_are_append_only(analyst, org_a):
    entry = audit_staff_access(request_of(analyst), org_a)

    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()


# --- the audit log page: view-only, managers only ----------------------------------------

LOG = reverse("admin:core_auditlogentry_changelist")


def test_the_manager_role_may_read_the_log_and_no_other_role():
    perms = {
        g.name: set(g.permissions.values_list("codename", flat=True))
        for g in Group.objects.filter(name__in=roles.ALL_ROLES)
    }

    assert "view_auditlogentry" in perms[roles.CARE_MANAGER]
    assert "view_auditlogentry" not in perms[roles.CARE_ANALYST]
    assert "view_auditlogentry" not in perms[roles.PRODUCT_MANAGER]
    assert (
        not {"add_auditlogentry", "change_auditlogentry", "delete_auditlogentry"}
        & (perms[roles.CARE_MANAGER])
    )


def test_manager_reads_the_log_and_reading_it_is_not_itself_logged(client, manager, analyst):
    audit_staff_access(request_of(analyst), "cases.case")
    client.force_login(manager)

    response = client.get(LOG)

    assert response.status_code == 200
    assert [e.actor_id for e in response.context["cl"].result_list] == [analyst.pk]
    assert AuditLogEntry.objects.count() == 1
    entry = AuditLogEntry.objects.get()
    detail = client.get(reverse("admin:core_auditlogentry_change", args=[entry.pk]))
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()


@pytest.mark.parametrize("role", ["analyst", "product_manager"])
def test_other_roles_cannot_read_the_log(request, client, role):
    client.force_login(request.getfixturevalue(role))

    assert client.get(LOG).status_code == 403


def test_nobody_changes_or_deletes_an_entry(client, manager, analyst):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    entry = audit_staff_access(request_of(analyst), "cases.case")

    for user in (manager, superuser):
        client.force_login(user)
        change = reverse("admin:core_auditlogentry_change", args=[entry.pk])
        assert client.post(change, {"path": "/elsewhere"}).status_code == 403
        delete = reverse("admin:core_auditlogentry_delete", args=[entry.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
        assert client.get(reverse("admin:core_auditlogentry_add")).status_code == 403

    assert AuditLogEntry.objects.get().path == entry.path
