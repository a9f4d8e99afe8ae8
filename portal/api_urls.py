"""REST API v1 routes and the OpenAPI schema. The endpoints are added with the API."""

urlpatterns: list = []
