"""REST API v1 for cases (C-1 … C-16): views over the selectors and services
(``views``), the case actions of the registry (``actions``), representations
(``serializers``), what clients send (``inputs``) and what the schema shares (``openapi``).

The URLconf (``config.api_urls``) reads the views from here."""

from cases.api.actions import ACTION_VIEWS
from cases.api.views import (
    AttachmentDownloadView,
    CaseDetailView,
    CaseExportView,
    CaseHistoryView,
    CaseListView,
    CaseUpdatesView,
    ServiceListView,
)

__all__ = [
    "ACTION_VIEWS",
    "AttachmentDownloadView",
    "CaseDetailView",
    "CaseExportView",
    "CaseHistoryView",
    "CaseListView",
    "CaseUpdatesView",
    "ServiceListView",
]
