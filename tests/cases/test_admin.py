"""The care workspace for cases (T-5, C-5, C-7, C-8, C-9, C-16): who reaches which page,
transitions only through the services and only for those allowed, bulk actions, queues,
and a case list whose cost does not grow with its rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse

from cases.admin import CaseAdmin
from cases.admin.bulk import BULK_MAX
from cases.models import Case, CaseEvent, CaseUpdate, ProductGroup
from cases.search import search_document_append
from core.audit.models import AuditLogEntry
from core.care_admin import CheapCountPaginator
from core.tenancy import ScopeError, scopes_disabled, tenant_scope
from tests.cases import make_case, reload, snapshot
from tests.factories import DeploymentFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def postgres(test):
    skip = pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the planner's row estimate (pg_class.reltuples) is PostgreSQL's",
    )
    return pytest.mark.postgres(skip(test))


CHANGELIST = reverse("admin:cases_case_changelist")
HOME = reverse("admin:cases_case_home")


def change_url(case: Case) -> str:
    return reverse("admin:cases_case_change", args=[case.pk])


def act_url(case: Case, action: str) -> str:
    return reverse("admin:cases_case_act", args=[case.pk, action])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def events(case: Case, kind: str | None = None) -> list[CaseEvent]:
    with scopes_disabled():
        qs = CaseEvent.objects.filter(case_id=case.pk).order_by("created_at", "id")
        return list(qs.filter(kind=kind) if kind else qs)


@pytest.fixture
def superuser(db):
    return UserFactory(email="root@care.example", is_staff=True, is_superuser=True)


@pytest.fixture
def no_role(db):
    return UserFactory(email="norole@care.example", is_staff=True)


@pytest.fixture
def case_a(org_a, dc_a):
    return make_case(org_a, dc_a, subject="Agents cannot log in")


@pytest.fixture
def case_b(org_b, dc_b):
    return make_case(org_b, dc_b, subject="IVR plays the wrong greeting")


# --- T-5: each role's access to each page ------------------------------------------------


def _pages(case: Case) -> dict[str, str]:
    return {
        "index": reverse("admin:index"),
        "changelist": CHANGELIST,
        "change": change_url(case),
        "home": HOME,
        "services": reverse("admin:cases_cloudservice_changelist"),
        "groups": reverse("admin:cases_productgroup_changelist"),
    }


# DOMAIN T-5: analysts and managers work cases; product managers see the catalogue (ideas
# have no pages yet) but no case; a staff user without a role sees nothing.
EXPECTED = {
    "analyst": {"changelist": 200, "change": 200, "home": 200, "services": 200, "groups": 200},
    "manager": {"changelist": 200, "change": 200, "home": 200, "services": 200, "groups": 200},
    "superuser": {"changelist": 200, "change": 200, "home": 200, "services": 200, "groups": 200},
    "product_manager": {
        "changelist": 403,
        "change": 403,
        "home": 403,
        "services": 200,
        "groups": 200,
    },
    "no_role": {"changelist": 403, "change": 403, "home": 403, "services": 403, "groups": 403},
}


@pytest.mark.parametrize("role", list(EXPECTED))
@pytest.mark.parametrize("page", ["changelist", "change", "home", "services", "groups"])
def test_each_role_reaches_exactly_its_case_pages(request, client, case_a, role, page):
    # DOMAIN T-5
    client.force_login(request.getfixturevalue(role))

    response = client.get(_pages(case_a)[page])

    assert response.status_code == EXPECTED[role][page]


@pytest.mark.parametrize("role", ["analyst", "manager", "superuser"])
def test_case_workers_see_their_work_on_the_index(request, client, role):
    # DOMAIN T-5
    client.force_login(request.getfixturevalue(role))

    page = client.get(reverse("admin:index")).content.decode()

    assert 'data-testid="care-work"' in page
    assert HOME in page
    assert f"{CHANGELIST}?queue=mine" in page


def test_product_manager_index_has_no_case_list(client, product_manager):
    # DOMAIN T-5
    client.force_login(product_manager)

    page = client.get(reverse("admin:index")).content.decode()

    assert 'data-testid="care-work"' not in page
    assert CHANGELIST not in page
    assert reverse("admin:cases_cloudservice_changelist") in page


def test_staff_without_role_sees_no_apps_on_the_index(client, no_role):
    # DOMAIN T-5
    client.force_login(no_role)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 200
    assert response.context["app_list"] == []
    assert 'data-testid="care-work"' not in response.content.decode()


def test_customer_is_sent_to_the_admin_login(client, dc_a, case_a):
    # DOMAIN T-6: the care workspace is not for customers.
    client.force_login(dc_a)

    response = client.get(change_url(case_a))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_nobody_adds_or_deletes_cases_in_the_admin(client, superuser, case_a):
    client.force_login(superuser)

    assert client.get(reverse("admin:cases_case_add")).status_code == 403
    assert client.get(reverse("admin:cases_case_delete", args=[case_a.pk])).status_code == 403
    assert client.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [case_a.pk]})
    assert reload(case_a).pk == case_a.pk


# --- the case page -----------------------------------------------------------------------


def test_case_page_shows_state_as_text_fields_feed_and_history(client, analyst, case_a, dc_a):
    # DOMAIN C-7, C-9, C-16
    client.force_login(analyst)
    client.post(act_url(case_a, "take"), {"body": ""})
    client.post(
        act_url(case_a, "post-update"),
        {"visibility": "internal", "body": "Looks like the SBC again."},
    )
    client.post(act_url(case_a, "post-update"), {"visibility": "public", "body": "We are on it."})

    response = client.get(change_url(case_a))

    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["title"] == f"Case {case_a.display_number}"
    assert '<dd data-testid="case-sub-status">Investigation</dd>' in page
    assert '<dd data-testid="case-status">Open</dd>' in page
    assert "Agents cannot log in" in page
    # Internal and public entries are visibly different.
    assert page.count("feed-entry feed-internal") == 1
    assert page.count("feed-entry feed-public") == 1
    assert "Internal note — care only" in page
    assert "Looks like the SBC again." in page
    # The history names the changes in words.
    history = page[page.index('data-testid="case-history"') :]
    assert "Status changed" in history
    assert "Sub status: New → Investigation" in history
    assert f"Owner: — → {analyst.get_full_name()}" in history
    # The model form cannot save: there is no save button, and the state is not a field.
    assert 'name="_save"' not in page
    assert 'name="sub_status"' not in page


def test_case_page_offers_only_the_actions_the_policy_allows(client, analyst, org_a, dc_a):
    # DOMAIN C-8
    client.force_login(analyst)
    new = make_case(org_a, dc_a, "new")
    pending_rca = make_case(org_a, dc_a, "pending_rca")
    closed = make_case(org_a, dc_a, "resolved")

    def offered(case):
        page = client.get(change_url(case)).content.decode()
        return {
            a
            for a in ("take", "request-info", "deliver-rca", "resolve", "post-update")
            if f'data-action="{a}"' in page
        }

    assert offered(new) == {"take", "request-info", "resolve", "post-update"}
    assert offered(pending_rca) == {"deliver-rca", "resolve", "post-update"}
    assert offered(closed) == set()


def test_model_form_post_is_refused_and_changes_nothing(client, analyst, case_a):
    # DOMAIN C-8: the state is never edited through the form.
    client.force_login(analyst)
    before = snapshot(case_a)

    response = client.post(
        change_url(case_a), {"sub_status": "resolved", "priority": "critical", "_save": "Save"}
    )

    assert response.status_code == 403
    assert snapshot(case_a) == before


# --- transitions through the services ----------------------------------------------------


def test_take_assigns_and_moves_to_investigation_with_admin_channel(client, analyst, case_a):
    # DOMAIN C-8, C-16
    client.force_login(analyst)

    response = client.post(act_url(case_a, "take"), {"body": ""}, follow=True)

    case = reload(case_a)
    assert (case.sub_status, case.owner_id) == ("investigation", analyst.pk)
    transition = events(case, CaseEvent.Kind.TRANSITION)[-1]
    assert (transition.actor_id, transition.channel) == (analyst.pk, "admin")
    assert "You took the case" in " ".join(messages_of(response))


def test_request_info_needs_a_message_and_keeps_what_was_typed(client, analyst, case_a):
    # DOMAIN C-8: bad input gets a clear error and changes nothing.
    client.force_login(analyst)
    before = snapshot(case_a)

    response = client.post(act_url(case_a, "request-info"), {"body": "   "})

    assert response.status_code == 400
    assert snapshot(case_a) == before
    assert "Write a message." in " ".join(messages_of(response))
    assert '<details class="case-action" data-action="request-info" open>' in (
        response.content.decode()
    )


def test_request_info_posts_the_public_message(client, analyst, case_a):
    # DOMAIN C-8, C-9
    client.force_login(analyst)

    client.post(act_url(case_a, "request-info"), {"body": "Please send the HAR file."})

    case = reload(case_a)
    assert (case.sub_status, case.status) == ("info_required", "awaiting_info")
    with scopes_disabled():
        update = CaseUpdate.objects.get(case_id=case.pk)
    assert (update.body, update.is_internal, update.channel) == (
        "Please send the HAR file.",
        False,
        "admin",
    )


def test_set_priority_to_critical_is_recorded(client, analyst, case_a):
    # DOMAIN C-5, C-16: care sets Critical; every change is in the history.
    client.force_login(analyst)

    client.post(act_url(case_a, "set-priority"), {"priority": "critical", "body": ""})

    assert reload(case_a).priority == "critical"
    event = events(case_a, CaseEvent.Kind.PRIORITY)[-1]
    assert (event.before, event.after, event.channel) == (
        {"priority": "medium"},
        {"priority": "critical"},
        "admin",
    )


def test_set_priority_rejects_an_unknown_value(client, analyst, case_a):
    client.force_login(analyst)
    before = snapshot(case_a)

    response = client.post(act_url(case_a, "set-priority"), {"priority": "urgent"})

    assert response.status_code == 400
    assert snapshot(case_a) == before
    assert "Select a valid choice" in " ".join(messages_of(response))


def test_assign_to_a_manager_and_back_to_nobody(client, analyst, manager, case_a):
    # DOMAIN C-16
    client.force_login(analyst)

    client.post(act_url(case_a, "assign"), {"owner": manager.pk})
    assert reload(case_a).owner_id == manager.pk
    client.post(act_url(case_a, "assign"), {"owner": ""})
    assert reload(case_a).owner_id is None

    owner_events = events(case_a, CaseEvent.Kind.OWNER)
    assert [(e.before, e.after) for e in owner_events] == [
        ({"owner": None}, {"owner": manager.pk}),
        ({"owner": manager.pk}, {"owner": None}),
    ]


def test_assign_refuses_a_customer_or_product_manager(
    client, analyst, product_manager, dc_a, case_a
):
    client.force_login(analyst)
    before = snapshot(case_a)

    for user in (dc_a, product_manager):
        response = client.post(act_url(case_a, "assign"), {"owner": user.pk})
        assert response.status_code == 400
        assert "Choose a care analyst or manager." in " ".join(messages_of(response))

    assert snapshot(case_a) == before


def test_convert_to_incident_then_restore_and_deliver_rca(client, manager, org_a, dc_a):
    # DOMAIN C-2, C-8
    case = make_case(org_a, dc_a, "investigation")
    client.force_login(manager)

    client.post(act_url(case, "convert-to-incident"), {"body": ""})
    client.post(act_url(case, "restore-service"), {"pending": "rca", "body": "Restored."})
    assert reload(case).sub_status == "pending_rca"
    client.post(act_url(case, "deliver-rca"), {"body": "Root cause: a expired certificate."})

    case = reload(case)
    assert (case.type, case.sub_status) == ("incident", "solution_proposed")
    assert case.restored_at is not None and case.rca_delivered_at is not None


@pytest.mark.parametrize(
    ("action", "target"),
    [("resolve", "resolved"), ("cancel", "cancelled"), ("redirect", "redirected")],
)
def test_closing_actions(client, analyst, case_a, action, target):
    # DOMAIN C-8: care closes a case from any open state.
    client.force_login(analyst)

    client.post(act_url(case_a, action), {"body": ""})

    case = reload(case_a)
    assert (case.sub_status, case.status) == (target, "closed")


def test_composer_posts_an_internal_note_with_an_attachment(
    client, analyst, case_a, settings, tmp_path
):
    # DOMAIN C-9, C-10: the note is care-only and carries the file.
    settings.MEDIA_ROOT = tmp_path
    client.force_login(analyst)
    log = SimpleUploadedFile("trace.log", b"SIP/2.0 503 Service Unavailable\n")

    client.post(
        act_url(case_a, "post-update"),
        {"visibility": "internal", "body": "Trace attached.", "attachments": [log]},
    )

    with scopes_disabled():
        update = CaseUpdate.objects.get(case_id=case_a.pk)
        names = list(update.attachments.values_list("name", flat=True))
    assert (update.is_internal, update.by_care, names) == (True, True, ["trace.log"])
    assert reload(case_a).sub_status == "new"  # a note is no response to the customer


def test_composer_refuses_a_file_that_is_not_what_it_claims(
    client, analyst, case_a, settings, tmp_path
):
    # DOMAIN C-10
    settings.MEDIA_ROOT = tmp_path
    client.force_login(analyst)
    before = snapshot(case_a)
    fake = SimpleUploadedFile("screen.png", b"MZ\x90\x00 not a png")

    response = client.post(
        act_url(case_a, "post-update"),
        {"visibility": "public", "body": "See screenshot.", "attachments": [fake]},
    )

    assert response.status_code == 400
    assert "does not contain what its name says" in " ".join(messages_of(response))
    assert snapshot(case_a) == before
    # What was typed is still there.
    assert "See screenshot." in response.content.decode()


def test_attachment_download_is_audited_and_care_only(
    client, analyst, product_manager, case_a, settings, tmp_path
):
    # DOMAIN C-10, T-5
    settings.MEDIA_ROOT = tmp_path
    client.force_login(analyst)
    client.post(
        act_url(case_a, "post-update"),
        {
            "visibility": "public",
            "body": "Log.",
            "attachments": [SimpleUploadedFile("a.txt", b"hi")],
        },
    )
    with scopes_disabled():
        token = case_a.attachments.get().token
    url = reverse("admin:cases_case_attachment", args=[case_a.pk, token])

    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content) == b"hi"
    entry = AuditLogEntry.objects.filter(action="download").get()
    assert (entry.actor_id, entry.model, entry.organization_id) == (
        analyst.pk,
        "cases.attachment",
        case_a.organization_id,
    )
    assert (
        client.get(reverse("admin:cases_case_attachment", args=[case_a.pk, "nope"])).status_code
        == 404
    )
    client.force_login(product_manager)
    assert client.get(url).status_code == 403


# --- forged POSTs: the role and the state are checked on the server ----------------------


@pytest.mark.parametrize("role", ["product_manager", "no_role"])
@pytest.mark.parametrize("action", ["take", "resolve", "set-priority", "assign", "post-update"])
def test_forged_action_post_by_a_staff_user_without_care_role_is_refused(
    request, client, case_a, role, action
):
    # DOMAIN T-5, C-8: django-fsm-2's admin would let this through; ours refuses it.
    client.force_login(request.getfixturevalue(role))
    before = snapshot(case_a)

    response = client.post(
        act_url(case_a, action),
        {"body": "x", "priority": "critical", "owner": "", "visibility": "public"},
    )

    assert response.status_code == 403
    assert snapshot(case_a) == before


@pytest.mark.parametrize(
    ("sub_status", "action"),
    [
        ("new", "deliver-rca"),
        ("new", "restore-service"),
        ("investigation", "take"),
        ("solution_proposed", "request-info"),
        ("resolved", "resolve"),
        ("resolved", "post-update"),
        ("cancelled", "set-priority"),
    ],
)
def test_forged_transition_from_a_disallowed_state_is_refused(
    client, analyst, org_a, dc_a, sub_status, action
):
    # DOMAIN C-8: any other transition is refused with a clear error and changes nothing.
    case = make_case(org_a, dc_a, sub_status)
    client.force_login(analyst)
    before = snapshot(case)

    response = client.post(
        act_url(case, action),
        {"body": "text", "pending": "rca", "priority": "critical", "visibility": "public"},
    )

    assert response.status_code == 409
    assert snapshot(case) == before
    assert "is not possible for a case in" in " ".join(messages_of(response))


def test_service_refusal_is_a_message_and_changes_nothing(client, analyst, org_a, dc_a):
    # A conflict found by the service itself (not by the policy): same priority again.
    case = make_case(org_a, dc_a, "investigation", priority="high")
    client.force_login(analyst)
    before = snapshot(case)

    response = client.post(act_url(case, "set-priority"), {"priority": "high"})

    assert response.status_code == 409
    assert "already has this priority" in " ".join(messages_of(response))
    assert snapshot(case) == before


def test_unknown_action_is_not_found_and_get_changes_nothing(client, analyst, case_a):
    client.force_login(analyst)
    before = snapshot(case_a)

    assert client.post(act_url(case_a, "delete-everything")).status_code == 404
    assert client.get(act_url(case_a, "take")).status_code == 302
    assert client.post(reverse("admin:cases_case_act", args=[999999, "take"])).status_code == 404
    assert snapshot(case_a) == before


# --- bulk actions ------------------------------------------------------------------------


def _bulk(client, cases, action, **data):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [c.pk for c in cases], "index": 0, **data},
        follow=True,
    )


def test_bulk_assign_to_me_records_history_per_case_and_reports_failures(
    client, analyst, org_a, dc_a
):
    # DOMAIN C-16
    open_cases = [make_case(org_a, dc_a, s) for s in ("new", "investigation", "info_required")]
    closed = make_case(org_a, dc_a, "resolved")
    client.force_login(analyst)

    response = _bulk(client, [*open_cases, closed], "assign_to_me")

    for case in open_cases:
        assert reload(case).owner_id == analyst.pk
        [event] = events(case, CaseEvent.Kind.OWNER)
        assert (event.actor_id, event.channel, event.after) == (
            analyst.pk,
            "admin",
            {"owner": analyst.pk},
        )
    assert reload(closed).owner_id is None
    text = " ".join(messages_of(response))
    assert "3 case(s) assigned to you." in text
    assert f"1 case(s) not changed — {closed.display_number}: The case is closed." in text


def test_bulk_assign_to_an_analyst_asks_whom_then_assigns(client, manager, analyst, org_a, dc_a):
    cases = [make_case(org_a, dc_a) for _ in range(2)]
    client.force_login(manager)

    page = _bulk(client, cases, "assign_to_analyst")
    assert page.status_code == 200
    assert page.templates[0].name == "admin/cases/case/bulk_action.html"
    assert all(reload(c).owner_id is None for c in cases)

    missing = _bulk(client, cases, "assign_to_analyst", apply="1", owner="")
    assert "Choose an analyst." in missing.content.decode()
    assert all(reload(c).owner_id is None for c in cases)

    _bulk(client, cases, "assign_to_analyst", apply="1", owner=analyst.pk)
    for case in cases:
        assert reload(case).owner_id == analyst.pk
        assert len(events(case, CaseEvent.Kind.OWNER)) == 1


def test_bulk_change_priority(client, analyst, org_a, dc_a):
    # DOMAIN C-5, C-16
    cases = [make_case(org_a, dc_a, priority=p) for p in ("low", "medium", "high")]
    client.force_login(analyst)

    response = _bulk(client, cases, "change_priority", apply="1", priority="high", body="")

    assert [reload(c).priority for c in cases] == ["high", "high", "high"]
    assert [len(events(c, CaseEvent.Kind.PRIORITY)) for c in cases] == [1, 1, 0]
    text = " ".join(messages_of(response))
    assert "2 case(s) changed to High." in text
    assert "already has this priority" in text


def test_bulk_request_info_sends_one_message_to_each_case(client, analyst, org_a, dc_a):
    # DOMAIN C-8, C-9, C-16
    cases = [make_case(org_a, dc_a, s) for s in ("new", "customer_responded")]
    awaiting = make_case(org_a, dc_a, "solution_proposed")
    client.force_login(analyst)

    empty = _bulk(client, cases, "request_info", apply="1", body="")
    assert "Write a message." in empty.content.decode()
    assert [reload(c).sub_status for c in cases] == ["new", "customer_responded"]

    response = _bulk(
        client, [*cases, awaiting], "request_info", apply="1", body="Which release are you on?"
    )

    for case in cases:
        assert reload(case).sub_status == "info_required"
        with scopes_disabled():
            assert list(
                CaseUpdate.objects.filter(case_id=case.pk).values_list("body", flat=True)
            ) == ["Which release are you on?"]
        assert len(events(case, CaseEvent.Kind.TRANSITION)) == 1
    assert reload(awaiting).sub_status == "solution_proposed"
    assert awaiting.display_number in " ".join(messages_of(response))


def test_bulk_actions_refuse_a_too_large_selection(client, analyst, org_a, dc_a, monkeypatch):
    monkeypatch.setattr("cases.admin.bulk.BULK_MAX", 2)
    cases = [make_case(org_a, dc_a) for _ in range(3)]
    client.force_login(analyst)

    response = _bulk(client, cases, "assign_to_me")

    assert all(reload(c).owner_id is None for c in cases)
    assert "Select at most 2 cases" in " ".join(messages_of(response))
    assert BULK_MAX == 500


@pytest.mark.parametrize("role", ["product_manager", "no_role"])
def test_bulk_action_post_without_care_role_is_refused(request, client, case_a, role):
    # DOMAIN T-5
    client.force_login(request.getfixturevalue(role))
    before = snapshot(case_a)

    response = client.post(
        CHANGELIST, {"action": "assign_to_me", "_selected_action": [case_a.pk], "index": 0}
    )

    assert response.status_code == 403
    assert snapshot(case_a) == before


# --- queues, filters and search ----------------------------------------------------------


@pytest.fixture
def queue_world(org_a, org_b, dc_a, dc_b, analyst, manager):
    with scopes_disabled():
        other_group = ProductGroup.objects.create(slug="telephony-network", name="Telephony")
        from tests.factories import _service

        routing = _service()
        ivr = type(routing).objects.create(
            slug="ivr-x", name="IVR X", product_group=other_group, checklist="-"
        )
    cases = {
        "mine_new": make_case(org_a, dc_a, "new", owner=analyst),
        "mine_closed": make_case(org_a, dc_a, "resolved", owner=analyst),
        "managers": make_case(org_b, dc_b, "investigation", owner=manager),
        "unassigned": make_case(org_b, dc_b, "customer_responded"),
        "info": make_case(org_a, dc_a, "info_required", owner=manager),
        "proposed": make_case(org_a, dc_a, "solution_proposed"),
        "ivr": make_case(
            org_b, dc_b, "pending_rca", owner=manager, service=ivr, product_group=other_group
        ),
    }
    return cases, other_group


def _listed(client, query: str) -> set[int]:
    response = client.get(f"{CHANGELIST}?{query}")
    assert response.status_code == 200, response
    return {c.pk for c in response.context["cl"].result_list}


def test_queue_filters_return_the_right_rows(client, analyst, queue_world, org_b, manager):
    cases, group = queue_world
    pk = {name: case.pk for name, case in cases.items()}
    client.force_login(analyst)

    assert _listed(client, "queue=mine") == {pk["mine_new"]}
    assert _listed(client, "queue=unassigned") == {pk["unassigned"], pk["proposed"]}
    assert _listed(client, "queue=awaiting") == {pk["info"], pk["proposed"]}
    assert _listed(client, f"queue=group-{group.slug}") == {pk["ivr"]}
    assert _listed(client, "queue=group-routing-self-service") == (
        set(pk.values()) - {pk["ivr"], pk["mine_closed"]}
    )
    assert _listed(client, "queue=open") == set(pk.values()) - {pk["mine_closed"]}
    assert _listed(client, "") == set(pk.values())
    # Other filters combine with a queue.
    assert _listed(client, f"queue=open&organization={org_b.pk}") == {
        pk["managers"],
        pk["unassigned"],
        pk["ivr"],
    }
    assert _listed(client, f"owner={manager.pk}") == {pk["managers"], pk["info"], pk["ivr"]}
    assert _listed(client, "owner=none&queue=open") == {pk["unassigned"], pk["proposed"]}
    assert _listed(client, "status__exact=awaiting_info") == {pk["info"]}
    assert _listed(client, "sub_status__exact=pending_rca") == {pk["ivr"]}
    assert _listed(client, "priority__exact=medium") == set(pk.values())
    assert _listed(client, "type__exact=support") == set(pk.values())
    assert _listed(client, f"product_group__id__exact={group.pk}") == {pk["ivr"]}


def test_queue_of_another_analyst_is_theirs(client, manager, queue_world):
    cases, _ = queue_world
    client.force_login(manager)

    assert _listed(client, "queue=mine") == {
        cases["managers"].pk,
        cases["info"].pk,
        cases["ivr"].pk,
    }


def test_unknown_queue_or_owner_is_reported_not_ignored(client, analyst, queue_world):
    client.force_login(analyst)

    for query in ("queue=nope", "owner=abc", "organization=abc"):
        response = client.get(f"{CHANGELIST}?{query}")
        assert response.status_code == 302
        assert response["Location"].endswith("?e=1")


def test_search_by_number_subject_and_organization(client, analyst, case_a, case_b):
    for case in (case_a, case_b):  # as case_open does (the factory writes rows directly)
        search_document_append(case_id=case.pk, text=f"{case.subject}\n{case.description}")
    client.force_login(analyst)

    assert _listed(client, f"q={case_a.display_number}") == {case_a.pk}
    assert _listed(client, f"q=%23{case_b.number}") == {case_b.pk}
    assert _listed(client, "q=greeting") == {case_b.pk}
    assert _listed(client, "q=Org+A") == {case_a.pk}
    assert _listed(client, 'q="Org+A"') == {case_a.pk}
    assert _listed(client, "q=org") == {case_a.pk, case_b.pk}
    # Words also find the description and public updates (the portal's search, C-14).
    softphone = make_case(case_a.organization, case_a.contact, description="Softphone error")
    search_document_append(
        case_id=softphone.pk, text=f"{softphone.subject}\n{softphone.description}"
    )
    assert _listed(client, "q=softphone") == {softphone.pk}
    assert _listed(client, "q=99999999") == set()


def test_list_columns(client, analyst, case_a):
    # DOMAIN C-1: the number is shown with 8 digits.
    client.force_login(analyst)

    page = client.get(CHANGELIST).content.decode()

    for text in (case_a.display_number, "Org A", "Agents cannot log in", "Medium", "New"):
        assert text in page
    assert len(case_a.display_number) == 8


def _world_of(size: int, analyst) -> None:
    """``size`` cases, each of its own organization, contact and owner: any per-row query
    would show as a query count that grows with the rows."""
    from accounts.models import AccessLevel
    from tests.factories import member_of

    staff = [analyst, *(UserFactory(is_staff=True) for _ in range(3))]
    from django.contrib.auth.models import Group

    care = Group.objects.get(name="CARE_ANALYST")
    for user in staff[1:]:
        user.groups.add(care)
    start = Case.unscoped.count()
    for i in range(start, size):
        with scopes_disabled():
            org = OrganizationFactory()
            DeploymentFactory(organization=org)
        contact = member_of(org, AccessLevel.DESIGNATED_CONTACT, f"dc{i}@list.example")
        make_case(
            org,
            contact,
            ["new", "investigation", "info_required"][i % 3],
            owner=staff[i % 5] if i % 5 < len(staff) else None,
            priority=["low", "medium", "high", "critical"][i % 4],
        )


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), len(response.context["cl"].result_list)


@pytest.mark.parametrize("query", ["all=", "queue=open&all=", "queue=mine&o=4.-7&all="])
def test_changelist_query_count_is_the_same_at_10_and_100_rows(client, analyst, query):
    # No per-row queries (list_select_related, annotations only).
    client.force_login(analyst)
    url = f"{CHANGELIST}?{query}"
    _world_of(10, analyst)
    client.get(url)  # warm-up: the content types, the session
    small, rows_small = _queries(client, url)

    _world_of(100, analyst)
    large, rows_large = _queries(client, url)

    assert rows_large > rows_small
    if "mine" not in query:
        assert (rows_small, rows_large) == (10, 100)
    assert small == large


def test_changelist_query_count_of_the_default_page(client, analyst):
    client.force_login(analyst)
    _world_of(10, analyst)
    client.get(CHANGELIST)
    small, _ = _queries(client, CHANGELIST)
    _world_of(100, analyst)

    large, rows = _queries(client, CHANGELIST)

    assert rows == CaseAdmin.list_per_page
    assert small == large


# --- counting without COUNT(*) of the whole table ----------------------------------------


def test_paginator_caps_the_count(case_a, org_a, dc_a, monkeypatch):
    monkeypatch.setattr(CheapCountPaginator, "cap", 3)
    for _ in range(4):
        make_case(org_a, dc_a)
    with scopes_disabled():
        filtered = CheapCountPaginator(Case.objects.filter(organization=org_a), 2)
        small = CheapCountPaginator(Case.objects.filter(pk=case_a.pk), 2)

        assert (filtered.count, filtered.is_capped, filtered.num_pages) == (4, True, 2)
        assert (small.count, small.is_capped, small.is_estimate) == (1, False, False)


def test_changelist_says_more_than_when_capped(client, analyst, org_a, dc_a, monkeypatch):
    monkeypatch.setattr(CheapCountPaginator, "cap", 2)
    for _ in range(3):
        make_case(org_a, dc_a)
    client.force_login(analyst)

    page = client.get(f"{CHANGELIST}?queue=open").content.decode()

    assert "More than 2 cases" in page


@postgres
def test_paginator_uses_the_planner_estimate_for_an_unfiltered_big_table(org_a, dc_a, monkeypatch):
    monkeypatch.setattr(CheapCountPaginator, "cap", 3)
    for _ in range(6):
        make_case(org_a, dc_a)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_case")
    with scopes_disabled():
        paginator = CheapCountPaginator(Case.objects.order_by("-modified_at"), 2)

        with CaptureQueriesContext(connection) as ctx:
            count = paginator.count

    assert (count, paginator.is_estimate) == (6, True)
    assert "pg_class" in ctx.captured_queries[0]["sql"]
    assert "COUNT" not in ctx.captured_queries[0]["sql"].upper()


# --- the analyst's home ------------------------------------------------------------------


def test_home_counts_each_queue_and_lists_my_open_cases(client, analyst, queue_world):
    cases, group = queue_world
    client.force_login(analyst)

    response = client.get(HOME)

    counts = {row["queue"].key: row["count"] for row in response.context["queues"]}
    groups = set(ProductGroup.objects.values_list("slug", flat=True))
    assert counts == {
        **{f"group-{slug}": 0 for slug in groups},
        "mine": 1,
        "sla": 0,
        "unassigned": 2,
        "awaiting": 2,
        "group-routing-self-service": 5,
        f"group-{group.slug}": 1,
        "open": 6,
    }
    assert [c.pk for c in response.context["my_cases"]] == [cases["mine_new"].pk]
    assert cases["mine_new"].display_number in response.content.decode()


# --- audit and tenant scoping ------------------------------------------------------------


def test_case_pages_are_audited(client, analyst, case_a):
    # Every staff view of tenant data leaves a row (T-5).
    client.force_login(analyst)

    client.get(f"{CHANGELIST}?queue=open")
    client.get(change_url(case_a))
    client.get(HOME)

    rows = list(
        AuditLogEntry.objects.order_by("id").values_list(
            "actor_id", "action", "model", "object_repr", "organization_id", "path"
        )
    )
    assert rows == [
        (analyst.pk, "list", "cases.case", "", None, f"{CHANGELIST}?queue=open"),
        (
            analyst.pk,
            "view",
            "cases.case",
            case_a.display_number,
            case_a.organization_id,
            change_url(case_a),
        ),
        (analyst.pk, "list", "cases.case home", "", None, HOME),
    ]


def test_refused_pages_are_not_audited_as_views(client, product_manager, case_a):
    client.force_login(product_manager)

    client.get(change_url(case_a))
    client.get(CHANGELIST)

    assert not AuditLogEntry.objects.exists()


def test_admin_requests_run_without_tenant_scope(client, analyst, case_a, case_b):
    # The middleware disables scoping for staff: both tenants' cases are listed.
    client.force_login(analyst)

    assert _listed(client, "") == {case_a.pk, case_b.pk}


def test_admin_views_disable_scoping_even_when_called_inside_a_scope(analyst, case_a, case_b):
    # Robust without the middleware: inside an empty tenant scope, where any query of a
    # tenant model would be limited to nothing (or raise outside any scope).
    request = RequestFactory().get(CHANGELIST)
    request.user = analyst
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    view = resolve(CHANGELIST).func

    with tenant_scope(()):
        assert Case.objects.count() == 0  # the scope itself shows nothing
        response = view(request)

    assert response.status_code == 200
    assert {c.pk for c in response.context_data["cl"].result_list} == {case_a.pk, case_b.pk}


def test_admin_view_outside_any_scope_still_works(analyst, case_a):
    # Outside any scope a tenant query raises; the admin view disables scoping itself.
    request = RequestFactory().get(CHANGELIST)
    request.user = analyst
    request.session = SessionStore()
    request._messages = FallbackStorage(request)

    with pytest.raises(ScopeError):
        Case.objects.count()
    response = resolve(CHANGELIST).func(request)

    assert response.status_code == 200


def test_closed_case_history_shows_the_closure(client, analyst, case_a):
    client.force_login(analyst)
    client.post(act_url(case_a, "resolve"), {"body": "Fixed in release 24.3."})

    page = client.get(change_url(case_a)).content.decode()

    assert "The case is closed" in page
    assert "Sub status: New → Resolved" in page
    assert reload(case_a).closed_at is not None
    assert reload(case_a).closed_at - reload(case_a).modified_at < timedelta(seconds=1)


# --- the catalogue: cloud services and their checklists (T-3) ----------------------------


def _service_form(client, service) -> dict:
    page = client.get(reverse("admin:cases_cloudservice_change", args=[service.pk]))
    form = page.context["adminform"].form
    return {name: form[name].value() for name in form.fields if form[name].value() is not None}


@pytest.mark.parametrize(("role", "saved"), [("manager", True), ("analyst", False)])
def test_manager_edits_a_service_checklist_and_an_analyst_cannot(
    request, client, manager, role, saved
):
    # DOMAIN T-3: each service has an intake checklist shown when a case is opened.
    from tests.factories import _service

    service = _service()
    client.force_login(manager)
    data = {**_service_form(client, service), "checklist": "- Call examples\n- Time zone"}
    data["is_active"] = "on"
    client.force_login(request.getfixturevalue(role))

    response = client.post(reverse("admin:cases_cloudservice_change", args=[service.pk]), data)

    service.refresh_from_db()
    assert response.status_code == (302 if saved else 403)
    assert (service.checklist == "- Call examples\n- Time zone") is saved
