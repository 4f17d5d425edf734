import datetime

from atone.v1 import types_pb2 as _types_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SnapshotReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SNAPSHOT_REASON_UNSPECIFIED: _ClassVar[SnapshotReason]
    SNAPSHOT_REASON_INITIAL: _ClassVar[SnapshotReason]
    SNAPSHOT_REASON_CURSOR_EXPIRED: _ClassVar[SnapshotReason]
SNAPSHOT_REASON_UNSPECIFIED: SnapshotReason
SNAPSHOT_REASON_INITIAL: SnapshotReason
SNAPSHOT_REASON_CURSOR_EXPIRED: SnapshotReason

class SubscribeEventsRequest(_message.Message):
    __slots__ = ("after_position", "from_now", "event_types")
    AFTER_POSITION_FIELD_NUMBER: _ClassVar[int]
    FROM_NOW_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    after_position: int
    from_now: bool
    event_types: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, after_position: _Optional[int] = ..., from_now: _Optional[bool] = ..., event_types: _Optional[_Iterable[str]] = ...) -> None: ...

class SubscribeEventsResponse(_message.Message):
    __slots__ = ("event", "checkpoint")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    event: GlobalEvent
    checkpoint: SubscriptionCheckpoint
    def __init__(self, event: _Optional[_Union[GlobalEvent, _Mapping]] = ..., checkpoint: _Optional[_Union[SubscriptionCheckpoint, _Mapping]] = ...) -> None: ...

class GlobalEvent(_message.Message):
    __slots__ = ("position", "user_id", "event")
    POSITION_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    position: int
    user_id: str
    event: StoredEvent
    def __init__(self, position: _Optional[int] = ..., user_id: _Optional[str] = ..., event: _Optional[_Union[StoredEvent, _Mapping]] = ...) -> None: ...

class SubscriptionCheckpoint(_message.Message):
    __slots__ = ("position", "caught_up")
    POSITION_FIELD_NUMBER: _ClassVar[int]
    CAUGHT_UP_FIELD_NUMBER: _ClassVar[int]
    position: int
    caught_up: bool
    def __init__(self, position: _Optional[int] = ..., caught_up: _Optional[bool] = ...) -> None: ...

class ListMemberEventsRequest(_message.Message):
    __slots__ = ("user_id", "after_version", "page_size")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_VERSION_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    after_version: int
    page_size: int
    def __init__(self, user_id: _Optional[str] = ..., after_version: _Optional[int] = ..., page_size: _Optional[int] = ...) -> None: ...

class ListMemberEventsResponse(_message.Message):
    __slots__ = ("events", "next_after_version")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_AFTER_VERSION_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[StoredEvent]
    next_after_version: int
    def __init__(self, events: _Optional[_Iterable[_Union[StoredEvent, _Mapping]]] = ..., next_after_version: _Optional[int] = ...) -> None: ...

class StoredEvent(_message.Message):
    __slots__ = ("event_id", "version", "event_type", "occurred_at", "payload", "correlation_id", "idempotency_key")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    version: int
    event_type: str
    occurred_at: _timestamp_pb2.Timestamp
    payload: _struct_pb2.Struct
    correlation_id: str
    idempotency_key: str
    def __init__(self, event_id: _Optional[str] = ..., version: _Optional[int] = ..., event_type: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., payload: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., correlation_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class GetMemberRequest(_message.Message):
    __slots__ = ("user_id", "min_version")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_VERSION_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    min_version: int
    def __init__(self, user_id: _Optional[str] = ..., min_version: _Optional[int] = ...) -> None: ...

class GetMemberResponse(_message.Message):
    __slots__ = ("member",)
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    member: _types_pb2.Member
    def __init__(self, member: _Optional[_Union[_types_pb2.Member, _Mapping]] = ...) -> None: ...

class ListPaymentPromisesRequest(_message.Message):
    __slots__ = ("user_id", "page_size", "page_token", "min_version")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    MIN_VERSION_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    page_size: int
    page_token: str
    min_version: int
    def __init__(self, user_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., min_version: _Optional[int] = ...) -> None: ...

class ListPaymentPromisesResponse(_message.Message):
    __slots__ = ("promises", "next_page_token")
    PROMISES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    promises: _containers.RepeatedCompositeFieldContainer[_types_pb2.PaymentPromise]
    next_page_token: str
    def __init__(self, promises: _Optional[_Iterable[_Union[_types_pb2.PaymentPromise, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListMemberBillsRequest(_message.Message):
    __slots__ = ("user_id", "page_size", "page_token", "min_version")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    MIN_VERSION_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    page_size: int
    page_token: str
    min_version: int
    def __init__(self, user_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., min_version: _Optional[int] = ...) -> None: ...

class ListMemberBillsResponse(_message.Message):
    __slots__ = ("bills", "next_page_token")
    BILLS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    bills: _containers.RepeatedCompositeFieldContainer[_types_pb2.MemberBill]
    next_page_token: str
    def __init__(self, bills: _Optional[_Iterable[_Union[_types_pb2.MemberBill, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class WatchMemberRequest(_message.Message):
    __slots__ = ("user_id", "cursor", "min_version")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    MIN_VERSION_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    cursor: str
    min_version: int
    def __init__(self, user_id: _Optional[str] = ..., cursor: _Optional[str] = ..., min_version: _Optional[int] = ...) -> None: ...

class WatchMemberResponse(_message.Message):
    __slots__ = ("cursor", "snapshot", "change")
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    snapshot: Snapshot
    change: MemberChange
    def __init__(self, cursor: _Optional[str] = ..., snapshot: _Optional[_Union[Snapshot, _Mapping]] = ..., change: _Optional[_Union[MemberChange, _Mapping]] = ...) -> None: ...

class Snapshot(_message.Message):
    __slots__ = ("member", "reason")
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    member: _types_pb2.Member
    reason: SnapshotReason
    def __init__(self, member: _Optional[_Union[_types_pb2.Member, _Mapping]] = ..., reason: _Optional[_Union[SnapshotReason, str]] = ...) -> None: ...

class MemberChange(_message.Message):
    __slots__ = ("version", "event_type", "occurred_at", "summary", "promises", "bills")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    PROMISES_FIELD_NUMBER: _ClassVar[int]
    BILLS_FIELD_NUMBER: _ClassVar[int]
    version: int
    event_type: str
    occurred_at: _timestamp_pb2.Timestamp
    summary: _types_pb2.MemberSummary
    promises: _containers.RepeatedCompositeFieldContainer[_types_pb2.PaymentPromise]
    bills: _containers.RepeatedCompositeFieldContainer[_types_pb2.MemberBill]
    def __init__(self, version: _Optional[int] = ..., event_type: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., summary: _Optional[_Union[_types_pb2.MemberSummary, _Mapping]] = ..., promises: _Optional[_Iterable[_Union[_types_pb2.PaymentPromise, _Mapping]]] = ..., bills: _Optional[_Iterable[_Union[_types_pb2.MemberBill, _Mapping]]] = ...) -> None: ...
