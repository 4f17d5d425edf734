from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class CloseBillingPeriodRequest(_message.Message):
    __slots__ = ("period",)
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    period: str
    def __init__(self, period: _Optional[str] = ...) -> None: ...

class CloseBillingPeriodResponse(_message.Message):
    __slots__ = ("period", "members_total", "members_done", "bills_issued", "done")
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_DONE_FIELD_NUMBER: _ClassVar[int]
    BILLS_ISSUED_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    period: str
    members_total: int
    members_done: int
    bills_issued: int
    done: bool
    def __init__(self, period: _Optional[str] = ..., members_total: _Optional[int] = ..., members_done: _Optional[int] = ..., bills_issued: _Optional[int] = ..., done: _Optional[bool] = ...) -> None: ...

class MarkOverdueBillsRequest(_message.Message):
    __slots__ = ("as_of",)
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    as_of: str
    def __init__(self, as_of: _Optional[str] = ...) -> None: ...

class MarkOverdueBillsResponse(_message.Message):
    __slots__ = ("as_of", "members_total", "members_done", "bills_overdue", "done")
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_DONE_FIELD_NUMBER: _ClassVar[int]
    BILLS_OVERDUE_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    as_of: str
    members_total: int
    members_done: int
    bills_overdue: int
    done: bool
    def __init__(self, as_of: _Optional[str] = ..., members_total: _Optional[int] = ..., members_done: _Optional[int] = ..., bills_overdue: _Optional[int] = ..., done: _Optional[bool] = ...) -> None: ...
