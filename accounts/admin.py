"""Care workspace pages for people and tenants. The admin runs with tenant scoping disabled
(staff see every organization, T-5)."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils import timezone

from accounts.models import (
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


@admin.register(User)
class UserAdmin(BaseUserAdmin):
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


class DeploymentInline(admin.TabularInline):
    model = Deployment
    extra = 0
    fields = ["code", "name", "is_active"]


class EmailDomainInline(admin.TabularInline):
    model = EmailDomain
    extra = 0
    fields = ["domain", "verified_at"]


class ResellerLinkInline(admin.TabularInline):
    model = ResellerLink
    fk_name = "reseller"
    extra = 0
    autocomplete_fields = ["end_user"]
    verbose_name = "end-user organization"
    verbose_name_plural = "end-user organizations (for reseller partners)"


class ShortOfContactsFilter(admin.SimpleListFilter):
    title = "designated contacts"
    parameter_name = "dcs"

    def lookups(self, request, model_admin):
        return [("short", "Fewer than two (T-7)")]

    def queryset(self, request, queryset):
        if self.value() == "short":
            return organizations_short_of_designated_contacts(queryset)
        return queryset


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "support_level", "is_active"]
    list_filter = ["kind", "support_level", "is_active", ShortOfContactsFilter]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [DeploymentInline, EmailDomainInline, MembershipInline, ResellerLinkInline]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if (
            obj is not None
            and organizations_short_of_designated_contacts(
                Organization.objects.filter(pk=obj.pk)
            ).exists()
        ):
            self.message_user(
                request,
                f"{obj.name} has fewer than two designated contacts (T-7).",
                messages.WARNING,
            )
        return super().change_view(request, object_id, form_url, extra_context)


class ClosureInline(admin.TabularInline):
    model = CalendarClosure
    extra = 0
    fields = ["day", "reason"]


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ["organization", "time_zone", "hours", "holiday_country", "holiday_subdivision"]
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
