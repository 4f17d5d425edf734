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
    __slots__ = ("sources", "watchers")
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    WATCHERS_FIELD_NUMBER: _ClassVar[int]
    sources: _containers.RepeatedCompositeFieldContainer[SourceStatus]
    watchers: int
    def __init__(self, sources: _Optional[_Iterable[_Union[SourceStatus, _Mapping]]] = ..., watchers: _Optional[int] = ...) -> None: ...

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
