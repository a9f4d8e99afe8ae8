"""The catalogue in the care workspace (T-3): cloud services with their intake checklists,
and the product groups they belong to."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.template.loader import render_to_string
from django.urls import reverse

from cases import policy
from cases.models import CloudService, ProductGroup
from core.care_admin import CareAdminMixin


class CloudServiceAdminForm(forms.ModelForm):
    class Meta:
        model = CloudService
        fields = ["name", "slug", "product_group", "checklist", "is_active"]
        widgets = {"checklist": forms.Textarea(attrs={"rows": 16, "cols": 90})}
        help_texts = {
            "checklist": "The intake checklist pre-filled in the description of a new case "
            "for this service (T-3, C-4).",
        }


@admin.register(CloudService)
class CloudServiceAdmin(CareAdminMixin, admin.ModelAdmin):
    form = CloudServiceAdminForm
    list_display = ["name", "slug", "product_group", "is_active"]
    list_filter = ["product_group", "is_active"]
    list_select_related = ["product_group"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def has_delete_permission(self, request, obj=None) -> bool:
        # Cases point at services; retire one with "active" instead.
        return request.user.is_superuser and super().has_delete_permission(request, obj)


class CloudServiceInline(admin.TabularInline):
    model = CloudService
    extra = 0
    fields = ["name", "slug", "is_active"]
    readonly_fields = ["name", "slug", "is_active"]
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ProductGroup)
class ProductGroupAdmin(CareAdminMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "service_count"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [CloudServiceInline]

    def get_queryset(self, request):
        return (
            super().get_queryset(request).annotate(service_total=Count("services", distinct=True))
        )

    @admin.display(description="Services", ordering="service_total")
    def service_count(self, obj: ProductGroup) -> int:
        return obj.service_total

    def get_list_display(self, request):
        # The link to the group's queue only for those who work cases.
        if policy.is_care(request.user):
            return [*self.list_display, "open_cases"]
        return self.list_display

    @admin.display(description="Queue")
    def open_cases(self, obj: ProductGroup) -> str:
        url = reverse("admin:cases_case_changelist") + f"?queue=group-{obj.slug}"
        return render_to_string("admin/cases/productgroup/queue_link.html", {"url": url})

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)
