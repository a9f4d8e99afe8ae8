"""People and tenants: users, organizations, deployments, memberships, business calendars."""

from __future__ import annotations

import re
import zoneinfo
from datetime import date, time

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, validate_email
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from core import business_time
from core.tenancy import TenantManager, TenantModel
from core.textclean import clean_line

# A PIN (T-11): 4 to 8 ASCII digits.
PIN_DIGITS = re.compile(r"[0-9]{4,8}")


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            f"“{value}” is not a known time zone (use a name like Europe/Berlin)."
        )


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username: str) -> User:
        # Email login is case-insensitive (the unique constraint is on the lowercased email).
        return self.get(email__iexact=username)

    def _create_user(self, email: str, password: str | None, **extra: object) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person: a customer contact or a member of the care team (T-11)."""

    # Stored lowercased (see save), so the plain unique index is case-insensitive too; the
    # constraint on Lower(email) keeps it so even for rows written around save().
    email = models.EmailField("email address", max_length=254, unique=True)
    display_name = models.CharField(max_length=150)
    phone = models.CharField(
        max_length=32,
        blank=True,
        validators=[
            RegexValidator(r"^\+?[0-9 ()./-]{5,30}$", "Enter a phone number such as +1 555 0100.")
        ],
    )
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text="Times are shown in this zone; empty means the organization's (B-5).",
    )
    pin_hash = models.CharField("PIN", max_length=128, blank=True, editable=False)
    email_all_cases = models.BooleanField(
        "Email me about all my organizations' cases",
        default=False,
        help_text="For designated contacts: receive the emails of every case of your "
        "organizations (updates by Customer Care, status changes, follow-ups, escalation "
        "decisions), not only of the cases you are the contact of (N-1).",
    )
    is_staff = models.BooleanField(
        default=False, help_text="Member of the care team: may use the care workspace."
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    class Meta:
        ordering = ["display_name", "email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} <{self.email}>" if self.display_name else self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()
        clash = User.objects.filter(email__iexact=self.email).exclude(pk=self.pk)
        if self.email and clash.exists():
            raise ValidationError({"email": "A user with this email address already exists."})

    def save(self, *args, **kwargs) -> None:
        self.email = self.email.strip().lower()
        # One line each, whichever way they were written (profile, care workspace, API):
        # they reach email headers and bodies (T-11).
        self.display_name = clean_line(self.display_name)
        self.phone = clean_line(self.phone)
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return self.display_name or self.email

    def get_short_name(self) -> str:
        return self.display_name.split(" ")[0] if self.display_name else self.email

    def set_pin(self, pin: str) -> None:
        """The PIN identifies the user to mobile clients and on the phone; stored hashed."""
        # ASCII digits: str.isdigit() also accepts "²³⁴⁵" and other scripts' digits.
        if not PIN_DIGITS.fullmatch(pin):
            raise ValidationError("The PIN must be 4 to 8 digits.")
        self.pin_hash = make_password(pin)

    def check_pin(self, pin: str) -> bool:
        return bool(self.pin_hash) and check_password(pin, self.pin_hash)


class SupportLevel(models.TextChoices):
    CARE = "CARE", "Care"
    BUSINESS_CARE = "BUSINESS_CARE", "Business Care"
    BUSINESS_CARE_PLUS = "BUSINESS_CARE_PLUS", "Business Care Plus"
    PREMIUM = "PREMIUM", "Premium"


class Organization(models.Model):
    """A tenant: a customer company or a reseller partner (T-1, T-8)."""

    class Kind(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        RESELLER = "reseller", "Reseller partner"

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.CUSTOMER)
    support_level = models.CharField(
        max_length=32, choices=SupportLevel.choices, default=SupportLevel.BUSINESS_CARE
    )
    distribution_list = models.TextField(
        blank=True,
        help_text="Addresses that receive announcements for the organization, one per line (N-6).",
    )
    end_users = models.ManyToManyField(
        "self",
        through="ResellerLink",
        through_fields=("reseller", "end_user"),
        symmetrical=False,
        related_name="resellers",
        blank=True,
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_reseller(self) -> bool:
        return self.kind == self.Kind.RESELLER

    def distribution_addresses(self) -> list[str]:
        return [line.strip() for line in self.distribution_list.splitlines() if line.strip()]

    def clean(self) -> None:
        super().clean()
        bad = []
        for address in self.distribution_addresses():
            try:
                validate_email(address)
            except ValidationError:
                bad.append(address)
        if bad:
            raise ValidationError(
                {"distribution_list": f"Not valid email addresses: {', '.join(bad)}."}
            )


class ResellerLink(models.Model):
    """A reseller partner manages cases for a linked end-user organization (T-8)."""

    reseller = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="end_user_links"
    )
    end_user = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="reseller_links"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["reseller", "end_user"], name="reseller_link_unique"),
            models.CheckConstraint(
                condition=~models.Q(reseller=models.F("end_user")), name="reseller_link_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reseller} → {self.end_user}"

    def clean(self) -> None:
        super().clean()
        if self.reseller_id and self.reseller.kind != Organization.Kind.RESELLER:
            raise ValidationError({"reseller": "Only a reseller partner can have end users."})
        if self.end_user_id and self.end_user.kind != Organization.Kind.CUSTOMER:
            raise ValidationError({"end_user": "An end user must be a customer organization."})
        if self.reseller_id and self.reseller_id == self.end_user_id:
            raise ValidationError("An organization cannot be its own end user.")


class EmailDomain(TenantModel):
    """A verified corporate email domain that identifies the organization (T-9)."""

    domain = models.CharField(
        max_length=253,
        unique=True,
        validators=[
            RegexValidator(
                r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
                "Enter a domain name such as example.com (lowercase, no @).",
            )
        ],
    )
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain


class Deployment(TenantModel):
    """A business unit or division of an organization, shown as "Account/Depl" (T-2)."""

    name = models.CharField(max_length=200)
    code = models.CharField(max_length=32, help_text="The account/deployment code.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="deployment_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.code} / {self.name}"


class AccessLevel(models.TextChoices):
    """A customer user's access level in an organization (T-4), lowest first."""

    BASIC = "BASIC", "Basic"
    READ_ONLY = "READ_ONLY", "Read only"
    DESIGNATED_CONTACT = "DESIGNATED_CONTACT", "Designated contact"


class Membership(TenantModel):
    """A customer user's place in an organization (T-4). Care staff have none (T-5)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    access_level = models.CharField(max_length=32, choices=AccessLevel.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["organization__name", "user__display_name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization}: {self.get_access_level_display()}"

    def clean(self) -> None:
        super().clean()
        if self.user_id and self.user.is_staff:
            raise ValidationError({"user": "Care staff are not members of organizations (T-5)."})


WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def validate_working_days(value: list) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError("Pick at least one working day.")
    if any(not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 6 for d in value):
        raise ValidationError("Working days are numbers from 0 (Monday) to 6 (Sunday).")
    if len(set(value)) != len(value):
        raise ValidationError("A working day is listed twice.")


class BusinessCalendar(TenantModel):
    """An organization's business calendar (B-1).

    Public holidays are copied from the holiday data into ``holiday_snapshot`` per year.
    Deadlines use only the snapshot, so a library update never moves an open deadline
    silently; new years are added to the snapshot, existing ones never change unless care
    refreshes them on purpose.
    """

    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    working_days = models.JSONField(default=list, validators=[validate_working_days])
    opens = models.TimeField(default=time(9, 0))
    closes = models.TimeField(default=time(17, 0))
    holiday_country = models.CharField(
        max_length=2, blank=True, help_text="ISO 3166 country code, e.g. US or DE."
    )
    holiday_subdivision = models.CharField(
        max_length=10, blank=True, help_text="Optional subdivision code, e.g. BY for Bavaria."
    )
    holiday_snapshot = models.JSONField(
        default=dict, blank=True, editable=False, help_text="{year: [ISO dates]}"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="calendar_one_per_organization"),
            models.CheckConstraint(
                condition=models.Q(closes__gt=models.F("opens")), name="calendar_closes_after_opens"
            ),
        ]

    def __str__(self) -> str:
        return f"Calendar of {self.organization}"

    def clean(self) -> None:
        super().clean()
        if self.opens and self.closes and self.closes <= self.opens:
            raise ValidationError({"closes": "Closing time must be after opening time."})
        if self.holiday_subdivision and not self.holiday_country:
            raise ValidationError({"holiday_country": "A subdivision needs a country."})
        if self.holiday_country:
            try:
                business_time.holiday_dates(
                    self.holiday_country, self.holiday_subdivision or None, [date.today().year]
                )
            except ValueError as exc:
                raise ValidationError({"holiday_country": str(exc)}) from exc

    def snapshot_holidays(self) -> frozenset[date]:
        return frozenset(
            date.fromisoformat(d) for days in self.holiday_snapshot.values() for d in days
        )

    def describe_hours(self) -> str:
        days = ", ".join(WEEKDAY_NAMES[d][:3] for d in sorted(self.working_days))
        return f"{days} {self.opens:%H:%M}–{self.closes:%H:%M} ({self.time_zone})"


class CalendarClosure(TenantModel):
    """An extra closed day added by care (B-1)."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="closures"
    )
    day = models.DateField()
    reason = models.CharField(max_length=200)

    class Meta:
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "day"], name="closure_unique_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day}: {self.reason}"

    def clean(self) -> None:
        super().clean()
        if (
            self.calendar_id
            and self.organization_id
            and (self.calendar.organization_id != self.organization_id)
        ):
            raise ValidationError("The closure must belong to the calendar's organization.")


class AppendOnlyQuerySet(models.QuerySet):
    """History rows are refused changes in bulk as one by one."""

    def update(self, **kwargs):
        raise ValueError("Organization history is append-only: changes are never edited.")

    def delete(self):
        raise ValueError("Organization history is append-only: changes are never deleted.")


class OrganizationChange(TenantModel):
    """Append-only history of care's changes to an organization's set-up (T-2, T-4, T-8, T-9,
    S-5, B-1): who changed what and when, as it was before and after. Written by
    ``accounts.services`` in the transaction of the change."""

    class Kind(models.TextChoices):
        CREATED = "created", "Organization added"
        DETAILS = "details", "Details changed"
        SUPPORT_LEVEL = "support_level", "Support level changed"
        CALENDAR = "calendar", "Business calendar changed"
        MEMBERSHIP = "membership", "Member or access level changed"
        DEPLOYMENT = "deployment", "Deployment changed"
        EMAIL_DOMAIN = "email_domain", "Email domain changed"
        RESELLER_LINK = "reseller_link", "Reseller partner link changed"

    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    objects = TenantManager.from_queryset(AppendOnlyQuerySet)()
    unscoped = models.Manager.from_queryset(AppendOnlyQuerySet)()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "organization change"
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="orgchange_org_created")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.organization_id}, {self.created_at:%Y-%m-%d})"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("Organization history is append-only: changes are never edited.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Organization history is append-only: changes are never deleted.")
