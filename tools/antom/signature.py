"""Antom (AMS) message signatures, as https://docs.antom.com/ac/ams/digital_signature specifies.

Signed content, byte for byte:   "<METHOD> <path>\\n<client-id>.<time>.<body>"
Signature value:                 URL-encode(base64(RSASSA-PKCS1-v1_5(SHA-256, content)))
Header:                          "algorithm=RSA256,keyVersion=1,signature=<value>"

The same content format covers requests (request-time), responses (response-time) and
notifications (request-time, notify path). Sign and verify the exact bytes that travel: never
re-serialise a body after signing it.
"""
import base64
from urllib.parse import quote, unquote

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ALGORITHM = "RSA256"


def content(method: str, path: str, client_id: str, time_value: str, body: bytes | str) -> bytes:
    """The exact bytes that are signed."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    return ("%s %s\n%s.%s." % (method, path, client_id, time_value)).encode("utf-8") + body


def sign(private_key: rsa.RSAPrivateKey, data: bytes) -> str:
    """URL-encoded base64 SHA256withRSA signature of `data` (the signature *value*)."""
    raw = private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return quote(base64.b64encode(raw).decode("ascii"), safe="")


def verify(public_key: rsa.RSAPublicKey, data: bytes, value: str) -> bool:
    """True when `value` (URL-encoded or not) is a valid signature of `data`."""
    if not value:
        return False
    # Some integrations send the value without URL-encoding: decode only when '%' is present.
    b64 = unquote(value) if "%" in value else value
    try:
        raw = base64.b64decode(b64, validate=True)
        public_key.verify(raw, data, padding.PKCS1v15(), hashes.SHA256())
        return True
    except (InvalidSignature, ValueError):
        return False


def header(value: str, key_version: str = "1") -> str:
    return "algorithm=%s,keyVersion=%s,signature=%s" % (ALGORITHM, key_version, value)


def parse_header(text: str | None) -> dict[str, str]:
    """Fields of a signature header; tolerates spaces after commas. Empty dict if unusable."""
    fields: dict[str, str] = {}
    if not text:
        return fields
    for part in text.split(","):
        name, sep, val = part.strip().partition("=")
        if sep:
            # the value itself may contain '=' only when not URL-encoded: keep everything after
            # the first '='
            fields[name.strip()] = val.strip()
    return fields


def signature_value(text: str | None) -> str | None:
    """The signature value from a header, or None when the header is missing or not RSA256."""
    fields = parse_header(text)
    if fields.get("algorithm", ALGORITHM) != ALGORITHM:
        return None
    return fields.get("signature") or None


def sign_message(private_key, method, path, client_id, time_value, body) -> str:
    """The full signature header for one message."""
    return header(sign(private_key, content(method, path, client_id, time_value, body)))


def verify_message(public_key, method, path, client_id, time_value, body, signature_header) -> bool:
    value = signature_value(signature_header)
    if value is None or client_id is None or time_value is None:
        return False
    return verify(public_key, content(method, path, client_id, time_value, body), value)


# --- keys ----------------------------------------------------------------------------------------
def generate_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def load_private_key(pem: bytes | str) -> rsa.RSAPrivateKey:
    """PEM (PKCS#1 or PKCS#8), or the bare base64 body Antom's portal hands out."""
    if isinstance(pem, str):
        pem = pem.encode("ascii")
    pem = pem.strip()
    if not pem.startswith(b"-----"):
        pem = b"-----BEGIN PRIVATE KEY-----\n" + pem + b"\n-----END PRIVATE KEY-----\n"
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return key


def load_public_key(pem: bytes | str) -> rsa.RSAPublicKey:
    """PEM (SubjectPublicKeyInfo), or the bare base64 body Antom's portal hands out."""
    if isinstance(pem, str):
        pem = pem.encode("ascii")
    pem = pem.strip()
    if not pem.startswith(b"-----"):
        pem = b"-----BEGIN PUBLIC KEY-----\n" + pem + b"\n-----END PUBLIC KEY-----\n"
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key


def private_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def public_pem(key: rsa.RSAPublicKey | rsa.RSAPrivateKey) -> bytes:
    if isinstance(key, rsa.RSAPrivateKey):
        key = key.public_key()
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
