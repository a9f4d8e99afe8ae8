from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views
from cases.web import urls as case_urls
from escalations import urls as escalation_urls
from web import views

admin.site.site_header = "Support Portal · Care workspace"
admin.site.site_title = "Care workspace"
admin.site.index_title = "Work queues and administration"

# The case pages and, under a case's number, its escalations (E-1 … E-9): one "cases"
# namespace, composed here because the escalation pages sit above the case pages.
CASE_PAGES = [
    *case_urls.urlpatterns,
    path("<case_number:number>/", include(escalation_urls)),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("help/", views.help_page, name="help"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", account_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", account_views.LogoutView.as_view(), name="logout"),
    path("accounts/profile/", account_views.profile, name="profile"),
    path("organizations/<slug:slug>/", account_views.organization_detail, name="organization"),
    path(
        "organizations/<slug:slug>/access/",
        account_views.support_access,
        name="support-access",
    ),
    path("cases/", include((CASE_PAGES, "cases"))),
    path("api/", include("config.api_urls")),
    path("admin/", admin.site.urls),
]

handler404 = "web.views.not_found"
handler403 = "web.views.forbidden"
handler500 = "web.views.server_error"
