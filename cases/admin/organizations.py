"""Organizations and their business calendars in the care workspace (T-1 … T-9, B-1).

Care managers manage organizations: members and access levels, deployments, calendars and
closures, email domains, reseller links; analysts and product managers read them. Every look
is audited (``CareAdminMixin``).

These pages live with the cases because saving them may move the due times of open cases:
a new support level (S-5) or calendar (B-1) goes through ``cases.services``, which saves the
change with its history row and recomputes the organization's open cases (S-8). Members are
saved through the membership services (``accounts.admin.save_memberships``); deployments,
email domains and reseller partner links through theirs (``organization_setup``).
"""

from __future__ import annotations

from datetime import date

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.admin import save_memberships
from accounts.models import (
    AccessLevel,
    BusinessCalendar,
    CalendarClosure,
    Membership,
    Organization,
)
from accounts.selectors import organizations_short_of_designated_contacts
from accounts.services import organization_create, organization_update
from accounts.services.calendars import CALENDAR_FIELDS
from accounts.services.organizations import ORGANIZATION_DETAILS
from cases.admin.organization_setup import (
    SETUP_SAVERS,
    DeploymentInline,
    EmailDomainInline,
    EndUserLinkInline,
    ResellerPartnerInline,
)
from cases.services.organizations import (
    calendar_create,
    calendar_delete,
    calendar_update,
    organization_change_support_level,
)
from core.care_admin import CareAdminMixin

MIN_DESIGNATED_CONTACTS = 2  # T-7


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "access_level", "created_at"]
    readonly_fields = ["created_at"]
    verbose_name = "member"
    verbose_name_plural = "members and access levels (T-4)"


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


def _tell_recomputed(request: HttpRequest, organization: Organization, count: int) -> None:
    """Due times of open cases follow the support level and the calendar (S-5, S-8, B-1)."""
    if count:
        messages.info(
            request,
            f"Service-level due times of {count} open case(s) of {organization.name} "
            "were recomputed.",
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
            return render_to_string(
                "admin/accounts/organization/designated_contacts.html",
                {"count": count, "minimum": MIN_DESIGNATED_CONTACTS},
            )
        return str(count)

    @admin.display(description="Business calendar (B-1)")
    def calendar(self, obj: Organization) -> str:
        if obj.pk is None:
            return "—"
        calendar = BusinessCalendar.objects.filter(organization=obj).first()
        context = {
            "calendar_url": calendar
            and reverse("admin:accounts_businesscalendar_change", args=[calendar.pk]),
            "hours": calendar and calendar.describe_hours(),
            "add_url": reverse("admin:accounts_businesscalendar_add") + f"?organization={obj.pk}",
        }
        return render_to_string("admin/accounts/organization/calendar.html", context)

    def save_model(self, request, obj, form, change):
        # Through the services: each change is checked, saved and written to the history.
        now = timezone.now()
        if not change:
            organization_create(organization=obj, actor=request.user, now=now)
            return
        details = {f: form.cleaned_data[f] for f in form.changed_data if f in ORGANIZATION_DETAILS}
        if details:
            organization_update(organization=obj, actor=request.user, changes=details, now=now)
        if "support_level" in form.changed_data:
            recomputed = organization_change_support_level(
                organization=obj,
                actor=request.user,
                support_level=form.cleaned_data["support_level"],
                now=now,
            )
            _tell_recomputed(request, obj, recomputed)

    def save_formset(self, request, form, formset, change):
        # Every inline's rows go through their services, with a history row each.
        if formset.model is Membership:
            save_memberships(request, formset)
        elif formset.model in SETUP_SAVERS:
            SETUP_SAVERS[formset.model](request, formset)
        else:
            super().save_formset(request, form, formset, change)

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


class ClosureInline(admin.TabularInline):
    model = CalendarClosure
    extra = 0
    fields = ["day", "reason"]
    verbose_name_plural = "extra closed days (B-1)"


def _closures_wanted(calendar_pk: int | None, formset: BaseInlineFormSet) -> dict[date, str] | None:
    """The closed days the calendar has once the inline's changes apply ({day: reason}), or
    None if the inline changed nothing. ``formset.save(commit=False)`` has listed them."""
    if not (formset.new_objects or formset.changed_objects or formset.deleted_objects):
        return None
    rows = {c.pk: c for c in CalendarClosure.objects.filter(calendar_id=calendar_pk)}
    for closure in formset.deleted_objects:
        rows.pop(closure.pk, None)
    for closure, _ in formset.changed_objects:
        rows[closure.pk] = closure
    wanted = {c.day: c.reason for c in rows.values()}
    wanted.update({c.day: c.reason for c in formset.new_objects})
    return wanted


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

    def get_readonly_fields(self, request, obj=None):
        # A calendar stays with the organization it was made for: the services change its
        # hours and days, never whose it is.
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "organization"] if obj is not None else fields

    def save_model(self, request, obj, form, change):
        # Saved with its closed days in one service call (save_related), so one history row
        # and one recompute cover the whole form.
        pass

    def save_formset(self, request, form, formset, change):
        # Lists the inline's changes for save_related; the calendar service saves them.
        formset.save(commit=False)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        calendar = form.instance
        closures = None
        for formset in formsets:
            if formset.model is CalendarClosure:
                closures = _closures_wanted(calendar.pk, formset)
        now = timezone.now()
        if change:
            changes = {f: form.cleaned_data[f] for f in form.changed_data if f in CALENDAR_FIELDS}
            recomputed = calendar_update(
                calendar=calendar, actor=request.user, changes=changes, closures=closures, now=now
            )
        else:
            recomputed = calendar_create(
                calendar=calendar, actor=request.user, closures=closures, now=now
            )
        _tell_recomputed(request, calendar.organization, recomputed)

    def delete_model(self, request, obj):
        organization = obj.organization
        recomputed = calendar_delete(calendar=obj, actor=request.user, now=timezone.now())
        _tell_recomputed(request, organization, recomputed)

    def delete_queryset(self, request, queryset):
        for calendar in queryset.select_related("organization"):
            self.delete_model(request, calendar)
