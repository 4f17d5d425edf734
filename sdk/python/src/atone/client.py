"""Hand-written helpers around the generated stubs in ``atone.v1``."""

from __future__ import annotations

import random
import threading
import uuid
from typing import Callable, Dict, Iterator, List, Optional

import grpc

from atone.v1 import (
    auth_pb2_grpc,
    billing_pb2_grpc,
    command_pb2_grpc,
    projector_pb2_grpc,
    query_pb2,
    query_pb2_grpc,
    types_pb2,
    webhooks_pb2_grpc,
)

__all__ = ["AtoneClient", "MemberView", "ResumableWatch", "new_idempotency_key"]


def new_idempotency_key() -> str:
    """A fresh idempotency key. Reuse a key only to retry the very same command."""
    return str(uuid.uuid4())


def _target(address: str) -> str:
    for scheme in ("http://", "grpc://", "dns:///"):
        if address.startswith(scheme):
            return address[len(scheme):].rstrip("/")
    return address


class AtoneClient:
    """One channel to atone and the stubs of its services.

    >>> with AtoneClient("127.0.0.1:50051") as atone:
    ...     atone.query.GetMember(query_pb2.GetMemberRequest(user_id="test-user-01"))

    ``address`` is host:port (an ``http://`` prefix is accepted). Pass ``credentials``
    for TLS, or a ready ``channel``. With authentication on, ``credential`` (an API key
    ``<id>.<secret>`` or a member token) is sent as ``authorization: Bearer ...`` on every
    call.
    """

    def __init__(
        self,
        address: str = "127.0.0.1:50051",
        *,
        credentials: Optional[grpc.ChannelCredentials] = None,
        channel: Optional[grpc.Channel] = None,
        credential: Optional[str] = None,
    ) -> None:
        if channel is None:
            target = _target(address)
            channel = (
                grpc.secure_channel(target, credentials)
                if credentials is not None
                else grpc.insecure_channel(target)
            )
        self.channel = channel
        if credential is not None:
            channel = grpc.intercept_channel(channel, _Bearer(credential))
        self.command = command_pb2_grpc.CommandServiceStub(channel)
        self.billing = billing_pb2_grpc.BillingServiceStub(channel)
        self.query = query_pb2_grpc.QueryServiceStub(channel)
        self.projector = projector_pb2_grpc.ProjectorServiceStub(channel)
        self.auth = auth_pb2_grpc.AuthServiceStub(channel)
        self.webhooks = webhooks_pb2_grpc.WebhookServiceStub(channel)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> "AtoneClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Bearer(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
):
    """Adds ``authorization: Bearer <credential>`` to every call."""

    def __init__(self, credential: str) -> None:
        self._metadata = ("authorization", f"Bearer {credential}")

    def _with_metadata(self, details):  # type: ignore[no-untyped-def]
        metadata = list(details.metadata or []) + [self._metadata]
        return details._replace(metadata=metadata) if hasattr(details, "_replace") else _Details(details, metadata)

    def intercept_unary_unary(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        return continuation(self._with_metadata(client_call_details), request)

    def intercept_unary_stream(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        return continuation(self._with_metadata(client_call_details), request)


class _Details(grpc.ClientCallDetails):
    def __init__(self, details: grpc.ClientCallDetails, metadata) -> None:  # type: ignore[no-untyped-def]
        self.method = details.method
        self.timeout = details.timeout
        self.metadata = metadata
        self.credentials = details.credentials
        self.wait_for_ready = getattr(details, "wait_for_ready", None)
        self.compression = getattr(details, "compression", None)


class MemberView:
    """A member's state as a WatchMember stream describes it.

    A snapshot replaces everything; a change updates the promises and bills it touched and
    the credit summary. Applying a change twice is harmless.
    """

    def __init__(self) -> None:
        self.summary: Optional[types_pb2.MemberSummary] = None
        self.promises: Dict[str, types_pb2.PaymentPromise] = {}
        self.bills: Dict[str, types_pb2.MemberBill] = {}
        self.cursor = ""

    @property
    def version(self) -> int:
        return self.summary.version if self.summary is not None else 0

    def apply(self, message: query_pb2.WatchMemberResponse) -> None:
        if message.cursor:
            self.cursor = message.cursor
        kind = message.WhichOneof("kind")
        if kind == "snapshot":
            member = message.snapshot.member
            self.summary = member.summary
            self.promises = {p.promise_id: p for p in member.promises}
            self.bills = {b.bill_id: b for b in member.bills}
        elif kind == "change":
            change = message.change
            for p in change.promises:
                self.promises[p.promise_id] = p
            for b in change.bills:
                self.bills[b.bill_id] = b
            if change.HasField("summary") and change.summary.version >= self.version:
                self.summary = change.summary

    def promise_list(self) -> List[types_pb2.PaymentPromise]:
        """Promises, newest first."""
        return sorted(self.promises.values(), key=lambda p: p.created_version, reverse=True)

    def bill_list(self) -> List[types_pb2.MemberBill]:
        """Bills, newest first."""
        return sorted(self.bills.values(), key=lambda b: b.created_version, reverse=True)


_FATAL = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.UNIMPLEMENTED,
}


class ResumableWatch:
    """WatchMember that survives a broken stream or a server restart.

    Iterate it to get every message in order across reconnections. After an error it waits
    (exponential backoff with jitter) and reconnects with the last cursor it saw, so the
    server sends exactly the missed changes (or a snapshot with reason CURSOR_EXPIRED).
    ``cancel()`` (from any thread) ends the iteration.
    """

    def __init__(
        self,
        query: query_pb2_grpc.QueryServiceStub,
        user_id: str,
        *,
        cursor: str = "",
        min_version: int = 0,
        initial_backoff: float = 0.5,
        max_backoff: float = 5.0,
        on_disconnect: Optional[Callable[[grpc.RpcError, float], None]] = None,
    ) -> None:
        self._query = query
        self._user_id = user_id
        self.cursor = cursor
        self._min_version = min_version
        self._initial = initial_backoff
        self._max = max_backoff
        self._on_disconnect = on_disconnect
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._call = None

    def cancel(self) -> None:
        self._stopped.set()
        with self._lock:
            if self._call is not None:
                self._call.cancel()

    def __iter__(self) -> Iterator[query_pb2.WatchMemberResponse]:
        attempt = 0
        while not self._stopped.is_set():
            request = query_pb2.WatchMemberRequest(
                user_id=self._user_id, cursor=self.cursor, min_version=self._min_version
            )
            with self._lock:
                if self._stopped.is_set():
                    return
                self._call = self._query.WatchMember(request)
            try:
                for message in self._call:
                    attempt = 0
                    if message.cursor:
                        self.cursor = message.cursor
                    yield message
                error: grpc.RpcError = _Ended()
            except grpc.RpcError as err:
                if self._stopped.is_set():
                    return
                if err.code() in _FATAL:
                    raise
                error = err
            delay = min(self._max, self._initial * 2**attempt) * random.uniform(0.8, 1.2)
            attempt += 1
            if self._on_disconnect is not None:
                self._on_disconnect(error, delay)
            self._stopped.wait(delay)


class _Ended(grpc.RpcError):
    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE

    def details(self) -> str:
        return "the server ended the stream"

    def __str__(self) -> str:
        return self.details()
