"""What the case API's OpenAPI schema shares between its operations (and with the
escalation API): the case number parameter and the error answers."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CASE_NUMBER = OpenApiParameter(
    "number",
    str,
    OpenApiParameter.PATH,
    description="The case number as shown (8 digits; leading zeros may be left out).",
)


class ErrorDetailSerializer(serializers.Serializer):
    """The body of a 401, 403, 404 or 409."""

    detail = serializers.CharField()


def error_responses(*codes: int, texts: dict[int, str] | None = None) -> dict[int, OpenApiResponse]:
    """The schema's error answers for these status codes; ``texts`` words some differently."""
    text = {
        400: 'Invalid input: field errors, {"field": ["message"]}.',
        401: "Not signed in.",
        403: "Allowed to see this but not to do it.",
        404: "No such case, or not visible to you.",
        409: "Not possible from the case's current status, or changed concurrently.",
        **(texts or {}),
    }
    return {
        code: OpenApiResponse(
            response=None if code == 400 else ErrorDetailSerializer, description=text[code]
        )
        for code in codes
    }
