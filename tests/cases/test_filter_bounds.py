"""Dates and months out of range are input errors that name the field, never a server error
(C-13 lists and exports, the API, the service-level reports)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

FAR = ["9999-12-31", "0001-01-01", "1999-12-31", "3000-01-01"]


@pytest.mark.parametrize("day", FAR)
@pytest.mark.parametrize("field", ["opened_before", "opened_after"])
def test_the_all_cases_list_says_which_date_is_out_of_range(client, dc_a, field, day):
    # DOMAIN C-13
    client.force_login(dc_a)

    page = client.get(f"/cases/all/?{field}={day}")

    assert page.status_code == 200
    assert "Enter a date between 2000-01-01 and 2999-12-31." in page.content.decode()


@pytest.mark.parametrize("day", FAR)
def test_the_export_refuses_an_out_of_range_date(client, dc_a, day):
    # DOMAIN C-13
    client.force_login(dc_a)

    assert client.get(f"/cases/all/export.xlsx?opened_before={day}").status_code == 400


@pytest.mark.parametrize("day", FAR)
def test_the_api_names_the_field(dc_a, day):
    # DOMAIN C-13
    api = APIClient()
    api.force_authenticate(dc_a)

    answer = api.get(f"/api/v1/cases/?opened_before={day}")

    assert answer.status_code == 400
    assert "opened_before" in answer.json()


def test_the_last_day_in_range_is_a_filter(client, dc_a):
    client.force_login(dc_a)

    page = client.get("/cases/all/?opened_before=2999-12-31&opened_after=2000-01-01")

    assert page.status_code == 200 and "Enter a date between" not in page.content.decode()


@pytest.mark.parametrize("month", ["9999-12", "3000-01", "1999-12"])
def test_service_level_reports_refuse_a_month_out_of_range(client, dc_a, manager, month):
    # DOMAIN S-6: the portal and the care workspace, pages and exports
    client.force_login(dc_a)
    assert client.get(f"/cases/reports/service-levels/?month={month}").status_code == 400
    assert client.get(f"/cases/reports/service-levels/export.xlsx?month={month}").status_code == 400
    client.force_login(manager)
    assert client.get(f"/admin/cases/case/service-levels/?month={month}").status_code == 400
    assert (
        client.get(f"/admin/cases/case/service-levels/export.xlsx?month={month}").status_code == 400
    )
