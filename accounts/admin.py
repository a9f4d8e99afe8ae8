"""Care workspace pages for people (T-4, T-5, T-11) and the history of organization changes.

The admin runs with tenant scoping disabled (staff see every organization, T-5) and records
each staff look at a user (core.audit.services). The pages for organizations and their
calendars live in ``cases.admin.organizations``: saving them recomputes the due times of open
cases, which this layer does not know. Membership rows, edited on both the user's and the
organization's page, are saved through the membership services (``save_memberships``).
"""

from datetime import datetime

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import Membership, OrganizationChange, User
from accounts.services import membership_add, membership_change_level, membership_remove
from core.care_admin import CareAdminMixin

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


def save_memberships(request: HttpRequest, formset: BaseInlineFormSet) -> None:
    """Save a membership inline's rows through the membership services (T-4): each added,
    changed or removed member leaves a row in the organization's history. A row that now
    names another user (or organization) ends the old membership and starts the new one."""
    now = timezone.now()
    actor = request.user
    formset.save(commit=False)  # lists what changed (the change message reads it); saves nothing
    for membership in formset.deleted_objects:
        membership_remove(membership=membership, actor=actor, now=now)
    for membership, fields in formset.changed_objects:
        if {"user", "organization"} & set(fields):
            stored = Membership.unscoped.get(pk=membership.pk)
            membership_remove(membership=stored, actor=actor, now=now)
            _add(membership, actor=actor, now=now)
        elif "access_level" in fields:
            membership_change_level(
                membership=membership, actor=actor, access_level=membership.access_level, now=now
            )
    for membership in formset.new_objects:
        _add(membership, actor=actor, now=now)


def _add(membership: Membership, *, actor: User, now: datetime) -> None:
    membership_add(
        organization=membership.organization,
        user=membership.user,
        access_level=membership.access_level,
        actor=actor,
        now=now,
    )


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

    def save_formset(self, request, form, formset, change):
        if formset.model is Membership:
            save_memberships(request, formset)
        else:
            super().save_formset(request, form, formset, change)


@admin.register(OrganizationChange)
class OrganizationChangeAdmin(CareAdminMixin, admin.ModelAdmin):
    """The history of care's changes to organizations: read-only, as history is."""

    list_display = ["created_at", "organization", "kind", "actor", "before", "after"]
    list_filter = ["kind"]
    list_select_related = ["organization", "actor"]
    search_fields = ["organization__name", "actor__email"]
    date_hierarchy = "created_at"
    readonly_fields = ["organization", "kind", "actor", "before", "after", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
