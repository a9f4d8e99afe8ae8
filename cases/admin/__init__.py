"""The care workspace for cases: the case list and page, bulk actions, the service-level
report, the catalogue, and the organizations with their calendars (their changes move due
times). Importing the package registers every model admin of the app with the admin site
(Django's autodiscovery imports ``cases.admin``)."""

from cases.admin import case, catalog, organizations
from cases.admin.case import CaseAdmin

__all__ = ["CaseAdmin", "case", "catalog", "organizations"]
