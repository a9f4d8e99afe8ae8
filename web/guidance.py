"""The "what to do" guidance (K-2): which requests are cases and which go elsewhere."""

from typing import NamedTuple


class Tip(NamedTuple):
    situation: str
    action: str
    is_case: bool


WHAT_TO_DO: tuple[Tip, ...] = (
    Tip(
        "A problem with a cloud service in production",
        "Open a Support case in the portal, or call Customer Care.",
        True,
    ),
    Tip(
        "A severe impact or degradation of your business operations",
        "Call Customer Care for immediate evaluation, then follow the case in the portal.",
        True,
    ),
    Tip(
        "Technical questions about running your application after go-live",
        "Open a Support case (sub-type Question), or call Customer Care.",
        True,
    ),
    Tip(
        "A problem with the care tools or the portal itself",
        "Open an Admin case in the portal.",
        True,
    ),
    Tip(
        "Adding or removing a user's access, resetting a password, a change to your set-up",
        "Open a Service Request in the portal.",
        True,
    ),
    Tip(
        "Changing the access level of someone in your organization",
        "Open an Admin case with sub-type Request; designated contacts cannot change levels "
        "directly.",
        True,
    ),
    Tip(
        "Your own profile: email address, phone number, PIN",
        "Edit My Profile in the portal.",
        False,
    ),
    Tip(
        "Following up on an existing case",
        "Post an update on the case in the portal, or reply to a case email: its reference "
        "token ties the reply to the case.",
        False,
    ),
    Tip(
        "Ideas for the product, feature requests",
        "Post them in the Ideas Lab, where other customers can vote.",
        False,
    ),
    Tip(
        "Pricing, quotations, billing, contract or account status, architecture and design "
        "questions",
        "Contact your account executive; these are not support cases.",
        False,
    ),
    Tip("Questions about the care programme itself", "Contact your care representative.", False),
    Tip(
        "Cannot sign in to the portal",
        "Email Customer Care with your name, organization and the address you sign in with.",
        False,
    ),
)
