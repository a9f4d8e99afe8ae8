from django.conf import settings
from django.http import HttpRequest


def portal(request: HttpRequest) -> dict:
    """What the base layout shows on every page: the user's organizations and care phones."""
    from accounts.selectors import visible_organizations

    context = {"care_phone_numbers": settings.PORTAL["CARE_PHONE_NUMBERS"]}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and not user.is_staff:
        context["user_organizations"] = visible_organizations(user)
    return context
