"""The registry of case actions (cases.actions): each edge can offer every action it should,
and an action's input reaches the service under the service's own names. That the offered
actions are exactly the ones the services accept is tests/cases/test_policy.py's to prove."""

from __future__ import annotations

from cases.actions import (
    CASE_ACTIONS,
    FIELDS,
    MESSAGE,
    NOTE,
    POST_UPDATE,
    Who,
    case_actions_for,
)
from cases.admin.forms import ACTION_FORMS
from cases.api.actions import ACTION_VIEWS
from cases.api.inputs import ACTION_INPUTS


def test_every_care_action_has_a_form_and_words_on_the_case_page():
    for action in case_actions_for(Who.CARE):
        assert action.takes in ACTION_FORMS, action.name
        assert action.label and action.button and action.done, action.name
        assert action.panel in ("status", "fields", "compose"), action.name


def test_every_action_but_posting_an_update_has_its_own_api_url_and_input():
    assert set(ACTION_VIEWS) == set(CASE_ACTIONS) - {POST_UPDATE.name}
    for action in CASE_ACTIONS.values():
        assert action.takes in ACTION_INPUTS, action.name
        assert action.summary, action.name


def test_the_input_reaches_the_service_under_its_names():
    files = object()

    assert MESSAGE.arguments({"body": "Logs?", "attachments": (files,)}) == {
        "body": "Logs?",
        "uploads": [files],
    }
    assert FIELDS.arguments({"deployment": 7, "service": "", "organization_id": 3}) == {
        "deployment_id": 7,
        "service_slug": "",
    }
    # what the caller left out is the service's default
    assert NOTE.arguments({}) == {}
    assert FIELDS.arguments({"service": "dns"}) == {"service_slug": "dns"}
