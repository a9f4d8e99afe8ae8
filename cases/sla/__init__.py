"""Service levels (S-1 … S-8) on the organization's business calendar (B-1 … B-4).

- ``targets``: the rules as tables (which targets a case has, how long each is).
- ``clock``: pure arithmetic on a calendar (measuring, advancing, when a target is at risk).
- ``services``: the due times stored on the case, recomputed on the events that change them.
- ``sweep``: marks open cases at risk or breached and tells care (S-6).
- ``display``: what people are shown (labels, the API's block, the case page's rows).

The names callers use are importable from ``cases.sla`` itself.
"""

from cases.sla.display import SlaRow, sla_rows, sla_summary, target_label
from cases.sla.services import (
    sla_for_new_case,
    sla_on_case_change,
    sla_recompute_for_organization,
)
from cases.sla.sweep import sla_sweep
from cases.sla.targets import GOAL_SHARE, TARGET_TYPES, Targets, targets_for

__all__ = [
    "GOAL_SHARE",
    "TARGET_TYPES",
    "SlaRow",
    "Targets",
    "sla_for_new_case",
    "sla_on_case_change",
    "sla_recompute_for_organization",
    "sla_rows",
    "sla_summary",
    "sla_sweep",
    "target_label",
    "targets_for",
]
