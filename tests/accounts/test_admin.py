"""The care workspace for tenants (T-2, T-4, T-5, T-7, T-8, T-9, B-1): managers manage
organizations, analysts and product managers read them, every look is audited, and nobody
but a superuser hands out staff rights."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts import roles
from accounts.models import (
    AccessLevel,
    BusinessCalendar,
    CalendarClosure,
    Deployment,
    EmailDomain,
    Membership,
    Organization,
    OrganizationChange,
    SupportLevel,
)
from core.audit.models import AuditLogEntry
from core.tenancy import scopes_disabled
from tests.factories import BusinessCalendarFactory, UserFactory, member_of, open_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db):
    return UserFactory(email="root@care.example", is_staff=True, is_superuser=True)


@pytest.fixture
def no_role(db):
    return UserFactory(email="norole@care.example", is_staff=True)


@pytest.fixture
def calendar_a(org_a):
    return BusinessCalendarFactory(organization=org_a)


def org_url(org: Organization) -> str:
    return reverse("admin:accounts_organization_change", args=[org.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def form_data(response) -> dict:
    """What the browser would send back from a rendered admin change page, unchanged."""
    data: dict = {}

    def put(form, name):
        value = form[name].value()
        if value is None or value is False:
            return
        if value is True:
            value = "on"
        data[form.add_prefix(name)] = value

    form = response.context["adminform"].form
    for name in form.fields:
        put(form, name)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        for inline_form in formset.forms:
            for name in inline_form.fields:
                put(inline_form, name)
    return data


# --- T-5: each role's access to each page ------------------------------------------------

PAGES = {
    "organizations": lambda o, c: reverse("admin:accounts_organization_changelist"),
    "organization": lambda o, c: org_url(o),
    "calendar": lambda o, c: reverse("admin:accounts_businesscalendar_change", args=[c.pk]),
    "users": lambda o, c: reverse("admin:accounts_user_changelist"),
    "audit": lambda o, c: reverse("admin:core_auditlogentry_changelist"),
}
EXPECTED = {
    "analyst": {"organizations": 200, "organization": 200, "calendar": 200, "users": 200,
                "audit": 403},
    "manager": {"organizations": 200, "organization": 200, "calendar": 200, "users": 200,
                "audit": 200},
    "superuser": {"organizations": 200, "organization": 200, "calendar": 200, "users": 200,
                  "audit": 200},
    "product_manager": {"organizations": 200, "organization": 200, "calendar": 403,
                        "users": 403, "audit": 403},
    "no_role": {"organizations": 403, "organization": 403, "calendar": 403, "users": 403,
                "audit": 403},
}  # fmt: skip


@pytest.mark.parametrize("role", list(EXPECTED))
@pytest.mark.parametrize("page", list(PAGES))
def test_each_role_reaches_exactly_its_tenant_pages(request, client, org_a, calendar_a, role, page):
    # DOMAIN T-5
    client.force_login(request.getfixturevalue(role))

    response = client.get(PAGES[page](org_a, calendar_a))

    assert response.status_code == EXPECTED[role][page]


@pytest.mark.parametrize("role", ["analyst", "product_manager"])
def test_readers_cannot_save_an_organization(request, client, manager, org_a, dc_a, role):
    # DOMAIN T-5: only managers manage organizations.
    client.force_login(manager)
    data = form_data(client.get(org_url(org_a)))
    data["name"] = "Renamed"
    client.force_login(request.getfixturevalue(role))

    response = client.post(org_url(org_a), data)

    assert response.status_code == 403
    assert Organization.objects.get(pk=org_a.pk).name == "Org A"


# --- managers manage organizations -------------------------------------------------------


def test_manager_adds_a_member_with_an_access_level(client, manager, org_a, dc_a):
    # DOMAIN T-4
    newcomer = UserFactory(email="new@org-a.example")
    client.force_login(manager)
    data = form_data(client.get(org_url(org_a)))
    data["memberships-TOTAL_FORMS"] = int(data["memberships-TOTAL_FORMS"]) + 1
    index = data["memberships-TOTAL_FORMS"] - 1
    data[f"memberships-{index}-user"] = newcomer.pk
    data[f"memberships-{index}-access_level"] = AccessLevel.READ_ONLY

    response = client.post(org_url(org_a), data)

    assert response.status_code == 302, response.context["errors"]
    with scopes_disabled():
        membership = Membership.objects.get(user=newcomer)
    assert (membership.organization_id, membership.access_level) == (org_a.pk, "READ_ONLY")


def test_manager_changes_an_access_level(client, manager, org_a, dc_a, ro_a):
    # DOMAIN T-4
    client.force_login(manager)
    data = form_data(client.get(org_url(org_a)))
    index = next(k.split("-")[1] for k, v in data.items() if k.endswith("-user") and v == ro_a.pk)
    data[f"memberships-{index}-access_level"] = AccessLevel.DESIGNATED_CONTACT

    client.post(org_url(org_a), data)

    with scopes_disabled():
        assert Membership.objects.get(user=ro_a).access_level == "DESIGNATED_CONTACT"


def test_staff_cannot_become_a_member(client, manager, analyst, org_a, dc_a):
    # DOMAIN T-5: care staff are not members of organizations.
    client.force_login(manager)
    data = form_data(client.get(org_url(org_a)))
    index = int(data["memberships-TOTAL_FORMS"])
    data["memberships-TOTAL_FORMS"] = index + 1
    data[f"memberships-{index}-user"] = analyst.pk
    data[f"memberships-{index}-access_level"] = AccessLevel.BASIC

    response = client.post(org_url(org_a), data)

    assert response.status_code == 200
    assert "Care staff are not members of organizations" in response.content.decode()
    with scopes_disabled():
        assert not Membership.objects.filter(user=analyst).exists()


def test_manager_adds_a_deployment_and_an_email_domain(client, manager, org_a):
    # DOMAIN T-2, T-9
    client.force_login(manager)
    data = form_data(client.get(org_url(org_a)))
    d = int(data["deployments-TOTAL_FORMS"])
    data.update(
        {
            "deployments-TOTAL_FORMS": d + 1,
            f"deployments-{d}-code": "A-UAT",
            f"deployments-{d}-name": "A Test",
            f"deployments-{d}-is_active": "on",
            "emaildomains-TOTAL_FORMS": 1,
            "emaildomains-0-domain": "org-a.example",
        }
    )

    response = client.post(org_url(org_a), data)

    assert response.status_code == 302, response.context["errors"]
    with scopes_disabled():
        assert Deployment.objects.filter(organization=org_a, code="A-UAT").exists()
        assert EmailDomain.objects.get().organization_id == org_a.pk


def test_bad_email_domain_is_refused_and_nothing_is_saved(client, manager, org_a):
    # Bad input gets a clear error and changes nothing.
    client.force_login(manager)
    data = form_data(client.get(org_url(org_a)))
    data.update({"name": "Org A renamed", "emaildomains-TOTAL_FORMS": 1,
                 "emaildomains-0-domain": "@Org A.example"})  # fmt: skip

    response = client.post(org_url(org_a), data)

    assert response.status_code == 200
    assert "Enter a domain name such as example.com" in response.content.decode()
    assert Organization.objects.get(pk=org_a.pk).name == "Org A"
    with scopes_disabled():
        assert not EmailDomain.objects.exists()


def test_reseller_links_are_edited_from_the_right_side(
    client, manager, reseller, end_user_org, org_a
):
    # DOMAIN T-8: a reseller lists its end users; a customer lists its reseller partners.
    client.force_login(manager)

    partner_page = client.get(org_url(reseller)).content.decode()
    customer_page = client.get(org_url(end_user_org)).content.decode()

    assert "end-user organizations (t-8)" in partner_page.lower()
    assert "reseller partners (t-8)" not in partner_page.lower()
    assert "reseller partners (t-8)" in customer_page.lower()
    assert "Partner" in customer_page

    data = form_data(client.get(org_url(reseller)))
    n = int(data["end_user_links-TOTAL_FORMS"])
    data["end_user_links-TOTAL_FORMS"] = n + 1
    data[f"end_user_links-{n}-end_user"] = org_a.pk
    response = client.post(org_url(reseller), data)
    assert response.status_code == 302, response.context["errors"]
    assert set(reseller.end_users.values_list("pk", flat=True)) == {end_user_org.pk, org_a.pk}


def test_a_customer_cannot_be_linked_as_a_reseller(client, manager, org_a, org_b):
    # DOMAIN T-8
    client.force_login(manager)
    data = form_data(client.get(org_url(org_a)))
    data["reseller_links-TOTAL_FORMS"] = 1
    data["reseller_links-0-reseller"] = org_b.pk

    response = client.post(org_url(org_a), data)

    assert response.status_code == 200
    assert "Only a reseller partner can have end users." in response.content.decode()
    assert not org_b.end_users.exists()


def test_manager_adds_a_closed_day_to_a_calendar(client, manager, calendar_a):
    # DOMAIN B-1: care may add extra closed days.
    url = reverse("admin:accounts_businesscalendar_change", args=[calendar_a.pk])
    client.force_login(manager)
    data = form_data(client.get(url))
    data.update({"closures-TOTAL_FORMS": 1, "closures-0-day": "2026-12-24",
                 "closures-0-reason": "Company holiday"})  # fmt: skip

    response = client.post(url, data)

    assert response.status_code == 302, response.context["errors"]
    with scopes_disabled():
        closure = CalendarClosure.objects.get()
    assert (closure.day, closure.organization_id) == (
        date(2026, 12, 24),
        calendar_a.organization_id,
    )


def test_organization_page_links_its_calendar(client, analyst, org_a, org_b, calendar_a):
    # DOMAIN B-1
    client.force_login(analyst)

    with_calendar = client.get(org_url(org_a)).content.decode()
    without = client.get(org_url(org_b)).content.decode()

    assert reverse("admin:accounts_businesscalendar_change", args=[calendar_a.pk]) in with_calendar
    assert "the defaults apply" in without


# --- T-7: the warning --------------------------------------------------------------------


def test_fewer_than_two_designated_contacts_warns_on_page_and_list(client, analyst, org_a, dc_a):
    # DOMAIN T-7
    client.force_login(analyst)

    page = client.get(org_url(org_a))
    listing = client.get(reverse("admin:accounts_organization_changelist")).content.decode()

    assert any("fewer than 2 designated contacts (T-7)" in m for m in messages_of(page))
    assert "1 — fewer than 2 (T-7)" in listing


def test_two_designated_contacts_no_warning(client, analyst, org_a, dc_a):
    # DOMAIN T-7
    member_of(org_a, AccessLevel.DESIGNATED_CONTACT, "dc2@org-a.example")
    client.force_login(analyst)

    page = client.get(org_url(org_a))

    assert not any("T-7" in m for m in messages_of(page))
    short = client.get(reverse("admin:accounts_organization_changelist") + "?dcs=short")
    assert org_a not in short.context["cl"].result_list


# --- staff rights stay with superusers ---------------------------------------------------


def test_manager_cannot_change_a_staff_account(client, manager, analyst):
    # A manager may edit customer users, never care staff (or their passwords).
    url = reverse("admin:accounts_user_change", args=[analyst.pk])
    client.force_login(manager)

    page = client.get(url)
    response = client.post(url, {**form_data(page), "display_name": "Renamed"})
    password = client.get(reverse("admin:auth_user_password_change", args=[analyst.pk]))

    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert response.status_code == 403
    assert password.status_code == 403
    analyst.refresh_from_db()
    assert analyst.display_name != "Renamed"


def test_manager_cannot_promote_a_customer_user(client, manager, dc_a):
    url = reverse("admin:accounts_user_change", args=[dc_a.pk])
    client.force_login(manager)
    data = form_data(client.get(url))
    data.update(
        {
            "display_name": "Dana Contact",
            "is_staff": "on",
            "is_superuser": "on",
            "groups": [Group.objects.get(name=roles.CARE_MANAGER).pk],
        }
    )

    response = client.post(url, data)

    assert response.status_code == 302, response.context["errors"]
    dc_a.refresh_from_db()
    assert dc_a.display_name == "Dana Contact"
    assert (dc_a.is_staff, dc_a.is_superuser, dc_a.groups.count()) == (False, False, 0)


def test_superuser_grants_a_role(client, superuser, no_role):
    url = reverse("admin:accounts_user_change", args=[no_role.pk])
    client.force_login(superuser)
    data = form_data(client.get(url))
    data["groups"] = [Group.objects.get(name=roles.CARE_ANALYST).pk]

    response = client.post(url, data)

    assert response.status_code == 302, response.context["errors"]
    assert list(no_role.groups.values_list("name", flat=True)) == [roles.CARE_ANALYST]


def test_customer_user_page_lists_their_organizations(client, manager, dc_a):
    client.force_login(manager)

    page = client.get(reverse("admin:accounts_user_change", args=[dc_a.pk])).content.decode()

    assert "organizations and access levels (t-4)" in page.lower()
    assert "Org A" in page


# --- audit -------------------------------------------------------------------------------


def test_organization_calendar_and_user_pages_are_audited(client, analyst, org_a, dc_a, calendar_a):
    client.force_login(analyst)

    client.get(reverse("admin:accounts_organization_changelist"))
    client.get(org_url(org_a))
    client.get(reverse("admin:accounts_businesscalendar_change", args=[calendar_a.pk]))
    client.get(reverse("admin:accounts_user_change", args=[dc_a.pk]))

    rows = list(
        AuditLogEntry.objects.order_by("id").values_list(
            "action", "model", "object_repr", "organization_id"
        )
    )
    assert rows == [
        ("list", "accounts.organization", "", None),
        ("view", "accounts.organization", "Org A", org_a.pk),
        ("view", "accounts.businesscalendar", "Calendar of Org A", org_a.pk),
        ("view", "accounts.user", str(dc_a), None),
    ]
    assert set(AuditLogEntry.objects.values_list("actor_id", flat=True)) == {analyst.pk}


def test_calendar_added_from_the_organization_link(client, manager, org_b):
    # DOMAIN B-1: the organization page's link pre-fills the organization.
    client.force_login(manager)
    url = reverse("admin:accounts_businesscalendar_add") + f"?organization={org_b.pk}"

    page = client.get(url)
    data = form_data(page)
    data.update({"time_zone": "Europe/Berlin", "working_days": "[0, 1, 2, 3, 4]",
                 "opens": "09:00", "closes": "17:00", "holiday_country": "DE"})  # fmt: skip
    response = client.post(url, data)

    assert response.status_code == 302, response.context["errors"]
    with scopes_disabled():
        calendar = BusinessCalendar.objects.get(organization=org_b)
    assert calendar.holiday_snapshot  # the holidays were snapshotted on save


# --- saves go through the services and leave history (T-4, S-5, B-1) ----------------------


def org_history(org: Organization) -> list[tuple[str, int, dict, dict]]:
    with scopes_disabled():
        return list(
            OrganizationChange.objects.filter(organization=org)
            .order_by("id")
            .values_list("kind", "actor", "before", "after")
        )


def test_a_new_support_level_is_recorded_and_recomputes_open_cases(client, manager, org_a, dc_a):
    # DOMAIN S-5, S-8
    open_case(dc_a, org_a, priority="medium")
    client.force_login(manager)
    data = form_data(client.get(org_url(org_a)))
    data["support_level"] = SupportLevel.PREMIUM

    response = client.post(org_url(org_a), data, follow=True)

    assert response.status_code == 200
    assert any("due times of 1 open case(s) of Org A were recomputed" in m
               for m in messages_of(response))  # fmt: skip
    assert org_history(org_a) == [
        ("support_level", manager.pk, {"support_level": "BUSINESS_CARE"},
         {"support_level": "PREMIUM"}),
    ]  # fmt: skip


def test_renaming_an_organization_is_recorded(client, manager, org_a):
    client.force_login(manager)
    data = form_data(client.get(org_url(org_a)))
    data["name"] = "Org A Holding"

    response = client.post(org_url(org_a), data)

    assert response.status_code == 302, response.context["errors"]
    assert org_history(org_a) == [
        ("details", manager.pk, {"name": "Org A"}, {"name": "Org A Holding"})
    ]


def test_saving_an_unchanged_organization_records_nothing(client, manager, org_a, dc_a):
    client.force_login(manager)

    response = client.post(org_url(org_a), form_data(client.get(org_url(org_a))))

    assert response.status_code == 302, response.context["errors"]
    assert org_history(org_a) == []


def test_access_level_changes_and_removals_are_recorded(client, manager, org_a, dc_a, ro_a):
    # DOMAIN T-4
    client.force_login(manager)
    data = form_data(client.get(org_url(org_a)))
    rows = {v: k.split("-")[1] for k, v in data.items() if k.endswith("-user")}
    data[f"memberships-{rows[ro_a.pk]}-access_level"] = AccessLevel.DESIGNATED_CONTACT
    data[f"memberships-{rows[dc_a.pk]}-DELETE"] = "on"

    response = client.post(org_url(org_a), data)

    assert response.status_code == 302, response.context["errors"]
    with scopes_disabled():
        assert list(
            Membership.objects.filter(organization=org_a).values_list("user", flat=True)
        ) == [ro_a.pk]
    assert org_history(org_a) == [
        ("membership", manager.pk, {"user": dc_a.pk, "access_level": "DESIGNATED_CONTACT"}, {}),
        ("membership", manager.pk, {"user": ro_a.pk, "access_level": "READ_ONLY"},
         {"user": ro_a.pk, "access_level": "DESIGNATED_CONTACT"}),
    ]  # fmt: skip


def test_a_member_added_from_the_user_page_is_recorded(client, manager, org_a, org_b, dc_a):
    # DOMAIN T-4: the user's page saves through the same services as the organization's
    url = reverse("admin:accounts_user_change", args=[dc_a.pk])
    client.force_login(manager)
    data = form_data(client.get(url))
    index = int(data["memberships-TOTAL_FORMS"])
    data["memberships-TOTAL_FORMS"] = index + 1
    data[f"memberships-{index}-organization"] = org_b.pk
    data[f"memberships-{index}-access_level"] = AccessLevel.BASIC

    response = client.post(url, data)

    assert response.status_code == 302, response.context["errors"]
    assert org_history(org_b) == [
        ("membership", manager.pk, {}, {"user": dc_a.pk, "access_level": "BASIC"})
    ]


def test_a_closed_day_added_in_the_admin_is_recorded_once(client, manager, calendar_a):
    # DOMAIN B-1
    url = reverse("admin:accounts_businesscalendar_change", args=[calendar_a.pk])
    client.force_login(manager)
    data = form_data(client.get(url))
    data.update({"closures-TOTAL_FORMS": 1, "closures-0-day": "2026-12-24",
                 "closures-0-reason": "Company holiday", "opens": "08:00"})  # fmt: skip

    response = client.post(url, data)

    assert response.status_code == 302, response.context["errors"]
    [(kind, actor, before, after)] = org_history(calendar_a.organization)
    assert (kind, actor) == ("calendar", manager.pk)
    assert before == {"opens": "09:00:00", "closures": []}
    assert after == {"opens": "08:00:00", "closures": [["2026-12-24", "Company holiday"]]}


def test_a_calendar_stays_with_its_organization(client, manager, calendar_a, org_b):
    url = reverse("admin:accounts_businesscalendar_change", args=[calendar_a.pk])
    client.force_login(manager)
    data = form_data(client.get(url))
    data["organization"] = org_b.pk

    response = client.post(url, data)

    assert response.status_code == 302, response.context["errors"]
    with scopes_disabled():
        assert BusinessCalendar.objects.get(pk=calendar_a.pk).organization_id != org_b.pk


def test_a_calendar_added_in_the_admin_is_recorded(client, manager, org_b):
    # DOMAIN B-1
    url = reverse("admin:accounts_businesscalendar_add") + f"?organization={org_b.pk}"
    client.force_login(manager)
    data = form_data(client.get(url))
    data.update({"time_zone": "Europe/Berlin", "working_days": "[0, 1, 2, 3, 4]",
                 "opens": "09:00", "closes": "17:00", "holiday_country": "DE",
                 "closures-TOTAL_FORMS": 1, "closures-0-day": "2026-12-31",
                 "closures-0-reason": "Year end"})  # fmt: skip

    response = client.post(url, data)

    assert response.status_code == 302, response.context["errors"]
    [(kind, actor, before, after)] = org_history(org_b)
    assert (kind, actor, before) == ("calendar", manager.pk, {})
    assert after["time_zone"] == "Europe/Berlin"
    assert after["closures"] == [["2026-12-31", "Year end"]]


@pytest.mark.parametrize(("role", "status"), [("analyst", 200), ("manager", 200),
                                              ("product_manager", 403)])  # fmt: skip
def test_care_reads_the_organization_history_and_nobody_edits_it(
    request, client, manager, org_a, role, status
):
    client.force_login(manager)
    data = form_data(client.get(org_url(org_a)))
    data["support_level"] = SupportLevel.PREMIUM
    client.post(org_url(org_a), data)
    with scopes_disabled():
        change = OrganizationChange.objects.get()
    client.force_login(request.getfixturevalue(role))

    listing = client.get(reverse("admin:accounts_organizationchange_changelist"))
    page = client.get(reverse("admin:accounts_organizationchange_change", args=[change.pk]))

    assert listing.status_code == status
    if status == 200:
        assert "PREMIUM" in listing.content.decode()
        assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    delete = reverse("admin:accounts_organizationchange_delete", args=[change.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    with scopes_disabled():
        assert OrganizationChange.objects.count() == 1
