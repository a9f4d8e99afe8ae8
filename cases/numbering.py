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
        if cursor.rowcount == 0:
            # The migration creates the row; a flushed database (transactional tests, a
            # restore of the case table alone) lost it. Start above every number in use so
            # none is ever handed out twice.
            cursor.execute(
                "INSERT INTO cases_casenumbercounter (id, last) "
                "SELECT 1, MAX(COALESCE((SELECT MAX(number) FROM cases_case), 0), %s)",
                [FIRST_NUMBER - 1],
            )
            cursor.execute("UPDATE cases_casenumbercounter SET last = last + 1 WHERE id = 1")
        cursor.execute("SELECT last FROM cases_casenumbercounter WHERE id = 1")
        return int(cursor.fetchone()[0])
