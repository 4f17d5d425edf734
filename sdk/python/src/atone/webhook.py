"""Webhook signatures, as atone writes and checks them.

The ``Atone-Signature`` header is ``t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
"<t>.<raw body>")>``, with one ``v1`` per secret while a secret is rotated. A receiver
checks it over the raw body, before parsing it, and drops a delivery whose timestamp is
too far from now (a replay)::

    from atone.webhook import verify_webhook
    verify_webhook(raw_body, headers.get("Atone-Signature"), os.environ["WEBHOOK_SECRET"])
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from typing import Iterable, Optional, Union

#: The header that carries the signature (HTTP header names are case-insensitive).
SIGNATURE_HEADER = "Atone-Signature"
#: How far a signature's timestamp may be from now, in seconds, unless told otherwise.
DEFAULT_TOLERANCE_SECONDS = 300
#: The most ``v1`` entries a header may carry.
MAX_SIGNATURES = 8

_TIMESTAMP = re.compile(r"^\d{1,15}$")
_MAC = re.compile(r"^[0-9a-fA-F]{64}$")


class WebhookSignatureError(ValueError):
    """Why a delivery is not to be trusted."""


def _bytes(body: Union[bytes, str]) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def _mac(secret: str, timestamp: int, body: bytes) -> bytes:
    return hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).digest()


def sign_webhook(body: Union[bytes, str], secret: str, timestamp: Optional[int] = None) -> str:
    """The ``Atone-Signature`` header for ``body``, signed with ``secret`` at ``timestamp``."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={_mac(secret, t, _bytes(body)).hex()}"


def verify_webhook(
    body: Union[bytes, str],
    header: Optional[str],
    secrets: Union[str, Iterable[str]],
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: Optional[int] = None,
) -> int:
    """Checks ``header`` against the raw ``body``: a timestamp within the tolerance and a
    ``v1`` that one of ``secrets`` made. Returns the timestamp; raises
    ``WebhookSignatureError`` saying why not. Comparisons are in constant time."""
    if not header:
        raise WebhookSignatureError("no Atone-Signature header")
    timestamp: Optional[int] = None
    v1: list[bytes] = []
    for part in header.split(","):
        key, sep, value = part.partition("=")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if key == "t" and _TIMESTAMP.match(value):
            timestamp = int(value)
        elif key == "v1":
            if len(v1) == MAX_SIGNATURES:
                raise WebhookSignatureError(f"the signature has more than {MAX_SIGNATURES} v1 entries")
            if not _MAC.match(value):
                raise WebhookSignatureError("v1 is not a hex SHA-256 MAC")
            v1.append(bytes.fromhex(value))
    if timestamp is None:
        raise WebhookSignatureError("the signature has no t=<unix seconds>")
    current = int(time.time()) if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        raise WebhookSignatureError(f"the signature's timestamp is more than {tolerance_seconds} s from now")
    if not v1:
        raise WebhookSignatureError("the signature has no v1 entry")
    raw = _bytes(body)
    matched = False
    for secret in [secrets] if isinstance(secrets, str) else list(secrets):
        tag = _mac(secret, timestamp, raw)
        for given in v1:
            matched = hmac.compare_digest(tag, given) or matched
    if not matched:
        raise WebhookSignatureError("the signature does not match the body")
    return timestamp
