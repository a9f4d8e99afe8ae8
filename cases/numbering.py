"""Case numbers (C-1): assigned by the database, globally unique, increasing, never reused.

PostgreSQL draws from a sequence (no lock held across transactions, so concurrent case
creation never waits on a counter). Other databases use a one-row counter table, which is
safe on SQLite because its write transactions are serialized (IMMEDIATE mode).
"""

from django.db import connection

SEQUENCE = "cases_case_number_seq"
FIRST_NUMBER = 1000


def next_case_number() -> int:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(%s)", [SEQUENCE])
            return int(cursor.fetchone()[0])
        cursor.execute("UPDATE cases_casenumbercounter SET last = last + 1 WHERE id = 1")
        cursor.execute("SELECT last FROM cases_casenumbercounter WHERE id = 1")
        return int(cursor.fetchone()[0])
