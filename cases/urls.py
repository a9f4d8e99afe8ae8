"""Customer portal pages for cases. The views are added with the portal pages."""

app_name = "cases"
urlpatterns: list = []
