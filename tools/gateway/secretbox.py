"""Terminal secrets at rest: AES-256-GCM under a key-encryption key (KEK) kept apart from the
database, so a copy of the database (a backup, a stolen disk image of the data folder) does not
hold usable terminal secrets on its own.

The KEK comes from $GATEWAY_KEK (64 hex characters) or from `gateway.kek_file` (created on first
use, 0600 in a 0700 folder, like the merchant key). A stored secret is "v1:" + base64(nonce || the
ciphertext and tag); the terminal id is the associated data, so a secret moved onto another
terminal's row does not open.
"""
import base64
import binascii
import logging
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tools.gateway.files import private_dir, write_private

PREFIX = "v1:"
log = logging.getLogger("gateway")


class SecretBoxError(ValueError):
    pass


class SecretBox:
    def __init__(self, key):
        if len(key) != 32:
            raise SecretBoxError("the key-encryption key must be 32 bytes (64 hex characters)")
        self._aead = AESGCM(key)

    @staticmethod
    def is_sealed(stored):
        return isinstance(stored, str) and stored.startswith(PREFIX)

    def seal(self, terminal_id, secret):
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, secret.encode("ascii"), terminal_id.encode("utf-8"))
        return PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, terminal_id, stored):
        if not self.is_sealed(stored):
            raise SecretBoxError("terminal %s: its secret is not encrypted (run the gateway once to migrate)"
                                 % terminal_id)
        try:
            raw = base64.b64decode(stored[len(PREFIX):], validate=True)
            return self._aead.decrypt(raw[:12], raw[12:], terminal_id.encode("utf-8")).decode("ascii")
        except (InvalidTag, ValueError, binascii.Error) as e:
            raise SecretBoxError("terminal %s: its secret does not open with this key-encryption key "
                                 "(wrong $GATEWAY_KEK or gateway.kek_file?)" % terminal_id) from e


def load_key(cfg, environ=None):
    """The KEK from $GATEWAY_KEK, else from gateway.kek_file (created when missing)."""
    environ = os.environ if environ is None else environ
    text = environ.get("GATEWAY_KEK")
    if text:
        try:
            return bytes.fromhex(text.strip())
        except ValueError as e:
            raise SecretBoxError("GATEWAY_KEK must be 64 hex characters") from e
    path = cfg["gateway"]["kek_file"]
    if not os.path.exists(path):
        private_dir(os.path.dirname(os.path.abspath(path)))
        write_private(path, (secrets.token_hex(32) + "\n").encode("ascii"))
        log.warning("created a new key-encryption key for terminal secrets at %s (keep it apart from "
                    "database backups, and back it up on its own)", path)
    with open(path, "rb") as f:
        text = f.read().decode("ascii", "replace").strip()
    try:
        return bytes.fromhex(text)
    except ValueError as e:
        raise SecretBoxError("%s must hold 64 hex characters" % path) from e


def box_for(cfg, environ=None):
    return SecretBox(load_key(cfg, environ))
