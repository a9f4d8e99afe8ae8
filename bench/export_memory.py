"""Peak memory of one Excel export, measured in a process of its own.

Builds the All Cases export of a user exactly as the portal does (the user's visible cases,
inside their tenant scope, through ``cases.reports.export.cases_xlsx_response``), reads the whole
response, and prints the process's peak resident memory before and after as JSON.

    DATABASE_URL=postgres://... python bench/export_memory.py --email dc1@bench-0000.example
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BIG_ORG, setup_django


def _status_mb(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    """This process's peak resident memory. ``VmHWM`` starts afresh at exec; getrusage's
    ``ru_maxrss`` does not on Linux, so a process started by a large parent (bench/run.py)
    would report the parent's size."""
    peak = _status_mb("VmHWM")
    return peak or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    return _status_mb("VmRSS")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--email", default=f"dc1@{BIG_ORG}.example")
    parser.add_argument("--limit", type=int, default=100_000, help="rows to export at most")
    args = parser.parse_args()
    setup_django()

    from accounts.models import User
    from accounts.selectors import visible_organization_ids
    from cases.reports.export import LIST_COLUMNS, cases_xlsx_response
    from cases.selectors import case_list_for_user
    from core.tenancy import tenant_scope

    user = User.objects.get(email=args.email)
    organization_ids = visible_organization_ids(user)
    before = peak_rss_mb()
    resident = rss_mb()
    started = time.monotonic()
    with tenant_scope(organization_ids):
        rows = min(case_list_for_user(user=user).count(), args.limit)
        queryset = case_list_for_user(user=user)[: args.limit]
        response = cases_xlsx_response(
            queryset=queryset, columns=LIST_COLUMNS, filename="bench.xlsx"
        )
    written = 0
    for chunk in response.streaming_content:
        written += len(chunk)
    response.close()
    elapsed = time.monotonic() - started
    print(
        json.dumps(
            {
                "rows": rows,
                "bytes": written,
                "seconds": round(elapsed, 2),
                "rss_mb_before": round(resident, 1),
                "peak_rss_mb_before": round(before, 1),
                "peak_rss_mb_after": round(peak_rss_mb(), 1),
            }
        )
    )


if __name__ == "__main__":
    main()
