"""The `db` setting: a path or sqlite:///path is SQLite, postgresql:// (postgres://) is PostgreSQL,
any other scheme is a clear configuration error, and a URL is never taken for a file path."""
import os
import subprocess
import sys

import pytest

from tools.gateway import config as config_mod
from tools.gateway import dburl
from tools.gateway.testing import ROOT


def test_the_forms_of_the_db_setting():
    assert dburl.parse("var/gateway/gateway.sqlite3") == ("sqlite", "var/gateway/gateway.sqlite3")
    assert dburl.parse("/abs/g.sqlite3") == ("sqlite", "/abs/g.sqlite3")
    assert dburl.parse("sqlite:///var/g.sqlite3") == ("sqlite", "var/g.sqlite3")
    assert dburl.parse("sqlite:////abs/g.sqlite3") == ("sqlite", "/abs/g.sqlite3")
    assert dburl.parse("postgresql://gw@db.example:5432/gw") == ("postgresql", "postgresql://gw@db.example:5432/gw")
    assert dburl.parse("postgres://gw@db.example/gw") == ("postgresql", "postgres://gw@db.example/gw")


@pytest.mark.parametrize("value", ["mysql://gw@db.example/gw", "sqlite://",
                                   "file:///var/g.sqlite3", "postgresql+psycopg://gw@h/gw", ""])
def test_a_database_url_of_another_scheme_is_a_config_error_naming_the_accepted_forms(value):
    with pytest.raises(config_mod.ConfigError) as e:
        config_mod.load(None, environ={}, overrides={("gateway", "db"): value})
    assert "postgresql://" in str(e.value) and "sqlite:///" in str(e.value)


def test_a_password_in_a_refused_url_is_not_repeated():
    with pytest.raises(dburl.DbUrlError) as e:
        dburl.parse("mysql://gw:s3cret@db.example/gw")
    assert "s3cret" not in str(e.value)


def cli(cwd, *args):
    return subprocess.run([sys.executable, "-m", "tools.gateway", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, env=dict(os.environ, PYTHONPATH=ROOT))


def test_a_postgresql_url_is_never_taken_for_a_file_path(tmp_path):
    """Before: `postgresql://...` was opened as a SQLite file, its 'folders' created in the working
    directory. Now it is a PostgreSQL connection, and an unreachable one is a clear error."""
    port = _closed_port()
    r = cli(tmp_path, "--db", "postgresql://gw:pw@127.0.0.1:%d/gw" % port, "terminal", "list", "--json")
    assert r.returncode == 2
    assert "database error" in r.stderr and "PostgreSQL" in r.stderr and "pw@" not in r.stderr
    assert "Traceback" not in r.stderr
    made = [os.path.join(d, n) for d, dirs, files in os.walk(tmp_path) for n in dirs + files]
    assert not [p for p in made if "postgresql:" in p or "127.0.0.1" in p]   # no "postgresql:/..." folders


def test_an_unknown_scheme_on_the_command_line_is_refused_before_anything_is_created(tmp_path):
    r = cli(tmp_path, "--db", "mysql://gw@127.0.0.1/gw", "terminal", "list")
    assert r.returncode == 2 and "config error" in r.stderr and "postgresql://" in r.stderr
    assert os.listdir(tmp_path) == []


def _closed_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
