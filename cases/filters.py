"""The list filters of C-13, shared by the portal's lists, the API and the exports."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import django_filters as filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Case as When_
from django.db.models import IntegerField, QuerySet, Value, When
from django_filters.fields import ModelMultipleChoiceField

from accounts.models import Deployment, Organization
from cases.models import CaseType, CloudService, Priority, Status, SubStatus
from cases.policy import is_care
from cases.search import search_cases

PRIORITY_ORDER = When_(
    When(priority=Priority.CRITICAL, then=Value(0)),
    When(priority=Priority.HIGH, then=Value(1)),
    When(priority=Priority.MEDIUM, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


def _midnight(day: date) -> datetime:
    """Dates in filters are UTC days, so a filter matches the same rows for everyone."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def _organizations(request):
    if request is None:
        return Organization.objects.none()
    if is_care(request.user):
        return Organization.objects.all()
    return Organization.objects.filter(pk__in=request.organization_ids or ())


def _deployments(request):
    return Deployment.objects.all() if request is not None else Deployment.objects.none()


class _ChoicesField(ModelMultipleChoiceField):
    """An empty choice ("Any" in a list's select) chooses nothing instead of being an
    invalid choice, and nothing chosen is an empty list: the filter then skips at once,
    where an empty queryset would be compiled to find out that it is empty."""

    def clean(self, value):
        if isinstance(value, list | tuple):
            value = [v for v in value if v not in ("", None)]
        if not value and not self.required:
            return []
        return super().clean(value)


class _BoundedIdsField(_ChoicesField):
    """Ids are digits and bounded, so a huge number is a clear error rather than a
    database overflow."""

    def _check_values(self, value):
        for item in value:
            if not str(item).isdigit() or len(str(item)) > 12:
                raise ValidationError(
                    "Select a valid choice. %(value)s is not one of the available choices.",
                    code="invalid_choice",
                    params={"value": str(item)[:20]},
                )
        return super()._check_values(value)


class _DeploymentFilter(filters.ModelMultipleChoiceFilter):
    field_class = _BoundedIdsField


class _ByObject(filters.ModelMultipleChoiceFilter):
    """Chosen by slug, compared by object: django-filter would compare the foreign key
    with the slug text itself."""

    field_class = _ChoicesField

    def get_filter_predicate(self, v):
        return {self.field_name: v}


# The dates a case can have been opened on, with room to spare: a date outside is an input
# error, never a query (the day after 9999-12-31 does not exist).
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2999, 12, 31)


class BoundedDateField(forms.DateField):
    def validate(self, value) -> None:
        super().validate(value)
        if value and not FIRST_DAY <= value <= LAST_DAY:
            raise ValidationError(
                f"Enter a date between {FIRST_DAY:%Y-%m-%d} and {LAST_DAY:%Y-%m-%d}.",
                code="out_of_range",
            )


class BoundedDateFilter(filters.DateFilter):
    field_class = BoundedDateField


class CaseFilterSet(filters.FilterSet):
    mine = filters.BooleanFilter(method="filter_mine", label="Only cases I am the contact of")
    status = filters.MultipleChoiceFilter(distinct=False, choices=Status.choices)
    sub_status = filters.MultipleChoiceFilter(distinct=False, choices=SubStatus.choices)
    priority = filters.MultipleChoiceFilter(distinct=False, choices=Priority.choices)
    type = filters.MultipleChoiceFilter(distinct=False, choices=CaseType.choices)
    organization = _ByObject(
        distinct=False, field_name="organization", to_field_name="slug", queryset=_organizations
    )
    deployment = _DeploymentFilter(distinct=False, field_name="deployment", queryset=_deployments)
    service = _ByObject(
        distinct=False,
        field_name="service",
        to_field_name="slug",
        queryset=CloudService.objects.all(),
    )
    contact = filters.NumberFilter(
        field_name="contact_id", label="Contact (user id)", min_value=1, max_value=2**53
    )
    opened_after = BoundedDateFilter(method="filter_opened_after", label="Opened on or after")
    opened_before = BoundedDateFilter(method="filter_opened_before", label="Opened on or before")
    q = filters.CharFilter(method="filter_q", label="Case number or keywords", max_length=200)
    ordering = filters.OrderingFilter(
        fields=(
            ("number", "number"),
            ("subject", "subject"),
            ("opened_at", "opened_at"),
            ("modified_at", "modified_at"),
            ("status", "status"),
            ("priority_rank", "priority"),
        ),
        label="Sort by",
    )

    def filter_mine(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value:
            return queryset.filter(contact=self.request.user)
        return queryset

    def filter_opened_after(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.filter(opened_at__gte=_midnight(value)) if value else queryset

    def filter_opened_before(self, queryset: QuerySet, name: str, value) -> QuerySet:
        # Inclusive: everything opened on that day counts.
        return (
            queryset.filter(opened_at__lt=_midnight(value + timedelta(days=1)))
            if value
            else queryset
        )

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return search_cases(queryset, value)

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        ordering = self.form.cleaned_data.get("ordering") or []
        if any("priority" in o for o in ordering):
            queryset = queryset.annotate(priority_rank=PRIORITY_ORDER)
        return super().filter_queryset(queryset)


_NARROWED: dict[frozenset[str], type[CaseFilterSet]] = {}
_NARROWED_KEPT = 512


def case_filterset_for(params) -> type[CaseFilterSet]:
    """CaseFilterSet with only the filters that the query string gives a value.

    A filter without a value filters nothing, but the filter set still copies it, builds
    its form field and validates it, which costs more than the query of a list page. The
    narrowed classes are kept per set of names (there are few in practice)."""
    names = frozenset(
        name
        for name in params
        if name in CaseFilterSet.base_filters and any(v != "" for v in params.getlist(name))
    )
    narrowed = _NARROWED.get(names)
    if narrowed is None:
        narrowed = type("CaseFilterSet", (CaseFilterSet,), {"__module__": __name__})
        narrowed.base_filters = {
            name: f for name, f in CaseFilterSet.base_filters.items() if name in names
        }
        if len(_NARROWED) < _NARROWED_KEPT:
            _NARROWED[names] = narrowed
    return narrowed
