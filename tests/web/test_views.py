"""Home, help, health, error pages, sign-in and the profile page."""

import pytest
from django.urls import reverse

from accounts.models import AccessLevel
from tests.factories import DEFAULT_PASSWORD, member_of

pytestmark = pytest.mark.django_db


def test_anonymous_home_is_the_landing_page_with_phones_and_guidance(client, settings):
    # DOMAIN K-2
    page = client.get(reverse("home")).content.decode()
    assert "Sign in" in page
    assert settings.PORTAL["CARE_PHONE_NUMBERS"][0] in page
    assert "Contact your account executive" in page  # pricing and billing are not cases


def test_dashboard_shows_organization_level_and_deployments(client, dc_a):
    client.force_login(dc_a)
    page = client.get(reverse("home")).content.decode()
    assert "Org A" in page
    assert "Designated contact" in page
    assert "A-PRD / A Production" in page
    assert "B-PRD" not in page


def test_dashboard_warns_when_fewer_than_two_designated_contacts(client, dc_a, org_a):
    # DOMAIN T-7
    client.force_login(dc_a)
    assert 'data-testid="dc-warning"' in client.get(reverse("home")).content.decode()
    member_of(org_a, AccessLevel.DESIGNATED_CONTACT, "dc2@org-a.example")
    assert 'data-testid="dc-warning"' not in client.get(reverse("home")).content.decode()


def test_basic_user_dashboard_says_cases_are_not_theirs(client, basic_a):
    # DOMAIN T-4: BASIC has no cases.
    client.force_login(basic_a)
    page = client.get(reverse("home")).content.decode()
    assert "Cases are for designated contacts and read-only users" in page


def test_user_without_organization_is_told_so(client, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    assert "not linked to an organization" in client.get(reverse("home")).content.decode()


def test_staff_home_points_to_the_workspace(client, analyst):
    client.force_login(analyst)
    assert reverse("admin:index") in client.get(reverse("home")).content.decode()


def test_login_page_signs_in_by_email_and_refuses_bad_password(client, dc_a):
    response = client.post(
        reverse("login"), {"username": "DC@ORG-A.example", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    client.logout()
    response = client.post(reverse("login"), {"username": dc_a.email, "password": "nope"})
    assert response.status_code == 200
    assert "do not match" in response.content.decode()


def test_logout_is_post_only(client, dc_a):
    client.force_login(dc_a)
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("profile")).status_code == 302  # signed out


def test_profile_saves_valid_changes(client, dc_a):
    # DOMAIN T-11
    client.force_login(dc_a)
    response = client.post(
        reverse("profile"),
        {
            "display_name": "Dana Contact",
            "phone": "+49 89 1234",
            "time_zone": "Europe/Berlin",
            "new_pin": "13579",
            "confirm_pin": "13579",
        },
        follow=True,
    )
    assert "Your profile is saved." in response.content.decode()
    dc_a.refresh_from_db()
    assert dc_a.time_zone == "Europe/Berlin"
    assert dc_a.check_pin("13579")


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"time_zone": "Mars/Olympus"}, "not a known time zone"),
        ({"phone": "call me"}, "Enter a phone number"),
        ({"display_name": "   "}, "Enter the name"),
        ({"new_pin": "12ab", "confirm_pin": "12ab"}, "digits only"),
        ({"new_pin": "1234", "confirm_pin": "4321"}, "The two PINs differ"),
    ],
)
def test_profile_bad_input_is_explained_and_changes_nothing(client, dc_a, data, error):
    client.force_login(dc_a)
    before = (dc_a.display_name, dc_a.phone, dc_a.time_zone, dc_a.pin_hash)
    form = {"display_name": "New Name", "phone": "", "time_zone": "", **data}
    response = client.post(reverse("profile"), form)
    assert response.status_code == 200
    assert error in response.content.decode()
    dc_a.refresh_from_db()
    assert (dc_a.display_name, dc_a.phone, dc_a.time_zone, dc_a.pin_hash) == before


def test_help_page_lists_what_to_do(client):
    # DOMAIN K-2
    page = client.get(reverse("help")).content.decode()
    assert "Open a Service Request" in page


def test_healthz_reports_ok(client, db):
    assert client.get(reverse("healthz")).json() == {"status": "ok"}


def test_unknown_page_uses_the_portal_404(client, dc_a):
    client.force_login(dc_a)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Not found" in response.content.decode()


def test_support_access_lists_members_with_levels(client, dc_a, ro_a, org_a):
    # DOMAIN T-10
    client.force_login(ro_a)
    page = client.get(reverse("support-access", args=[org_a.slug])).content.decode()
    assert "dc@org-a.example" in page and "Designated contact" in page
    assert "ro@org-a.example" in page and "Read only" in page


def test_layout_header_and_footer_escape_what_people_typed(client, dc_a, org_a, analyst):
    # The header and footer show what people typed (names, the query, a zone) as text.
    from accounts.models import Organization, User

    Organization.objects.filter(pk=org_a.pk).update(name="A & <B>")
    User.objects.filter(pk=dc_a.pk).update(
        display_name="<script>x</script>", time_zone="Europe/Amsterdam"
    )
    client.force_login(dc_a)
    page = client.get(reverse("cases:all"), {"q": '"><script>y</script>'}).content.decode()
    assert "<script>x" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    assert 'data-testid="org-name">A &amp; &lt;B&gt;</span>' in page
    assert 'value="&quot;&gt;&lt;script&gt;y&lt;/script&gt;"' in page
    assert "Times are shown in Europe/Amsterdam." in page
    assert 'name="csrfmiddlewaretoken"' in page and '"X-CSRFToken": "' in page
    assert 'href="/cases/all/" aria-current="page"' in page
    client.logout()
    anonymous = client.get(reverse("help")).content.decode()
    assert "Sign in</a>" in anonymous and "Sign out" not in anonymous
    assert "your organization's time zone" in anonymous
    client.force_login(analyst)
    staff = client.get(reverse("help")).content.decode()
    assert '<span class="org-badge">Customer Care</span>' in staff
    assert 'data-testid="org-name"' not in staff
