"""The `db` setting: which database the gateway's store opens.

    var/gateway/gateway.sqlite3            a SQLite file (the embedded default)
    sqlite:///var/gateway/gateway.sqlite3  the same, as a URL (sqlite:////abs/path for an absolute one)
    postgresql://user:pass@host:5432/name  PostgreSQL (postgres://... too), any libpq connection URL

Any other `scheme://` is a configuration error: it is never taken for a file name (whose folders
would then be created).
"""
import re

SQLITE, POSTGRESQL = "sqlite", "postgresql"
ACCEPTED = ("a file path or sqlite:///path for SQLite, postgresql://user@host:port/dbname "
            "(or postgres://...) for PostgreSQL")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):(//|$)")


class DbUrlError(ValueError):
    pass


def parse(value):
    """(SQLITE, path) or (POSTGRESQL, url); DbUrlError for anything else."""
    if not isinstance(value, str) or not value.strip():
        raise DbUrlError("gateway.db is empty: give %s" % ACCEPTED)
    m = _SCHEME.match(value)
    if m is None:
        return SQLITE, value
    scheme = m.group(1).lower()
    if scheme in ("postgresql", "postgres"):
        return POSTGRESQL, value
    if scheme == "sqlite" and value.lower().startswith("sqlite:///") and len(value) > len("sqlite:///"):
        return SQLITE, value[len("sqlite:///"):]
    raise DbUrlError("gateway.db %r: unknown or incomplete database URL (scheme %s://); accepted: %s"
                     % (redacted(value), scheme, ACCEPTED))


def redacted(value):
    """The URL without its password, for messages and logs."""
    return re.sub(r"(://[^/:@]*:)[^/@]*@", r"\1***@", value)
