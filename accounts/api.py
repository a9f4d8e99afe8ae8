"""REST API v1 for people and tenants: tokens, the caller, their organizations (T-4 … T-8)."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from accounts.models import AccessLevel, Deployment, Organization, User
from accounts.selectors import access_levels, organizations_for_user
from core.api import ApiGenericView, ApiView

# Access levels on the wire are lowercase, like every other enum value.
ACCESS_LEVEL_CHOICES = [(value.lower(), label) for value, label in AccessLevel.choices]


def _wire_level(level: str | None) -> str | None:
    return level.lower() if level else None


# --- token ---------------------------------------------------------------------------------


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)

    def validate(self, attrs: dict) -> dict:
        email, password = attrs["email"].strip(), attrs["password"]
        user = authenticate(self.context["request"]._request, email=email, password=password)
        if user is None:
            inactive = User.objects.filter(email__iexact=email, is_active=False).first()
            # Said only to someone who knows the password, so it tells a stranger nothing.
            if inactive is not None and inactive.check_password(password):
                raise serializers.ValidationError(
                    "This account is deactivated. Ask a designated contact of your "
                    "organization or Customer Care to reactivate it."
                )
            raise serializers.ValidationError(
                "Unable to sign in: the email address or the password is wrong."
            )
        attrs["user"] = user
        return attrs


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")


class TokenView(ApiView):
    """Trades an email and password for the user's API token, and revokes it."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth-token"

    def get_authenticators(self):
        # Obtaining a token needs no session (so no CSRF token); revoking needs the token.
        if self.request is not None and self.request.method == "DELETE":
            return [TokenAuthentication()]
        return []

    def get_permissions(self):
        if self.request.method == "DELETE":
            return [IsAuthenticated()]
        return [AllowAny()]

    @extend_schema(
        operation_id="auth_token_create",
        summary="Get an API token",
        description="Email (any case) and password in; the user's token out. The same token "
        "is returned until it is revoked.",
        request=TokenRequestSerializer,
        responses={
            200: TokenSerializer,
            400: OpenApiResponse(description="Wrong email or password, or inactive account."),
        },
        auth=[],
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        serializer = TokenRequestSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        token, _ = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})

    @extend_schema(
        operation_id="auth_token_destroy",
        summary="Revoke the API token",
        description="Deletes the token this request is authenticated with.",
        request=None,
        responses={204: None, 401: OpenApiResponse(description="Not signed in.")},
        tags=["auth"],
    )
    def delete(self, request: Request) -> Response:
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- me ------------------------------------------------------------------------------------


class MembershipSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    access_level = serializers.ChoiceField(choices=ACCESS_LEVEL_CHOICES)


class MeSerializer(serializers.ModelSerializer):
    organizations = serializers.SerializerMethodField(
        help_text="Organizations you can see and your access level in each (T-4, T-8)."
    )
    roles = serializers.SerializerMethodField(help_text="Care roles of staff (T-5).")

    class Meta:
        model = User
        fields = (
            "email",
            "display_name",
            "phone",
            "time_zone",
            "is_staff",
            "roles",
            "organizations",
        )
        read_only_fields = fields

    @extend_schema_field(MembershipSerializer(many=True))
    def get_organizations(self, user: User) -> list[dict]:
        levels = access_levels(user)
        organizations = Organization.objects.filter(pk__in=levels, is_active=True)
        return [
            {"slug": o.slug, "name": o.name, "access_level": _wire_level(levels[o.pk])}
            for o in organizations.order_by("name")
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_roles(self, user: User) -> list[str]:
        if not user.is_staff:
            return []
        return sorted(name.lower() for name in user.groups.values_list("name", flat=True))


class MeView(ApiView):
    @extend_schema(
        operation_id="me_retrieve",
        summary="The signed-in user",
        responses={200: MeSerializer, 401: OpenApiResponse(description="Not signed in.")},
        tags=["people"],
    )
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)


# --- organizations -------------------------------------------------------------------------


class DeploymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Deployment
        fields = ("id", "name", "code")
        read_only_fields = fields


class OrganizationSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=Organization.Kind.choices)
    support_level = serializers.SerializerMethodField()
    access_level = serializers.SerializerMethodField(
        help_text="Your access level here; null for Customer Care."
    )
    deployments = DeploymentSerializer(many=True)

    class Meta:
        model = Organization
        fields = ("slug", "name", "kind", "support_level", "access_level", "deployments")
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_support_level(self, organization: Organization) -> str:
        return organization.support_level.lower()

    @extend_schema_field(serializers.ChoiceField(choices=ACCESS_LEVEL_CHOICES, allow_null=True))
    def get_access_level(self, organization: Organization) -> str | None:
        return _wire_level(self.context["levels"].get(organization.pk))


class OrganizationListView(mixins.ListModelMixin, ApiGenericView):
    serializer_class = OrganizationSerializer
    queryset = Organization.objects.none()  # schema hint only: see get_queryset

    def get_queryset(self):
        active = Deployment.objects.filter(is_active=True).order_by("name")
        return (
            organizations_for_user(self.request.user)
            .filter(is_active=True)
            .prefetch_related(Prefetch("deployments", queryset=active))
            .order_by("name")
        )

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "levels": access_levels(self.request.user)}

    @extend_schema(
        operation_id="organizations_list",
        summary="Your organizations",
        description="The organizations you can see, with their active deployments (for "
        "opening cases) and your access level. Customer Care see every organization.",
        responses={
            200: OrganizationSerializer(many=True),
            401: OpenApiResponse(description="Not signed in."),
        },
        tags=["people"],
    )
    def get(self, request: Request) -> Response:
        return self.list(request)
