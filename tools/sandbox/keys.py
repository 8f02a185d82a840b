"""The sandbox's own RSA-2048 key pair, generated on first use into the data dir."""
import os

from tools.antom import signature

PRIVATE = "sandbox_private.pem"
PUBLIC = "sandbox_public.pem"


def load_or_create(data_dir: str):
    """The sandbox private key; created (0600) with its public half on first call."""
    os.makedirs(data_dir, exist_ok=True)
    private_path = os.path.join(data_dir, PRIVATE)
    if not os.path.exists(private_path):
        key = signature.generate_private_key()
        # write to a temp name and rename: two processes starting at once never see half a key
        tmp = private_path + ".%d.tmp" % os.getpid()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(signature.private_pem(key))
        with open(os.path.join(data_dir, PUBLIC) + ".tmp", "wb") as out:
            out.write(signature.public_pem(key))
        os.replace(os.path.join(data_dir, PUBLIC) + ".tmp", os.path.join(data_dir, PUBLIC))
        os.replace(tmp, private_path)
    with open(private_path, "rb") as src:
        return signature.load_private_key(src.read())


def public_pem(data_dir: str) -> bytes:
    return signature.public_pem(load_or_create(data_dir))


def public_of(private_pem: str) -> bytes:
    """The public half (PEM) of a private key in PEM."""
    return signature.public_pem(signature.load_private_key(private_pem.encode("ascii")))
