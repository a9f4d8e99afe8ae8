from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from accounts.forms import EmailAuthenticationForm, ProfileForm
from accounts.models import AccessLevel, BusinessCalendar, Deployment, Membership
from accounts.selectors import access_level_for, get_visible_organization_or_404
from accounts.services import user_update_profile


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """Logs out on POST only (a GET link could be forged by another site)."""


@login_required
@require_GET
def organization_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """An organization's set-up as its members see it: deployments, hours, support level.

    Another tenant's slug answers 404, exactly like a missing one (T-6).
    """
    organization = get_visible_organization_or_404(request.user, slug)
    deployments = Deployment.objects.filter(organization=organization, is_active=True)
    calendar = BusinessCalendar.objects.filter(organization=organization).first()
    return render(
        request,
        "accounts/organization_detail.html",
        {
            "organization": organization,
            "access_level": AccessLevel(access_level_for(request.user, organization)),
            "deployments": deployments,
            "calendar": calendar,
            "end_users": organization.end_users.filter(is_active=True)
            if organization.is_reseller
            else [],
        },
    )


@login_required
@require_GET
def support_access(request: HttpRequest, slug: str) -> HttpResponse:
    """My Support Access (T-10): every user of the organization with their access level."""
    organization = get_visible_organization_or_404(request.user, slug)
    memberships = (
        Membership.objects.filter(organization=organization, user__is_active=True)
        .select_related("user")
        .order_by("user__display_name", "user__email")
    )
    return render(
        request,
        "accounts/support_access.html",
        {
            "organization": organization,
            "memberships": memberships,
            "access_level": AccessLevel(access_level_for(request.user, organization)),
        },
    )


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """My Profile (T-11): name, phone, time zone and PIN. Email changes go through care."""
    if request.method == "POST":
        form = ProfileForm(request.POST, instance=request.user)
        if form.is_valid():
            user_update_profile(user=request.user, data=form.cleaned_data)
            messages.success(request, "Your profile is saved.")
            return redirect("profile")
    else:
        form = ProfileForm(instance=request.user)
    return render(request, "accounts/profile.html", {"form": form})
