"""Private files and folders for the gateway's secrets and database: 0600 files in 0700 folders."""
import os
import stat


def private_dir(path):
    """Create `path` as 0700 when missing (an existing folder keeps its mode: it may be shared, like
    a project folder). True when the folder is private to its owner."""
    if not os.path.isdir(path):
        parent = os.path.dirname(os.path.abspath(path))
        if parent != path and not os.path.isdir(parent):
            os.makedirs(parent, exist_ok=True)
        os.makedirs(path, mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)  # whatever the umask said
    return not stat.S_IMODE(os.stat(path).st_mode) & 0o077


def write_private(path, data):
    """A new file readable by its owner only (refuses to overwrite)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def private_file(path):
    """`path` exists and is 0600 (created empty if missing), before anything else opens it.

    An existing file is never opened here: closing any descriptor of a SQLite database drops every
    POSIX lock this process holds on it, so a second open of a database the gateway already uses
    would let another process (the operator CLI) take it for the last connection, checkpoint and
    delete the WAL the gateway still writes to: its later commits would be invisible to everyone
    else."""
    if not os.path.exists(path):
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:  # made by another process meanwhile
            pass
    if stat.S_IMODE(os.stat(path).st_mode) & 0o077:
        os.chmod(path, 0o600)
