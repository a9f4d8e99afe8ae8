"""Care workspace pages for people and tenants (T-1 … T-9, B-1).

The admin runs with tenant scoping disabled (staff see every organization, T-5) and
records each staff look at an organization, its calendar or a user (core.audit.services). Care
managers manage organizations: members and access levels, deployments, calendars and
closures, email domains, reseller links; analysts and product managers read them.
"""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts.models import (
    AccessLevel,
    BusinessCalendar,
    CalendarClosure,
    Deployment,
    EmailDomain,
    Membership,
    Organization,
    ResellerLink,
    User,
)
from accounts.selectors import organizations_short_of_designated_contacts
from accounts.services import calendar_snapshot_holidays, snapshot_years
from cases.sla import sla_recompute_for_organization
from core.care_admin import CareAdminMixin

MIN_DESIGNATED_CONTACTS = 2  # T-7
# Who may hand out staff roles or superuser rights: only superusers, so a manager who may
# edit customer users cannot promote anyone (themselves included).
STAFF_FIELDS = ("is_staff", "is_superuser", "groups")


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "display_name")


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "access_level", "created_at"]
    readonly_fields = ["created_at"]
    verbose_name = "member"
    verbose_name_plural = "members and access levels (T-4)"


class UserMembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    autocomplete_fields = ["organization"]
    fields = ["organization", "access_level", "created_at"]
    readonly_fields = ["created_at"]
    verbose_name = "organization"
    verbose_name_plural = "organizations and access levels (T-4)"


@admin.register(User)
class UserAdmin(CareAdminMixin, BaseUserAdmin):
    audit_label = "accounts.user"
    audit_objects = True

    form = UserEditForm
    add_form = UserCreationForm
    ordering = ["email"]
    list_display = ["email", "display_name", "is_staff", "is_active", "last_login"]
    list_filter = ["is_staff", "is_active", "groups"]
    search_fields = ["email", "display_name"]
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("display_name", "phone", "time_zone")}),
        ("Care team", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {"classes": ("wide",), "fields": ("email", "display_name", "password1", "password2")},
        ),
    )
    filter_horizontal = ["groups"]

    def get_inlines(self, request, obj):
        # A customer user's organizations; care staff have none (T-5).
        if obj is None or obj.is_staff:
            return []
        return [UserMembershipInline]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += [f for f in STAFF_FIELDS if f not in fields]
        return fields

    def has_change_permission(self, request, obj=None) -> bool:
        # Staff accounts (and their passwords) are the superusers' to manage.
        if obj is not None and obj.is_staff and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)


class DeploymentInline(admin.TabularInline):
    model = Deployment
    extra = 0
    fields = ["code", "name", "is_active"]
    verbose_name_plural = "deployments (Account/Depl, T-2)"


class EmailDomainInline(admin.TabularInline):
    model = EmailDomain
    extra = 0
    fields = ["domain", "verified_at"]
    verbose_name_plural = "email domains (T-9)"


class EndUserLinkInline(admin.TabularInline):
    """On a reseller partner: the end-user organizations it manages cases for (T-8)."""

    model = ResellerLink
    fk_name = "reseller"
    extra = 0
    autocomplete_fields = ["end_user"]
    fields = ["end_user", "created_at"]
    readonly_fields = ["created_at"]
    verbose_name = "end-user organization"
    verbose_name_plural = "end-user organizations (T-8)"


class ResellerPartnerInline(admin.TabularInline):
    """On a customer: the reseller partners that manage its cases (T-8)."""

    model = ResellerLink
    fk_name = "end_user"
    extra = 0
    autocomplete_fields = ["reseller"]
    fields = ["reseller", "created_at"]
    readonly_fields = ["created_at"]
    verbose_name = "reseller partner"
    verbose_name_plural = "reseller partners (T-8)"


class ShortOfContactsFilter(admin.SimpleListFilter):
    title = "designated contacts"
    parameter_name = "dcs"

    def lookups(self, request, model_admin):
        return [("short", "Fewer than two (T-7)")]

    def queryset(self, request, queryset):
        if self.value() == "short":
            return organizations_short_of_designated_contacts(queryset)
        return queryset


def _t7_warning(name: str) -> str:
    return (
        f"{name} has fewer than {MIN_DESIGNATED_CONTACTS} designated contacts (T-7): "
        "ask the organization to name another."
    )


@admin.register(Organization)
class OrganizationAdmin(CareAdminMixin, admin.ModelAdmin):
    audit_label = "accounts.organization"
    audit_objects = True

    list_display = [
        "name",
        "slug",
        "kind",
        "support_level",
        "designated_contacts",
        "is_active",
    ]
    list_filter = ["kind", "support_level", "is_active", ShortOfContactsFilter]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    fieldsets = [
        (None, {"fields": ["name", "slug", "kind", "support_level", "is_active"]}),
        ("Announcements (N-6)", {"fields": ["distribution_list"]}),
        ("Set-up", {"fields": ["designated_contacts", "calendar", "created_at"]}),
    ]
    readonly_fields = ["designated_contacts", "calendar", "created_at"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                dc_count=Count(
                    "membership",
                    filter=Q(
                        membership__access_level=AccessLevel.DESIGNATED_CONTACT,
                        membership__user__is_active=True,
                    ),
                )
            )
        )

    def get_inlines(self, request, obj):
        if obj is None:
            return []
        links = EndUserLinkInline if obj.is_reseller else ResellerPartnerInline
        return [DeploymentInline, EmailDomainInline, MembershipInline, links]

    @admin.display(description="Designated contacts", ordering="dc_count")
    def designated_contacts(self, obj: Organization) -> str:
        count = getattr(obj, "dc_count", None)
        if count is None:
            return "—"
        if count < MIN_DESIGNATED_CONTACTS and obj.is_active:
            return format_html(
                '<strong class="errornote-inline">{} — fewer than {} (T-7)</strong>',
                count,
                MIN_DESIGNATED_CONTACTS,
            )
        return str(count)

    @admin.display(description="Business calendar (B-1)")
    def calendar(self, obj: Organization) -> str:
        if obj.pk is None:
            return "—"
        calendar = BusinessCalendar.objects.filter(organization=obj).first()
        if calendar is not None:
            url = reverse("admin:accounts_businesscalendar_change", args=[calendar.pk])
            return format_html('<a href="{}">{}</a>', url, calendar.describe_hours())
        url = reverse("admin:accounts_businesscalendar_add") + f"?organization={obj.pk}"
        return format_html(
            "None: the defaults apply (Mon–Fri 09:00–17:00 UTC, no holidays). "
            '<a href="{}">Add a calendar</a>',
            url,
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "support_level" in form.changed_data:
            _recompute_service_levels(request, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if (
            request.method == "GET"
            and obj is not None
            and obj.is_active
            and obj.dc_count < MIN_DESIGNATED_CONTACTS
        ):
            self.message_user(request, _t7_warning(obj.name), messages.WARNING)
        return super().change_view(request, object_id, form_url, extra_context)


def _recompute_service_levels(request, organization: Organization) -> None:
    """Due times of open cases follow the support level and the calendar (S-5, S-8, B-1)."""
    changed = sla_recompute_for_organization(organization=organization, now=timezone.now())
    if changed:
        messages.info(
            request,
            f"Service-level due times of {changed} open case(s) of {organization.name} "
            "were recomputed.",
        )


class ClosureInline(admin.TabularInline):
    model = CalendarClosure
    extra = 0
    fields = ["day", "reason"]
    verbose_name_plural = "extra closed days (B-1)"


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(CareAdminMixin, admin.ModelAdmin):
    audit_objects = True

    list_display = ["organization", "time_zone", "hours", "holiday_country", "holiday_subdivision"]
    list_select_related = ["organization"]
    search_fields = ["organization__name"]
    autocomplete_fields = ["organization"]
    readonly_fields = ["snapshot_years"]
    inlines = [ClosureInline]

    @admin.display(description="Hours")
    def hours(self, obj: BusinessCalendar) -> str:
        return obj.describe_hours()

    @admin.display(description="Holidays snapshotted for")
    def snapshot_years(self, obj: BusinessCalendar) -> str:
        return ", ".join(sorted(obj.holiday_snapshot)) or "—"

    def save_formset(self, request, form, formset, change):
        for inline_form in formset.forms:
            if inline_form.instance and not inline_form.instance.organization_id:
                inline_form.instance.organization_id = form.instance.organization_id
        super().save_formset(request, form, formset, change)

    def save_model(self, request, obj, form, change):
        country_changed = {"holiday_country", "holiday_subdivision"} & set(form.changed_data)
        super().save_model(request, obj, form, change)
        calendar_snapshot_holidays(
            calendar=obj, years=snapshot_years(timezone.now()), refresh=bool(country_changed)
        )

    def save_related(self, request, form, formsets, change):
        # After the closures (inline) and the holiday snapshot are saved.
        super().save_related(request, form, formsets, change)
        if not change or form.has_changed() or any(f.has_changed() for f in formsets):
            _recompute_service_levels(request, form.instance.organization)

    def delete_model(self, request, obj):
        organization = obj.organization
        super().delete_model(request, obj)
        _recompute_service_levels(request, organization)

    def delete_queryset(self, request, queryset):
        organizations = list(Organization.objects.filter(businesscalendar__in=queryset))
        super().delete_queryset(request, queryset)
        for organization in organizations:
            _recompute_service_levels(request, organization)
