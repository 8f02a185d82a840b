"""What both store backends (db_sqlite.py, db_postgres.py) share: the store's one integrity error,
the materialised result of a statement, and how a migration entry is picked for a dialect."""


class IntegrityError(Exception):
    """A constraint said no (unique key, foreign key, the append-only event log), whatever the
    database: callers never see sqlite3's or psycopg's own exception classes."""


class Result:
    """The rows of one statement, fetched before its connection went back (same use as a cursor)."""

    __slots__ = ("rows", "rowcount")

    def __init__(self, rows, rowcount):
        self.rows = rows
        self.rowcount = rowcount

    def fetchone(self):
        return self.rows[0] if self.rows else None

    def fetchall(self):
        return list(self.rows)

    def __iter__(self):
        return iter(self.rows)


def for_dialect(entry, dialect):
    """A migration entry as a list of parts for `dialect`: portable SQL (str), a function(db), or
    {"sqlite": ..., "postgresql": ...} where the two really differ (trigger bodies)."""
    parts = entry if isinstance(entry, (list, tuple)) else [entry]
    out = []
    for part in parts:
        if isinstance(part, dict):
            part = part[dialect]
        out.append(part)
    return out
