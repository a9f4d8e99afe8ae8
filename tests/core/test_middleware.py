"""Private answers are never kept by a cache (signed-in pages, the API)."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


@pytest.mark.parametrize("path", ["/", "/cases/all/", "/cases/mine/", "/accounts/profile/"])
def test_signed_in_pages_are_not_stored(client, dc_a, path):
    client.force_login(dc_a)
    response = client.get(path)
    assert response.status_code == 200 and no_store(response)


def test_api_answers_are_not_stored(dc_a):
    token, _ = Token.objects.get_or_create(user=dc_a)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert no_store(api.get("/api/v1/cases/"))
    assert no_store(APIClient().get("/api/v1/cases/"))  # the 401 too


def test_public_answers_are_left_to_their_views(client):
    # Nobody signed in, not the API: the view decides (a 404 page may be cached)
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and not no_store(response)


def test_an_answer_that_sets_its_own_caching_keeps_it(client, dc_a):
    client.force_login(dc_a)
    response = client.get("/cases/all/export.xlsx")
    assert response["Cache-Control"] == "private, no-store"
