"""Care staff roles (T-5). Each is a group created by a migration with its permissions."""

CARE_ANALYST = "CARE_ANALYST"
CARE_MANAGER = "CARE_MANAGER"
PRODUCT_MANAGER = "PRODUCT_MANAGER"
ALL_ROLES = (CARE_ANALYST, CARE_MANAGER, PRODUCT_MANAGER)
