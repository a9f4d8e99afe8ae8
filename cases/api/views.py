"""REST API v1 for cases: a thin edge over the selectors and services (C-1 … C-16).

Reads start from ``cases.selectors``; every write is one call of a ``cases.services``
function with ``channel="api"``. Domain errors become 400/403/404/409 in
``core.api.exception_handler``.
"""

from __future__ import annotations

from django.http import FileResponse, HttpResponse
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import AccessLevel
from accounts.selectors import access_levels, visible_organizations
from cases import selectors, services
from cases.actions import POST_UPDATE
from cases.api.inputs import CaseCreateSerializer, UpdateCreateSerializer
from cases.api.openapi import CASE_NUMBER, XLSX, ErrorDetailSerializer, error_responses
from cases.api.serializers import (
    CaseDetailSerializer,
    CaseEventSerializer,
    CaseListSerializer,
    CaseUpdateSerializer,
    CloudServiceSerializer,
)
from cases.downloads import attachment_response
from cases.filters import CaseFilterSet, case_filterset_for
from cases.models import Case, Channel, CloudService
from cases.reports.export import LIST_COLUMNS, cases_xlsx_response
from core.api import ApiGenericView, ApiView
from core.audit.services import audit_staff_access
from core.errors import NotAllowed
from core.parsers import JSONParser


def detail_response(request: Request, case: Case, *, code: int = status.HTTP_200_OK) -> Response:
    # Read the case again through the selector: the caller sees it as stored, with what the
    # detail shows (organization, contact, owner) joined in.
    case = selectors.case_get_for_user(user=request.user, number=case.number)
    context = {"request": request, "now": timezone.now()}
    return Response(CaseDetailSerializer(case, context=context).data, status=code)


class _CaseFilterBackend(DjangoFilterBackend):
    """Filters with the filters the request gives a value only (see case_filterset_for);
    the schema still lists every filter of CaseFilterSet."""

    def get_filterset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return None
        if filterset_class is CaseFilterSet:
            filterset_class = case_filterset_for(request.query_params)
        return filterset_class(**self.get_filterset_kwargs(request, queryset, view))


class _CaseFilters:
    """The filters of C-13, from the same FilterSet as the portal's lists and exports."""

    filterset_class = CaseFilterSet
    filter_backends = [_CaseFilterBackend]
    # A hint for the schema generator only (it is never queried): the rows come from
    # get_queryset, which starts from what the caller may see.
    queryset = Case.unscoped.none()

    def get_queryset(self):
        return selectors.case_list_for_user(user=self.request.user)


MULTIPART_OR_JSON = (JSONParser, MultiPartParser, FormParser)


class CaseListView(_CaseFilters, mixins.ListModelMixin, ApiGenericView):
    serializer_class = CaseListSerializer
    parser_classes = MULTIPART_OR_JSON

    @extend_schema(
        operation_id="cases_list",
        summary="List cases",
        description="The cases you may see, most recently updated first, filtered as in "
        "All Cases (C-13). `mine=true` gives only the cases you are the contact of.",
        responses={200: CaseListSerializer(many=True), **error_responses(400, 401, 403)},
        tags=["cases"],
    )
    def get(self, request: Request) -> Response:
        if not selectors.sees_cases(request.user):
            # As the portal's lists (T-4): Basic users and staff outside care have no cases.
            raise NotAllowed("Your access level does not include cases.")
        return self.list(request)

    @extend_schema(
        operation_id="cases_create",
        summary="Open a case",
        description="Designated contacts open cases (C-2 … C-5). Send JSON, or multipart "
        "form data with `attachments` files.",
        request={
            "application/json": CaseCreateSerializer,
            "multipart/form-data": CaseCreateSerializer,
        },
        responses={201: CaseDetailSerializer, **error_responses(400, 401, 403)},
        tags=["cases"],
    )
    def post(self, request: Request) -> Response:
        user = request.user
        if user.is_staff:
            raise NotAllowed("Cases are opened by the customer's designated contacts.")
        levels = access_levels(user)
        # The request's organizations, read with the memberships when there is one.
        organizations = {org.slug: org for org in visible_organizations(user)}
        can_open = [
            org
            for org in organizations.values()
            if levels[org.pk] == AccessLevel.DESIGNATED_CONTACT
        ]
        serializer = CaseCreateSerializer(
            data=request.data,
            context={"organizations": organizations, "case_organizations": can_open},
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        case = services.case_open(
            actor=user,
            data=services.CaseInput(
                organization=data["organization"],
                deployment_id=data["deployment"],
                service_slug=data.get("service") or None,
                type=data["type"],
                sub_type=data.get("sub_type") or "",
                implementation_stage=data.get("implementation_stage") or "",
                subject=data["subject"],
                description=data["description"],
                priority=data["priority"],
                business_impact=data["business_impact"],
                affected_count=data.get("affected_count"),
                external_reference=data.get("external_reference", ""),
            ),
            channel=Channel.API,
            now=timezone.now(),
            uploads=data.get("attachments", []),
        )
        # The case as the service stored it: every field the detail shows is on the instance
        # (organization, deployment, service and contact are the objects the service wrote,
        # the SLA targets were set on it), so it is not read back.
        context = {"request": request, "now": timezone.now()}
        data = CaseDetailSerializer(case, context=context).data
        return Response(data, status=status.HTTP_201_CREATED, headers={"Location": data["url"]})


class CaseExportView(_CaseFilters, ApiGenericView):
    """The filtered list as an Excel file: exactly the rows the same filters list."""

    def perform_content_negotiation(self, request, force=False):
        # Clients ask for the spreadsheet type, which no API renderer offers; errors still
        # answer in JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="cases_export",
        summary="Export cases to Excel",
        description="The cases the same filters as `GET /api/v1/cases/` give, every row "
        "(not paginated), as an .xlsx file.",
        parameters=[
            OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.QUERY, description=text)
            for name, text in (
                ("mine", "true: only cases you are the contact of."),
                ("status", "Status; repeat for several."),
                ("sub_status", "Sub-status; repeat for several."),
                ("priority", "Priority; repeat for several."),
                ("type", "Type; repeat for several."),
                ("organization", "Organization slug; repeat for several."),
                ("deployment", "Deployment id; repeat for several."),
                ("service", "Service slug; repeat for several."),
                ("contact", "Contact's user id."),
                ("q", "A case number or keywords."),
                ("opened_after", "Opened on or after this date (YYYY-MM-DD, UTC)."),
                ("opened_before", "Opened on or before this date (YYYY-MM-DD, UTC)."),
                ("ordering", "Sort field; prefix with - for descending."),
            )
        ],
        responses={(200, XLSX): OpenApiTypes.BINARY, **error_responses(400, 401)},
        tags=["cases"],
    )
    def get(self, request: Request) -> HttpResponse:
        queryset = self.filter_queryset(self.get_queryset())
        filename = f"cases-{timezone.now():%Y-%m-%d}.xlsx"
        return cases_xlsx_response(queryset=queryset, columns=LIST_COLUMNS, filename=filename)


class CaseDetailView(ApiView):
    @extend_schema(
        operation_id="cases_retrieve",
        summary="A case",
        parameters=[CASE_NUMBER],
        responses={200: CaseDetailSerializer, **error_responses(401, 404)},
        tags=["cases"],
    )
    def get(self, request: Request, number: str) -> Response:
        case = selectors.case_get_for_user(user=request.user, number=number)
        audit_staff_access(request, case)
        context = {"request": request, "now": timezone.now()}
        return Response(CaseDetailSerializer(case, context=context).data)


class _CaseChildList(ApiGenericView):
    """A paginated list that hangs off one visible case."""

    def get_case(self) -> Case:
        if not hasattr(self, "_case"):
            self._case = selectors.case_get_for_user(
                user=self.request.user, number=self.kwargs["number"]
            )
        return self._case

    def paginated(self, queryset) -> Response:
        page = self.paginate_queryset(queryset)
        serializer = self.get_serializer(page, many=True)
        return self.get_paginated_response(serializer.data)


class CaseUpdatesView(_CaseChildList):
    serializer_class = CaseUpdateSerializer
    parser_classes = MULTIPART_OR_JSON
    queryset = Case.unscoped.none()  # schema hint only, see get_case

    @extend_schema(
        operation_id="cases_updates_list",
        summary="The case feed",
        description="Updates, newest first (C-9). Customers get public updates only; "
        "Customer Care also gets internal notes.",
        parameters=[CASE_NUMBER],
        responses={200: CaseUpdateSerializer(many=True), **error_responses(401, 404)},
        tags=["cases"],
    )
    def get(self, request: Request, number: str) -> Response:
        return self.paginated(selectors.case_feed(user=request.user, case=self.get_case()))

    @extend_schema(
        operation_id="cases_updates_create",
        summary="Post an update",
        description="A public update, or for Customer Care an internal note (`internal`). "
        "A customer's update to a case awaiting them moves it to Customer Responded (C-8); "
        "`requested_priority` asks for a priority change (C-6). JSON, or multipart form "
        "data with `attachments` files (C-10).",
        parameters=[CASE_NUMBER],
        request={
            "application/json": UpdateCreateSerializer,
            "multipart/form-data": UpdateCreateSerializer,
        },
        responses={201: CaseUpdateSerializer, **error_responses(400, 401, 403, 404, 409)},
        tags=["cases"],
    )
    def post(self, request: Request, number: str) -> Response:
        case = self.get_case()
        serializer = UpdateCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        update = POST_UPDATE.run(
            case=case,
            actor=request.user,
            data=serializer.validated_data,
            channel=Channel.API,
            now=timezone.now(),
        )
        update = selectors.case_feed(user=request.user, case=case).get(pk=update.pk)
        return Response(
            self.get_serializer(update).data,
            status=status.HTTP_201_CREATED,
        )


class CaseHistoryView(_CaseChildList):
    serializer_class = CaseEventSerializer
    queryset = Case.unscoped.none()  # schema hint only, see get_case

    @extend_schema(
        operation_id="cases_history_list",
        summary="The case history",
        description="Every change, newest first, with who, when and from which channel "
        "(C-16). Customers do not get care-internal events.",
        parameters=[CASE_NUMBER],
        responses={200: CaseEventSerializer(many=True), **error_responses(401, 404)},
        tags=["cases"],
    )
    def get(self, request: Request, number: str) -> Response:
        return self.paginated(selectors.case_history(user=request.user, case=self.get_case()))


# --- catalogue and files -------------------------------------------------------------------


class ServiceListView(ApiView):
    @extend_schema(
        operation_id="services_list",
        summary="Cloud services",
        description="The services cases are opened about (T-3), with their intake checklist.",
        responses={200: CloudServiceSerializer(many=True), **error_responses(401)},
        tags=["catalogue"],
    )
    def get(self, request: Request) -> Response:
        services_ = CloudService.objects.filter(is_active=True).select_related("product_group")
        return Response(CloudServiceSerializer(services_, many=True).data)


class AttachmentDownloadView(ApiView):
    """A file of an update, for callers who may see it (C-10), always as a download."""

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="attachments_download",
        summary="Download an attachment",
        parameters=[OpenApiParameter("token", str, OpenApiParameter.PATH)],
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            **error_responses(401),
            404: OpenApiResponse(
                response=ErrorDetailSerializer, description="No such file, or not visible to you."
            ),
        },
        tags=["files"],
    )
    def get(self, request: Request, token: str) -> FileResponse:
        attachment = selectors.attachment_get_for_user(user=request.user, token=token)
        audit_staff_access(request, attachment, action="download")
        return attachment_response(attachment)
