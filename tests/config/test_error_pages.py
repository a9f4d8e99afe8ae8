"""With DEBUG off (as `make run` and production serve), an unknown address answers with the
portal's own 404 page, not Django's technical one."""

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_an_unknown_url_gets_the_portals_404_page(client):
    assert settings.DEBUG is False

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "404.html" in [t.name for t in response.templates]
    assert "base.html" in [t.name for t in response.templates]
    content = response.content.decode()
    assert "<h1>Not found</h1>" in content
    assert "Page not found at" not in content  # Django's technical 404


def test_a_signed_in_user_gets_it_inside_the_portal_layout(client, dc_a):
    client.force_login(dc_a)

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "404.html" in [t.name for t in response.templates]
    assert reverse("logout") in response.content.decode()  # the signed-in header
