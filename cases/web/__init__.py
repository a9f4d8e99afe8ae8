"""The customer portal's case pages: lists (My Cases, All Cases, search, exports), the case
page and its actions, opening a case, the service-level report, and their forms.

Thin edges: reads start from ``cases.selectors`` (visibility), writes go through
``cases.services``, and the services' domain errors become what a person sees: field
errors next to the fields (InvalidInput), a message (Conflict), the "not allowed" page
(NotAllowed) or "not found" (NotFound: another tenant's case looks exactly like a missing
one, T-6). Times are shown in the user's time zone, else the organization's (B-5).

The pages of the layers above (escalations of a case, the site shell) use the helpers
re-exported here.
"""

from cases.web.access import case_or_404, portal_access, require_case_pages
from cases.web.responses import render_page, run_form_action

__all__ = ["case_or_404", "portal_access", "render_page", "require_case_pages", "run_form_action"]
