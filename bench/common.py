"""Shared by the benchmark scripts: Django set-up and the bench world's names."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_PASSWORD = "bench-password-not-secret"  # noqa: S105 (throwaway bench logins)
BIG_ORG = "bench-0000"  # the organization with the export-sized number of cases
CARE_EMAIL = "analyst@bench.example"


def org_slug(index: int) -> str:
    return f"bench-{index:04d}"


def person_email(org_index: int, local: str) -> str:
    return f"{local}@{org_slug(org_index)}.example"


def setup_django() -> None:
    """Django with the project's settings, against DATABASE_URL."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    # The local settings (plain HTTP, a generated key), with DEBUG on in-process as before
    # the settings split; the scripts that measure production behaviour set DEBUG=0 and a
    # SECRET_KEY first, and the gunicorn they start inherits both.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()


def require_postgres() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(
            "Set DATABASE_URL to a PostgreSQL database, e.g. "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench"
        )


def copy_in(cursor, statement: str, buffer) -> None:
    """``COPY … FROM STDIN`` from a text buffer, with psycopg 3 (``cursor.copy``) or
    psycopg2 (``copy_expert``)."""
    if hasattr(cursor, "copy_expert"):
        cursor.copy_expert(statement, buffer)
        return
    with cursor.copy(statement) as copy:
        while chunk := buffer.read(1 << 20):
            copy.write(chunk)


def delete_cases_after(cursor, last_case_id: int) -> int:
    """Remove the cases a benchmark opened (ids above ``last_case_id``) and every row that
    hangs off them, so that runs do not grow the organizations they measure. Triggers are
    off for the session (superuser): the history's append-only guard would refuse, and the
    rows are removed children first, found through the foreign keys in the catalog."""
    cursor.execute("SELECT id FROM cases_case WHERE id > %s", [last_case_id])
    ids = [row[0] for row in cursor.fetchall()]
    if not ids:
        return 0
    cursor.execute("SET session_replication_role = replica")
    try:
        _delete_rows(cursor, "cases_case", ids)
    finally:
        cursor.execute("SET session_replication_role = DEFAULT")
    return len(ids)


def _delete_rows(cursor, table: str, ids: list[int]) -> None:
    cursor.execute(
        "SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey) "
        "WHERE c.confrelid = %s::regclass AND c.contype = 'f'",
        [table],
    )
    for child, column in cursor.fetchall():
        cursor.execute(f'SELECT id FROM {child} WHERE "{column}" = ANY(%s)', [ids])
        child_ids = [row[0] for row in cursor.fetchall()]
        if child_ids:
            _delete_rows(cursor, child, child_ids)
    cursor.execute(f"DELETE FROM {table} WHERE id = ANY(%s)", [ids])
