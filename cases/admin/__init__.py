"""The care workspace for cases: the case list and page, bulk actions, the service-level
report and the catalogue. Importing the package registers every model admin of the app with
the admin site (Django's autodiscovery imports ``cases.admin``)."""

from importlib.util import find_spec

from cases.admin import case, catalog
from cases.admin.case import CaseAdmin

# Organizations and their calendars, where they are worked from the care workspace.
if find_spec("cases.admin.organizations") is not None:
    from cases.admin import organizations  # noqa: F401

__all__ = ["CaseAdmin", "case", "catalog"]
