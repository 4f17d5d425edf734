import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetStatusResponse(_message.Message):
    __slots__ = ("sources", "watchers", "dead_letters", "parked_members")
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    WATCHERS_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTERS_FIELD_NUMBER: _ClassVar[int]
    PARKED_MEMBERS_FIELD_NUMBER: _ClassVar[int]
    sources: _containers.RepeatedCompositeFieldContainer[SourceStatus]
    watchers: int
    dead_letters: int
    parked_members: int
    def __init__(self, sources: _Optional[_Iterable[_Union[SourceStatus, _Mapping]]] = ..., watchers: _Optional[int] = ..., dead_letters: _Optional[int] = ..., parked_members: _Optional[int] = ...) -> None: ...

class ListDeadLettersRequest(_message.Message):
    __slots__ = ("user_id", "include_resolved", "page_size", "page_token")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_RESOLVED_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    include_resolved: bool
    page_size: int
    page_token: str
    def __init__(self, user_id: _Optional[str] = ..., include_resolved: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListDeadLettersResponse(_message.Message):
    __slots__ = ("dead_letters", "next_page_token")
    DEAD_LETTERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    dead_letters: _containers.RepeatedCompositeFieldContainer[DeadLetter]
    next_page_token: str
    def __init__(self, dead_letters: _Optional[_Iterable[_Union[DeadLetter, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeadLetter(_message.Message):
    __slots__ = ("user_id", "version", "event_id", "event_type", "source_id", "status", "error", "parked_at", "resolved_at", "resolved_by", "note")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    PARKED_AT_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_AT_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_BY_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    version: int
    event_id: str
    event_type: str
    source_id: str
    status: str
    error: str
    parked_at: _timestamp_pb2.Timestamp
    resolved_at: _timestamp_pb2.Timestamp
    resolved_by: str
    note: str
    def __init__(self, user_id: _Optional[str] = ..., version: _Optional[int] = ..., event_id: _Optional[str] = ..., event_type: _Optional[str] = ..., source_id: _Optional[str] = ..., status: _Optional[str] = ..., error: _Optional[str] = ..., parked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolved_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolved_by: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class RetryDeadLettersRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class RetryDeadLettersResponse(_message.Message):
    __slots__ = ("applied", "still_parked", "version")
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    STILL_PARKED_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    applied: int
    still_parked: int
    version: int
    def __init__(self, applied: _Optional[int] = ..., still_parked: _Optional[int] = ..., version: _Optional[int] = ...) -> None: ...

class SkipDeadLetterRequest(_message.Message):
    __slots__ = ("user_id", "version", "reason")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    version: int
    reason: str
    def __init__(self, user_id: _Optional[str] = ..., version: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class SkipDeadLetterResponse(_message.Message):
    __slots__ = ("applied", "still_parked", "version")
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    STILL_PARKED_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    applied: int
    still_parked: int
    version: int
    def __init__(self, applied: _Optional[int] = ..., still_parked: _Optional[int] = ..., version: _Optional[int] = ...) -> None: ...

class SourceStatus(_message.Message):
    __slots__ = ("source_id", "kind", "owner", "checkpoint", "events_applied", "lag_events", "lag_millis", "invalid_records", "finished", "parent_ids", "lease_expires_at", "updated_at")
    SOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    EVENTS_APPLIED_FIELD_NUMBER: _ClassVar[int]
    LAG_EVENTS_FIELD_NUMBER: _ClassVar[int]
    LAG_MILLIS_FIELD_NUMBER: _ClassVar[int]
    INVALID_RECORDS_FIELD_NUMBER: _ClassVar[int]
    FINISHED_FIELD_NUMBER: _ClassVar[int]
    PARENT_IDS_FIELD_NUMBER: _ClassVar[int]
    LEASE_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    source_id: str
    kind: str
    owner: str
    checkpoint: str
    events_applied: int
    lag_events: int
    lag_millis: int
    invalid_records: int
    finished: bool
    parent_ids: _containers.RepeatedScalarFieldContainer[str]
    lease_expires_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, source_id: _Optional[str] = ..., kind: _Optional[str] = ..., owner: _Optional[str] = ..., checkpoint: _Optional[str] = ..., events_applied: _Optional[int] = ..., lag_events: _Optional[int] = ..., lag_millis: _Optional[int] = ..., invalid_records: _Optional[int] = ..., finished: _Optional[bool] = ..., parent_ids: _Optional[_Iterable[str]] = ..., lease_expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
