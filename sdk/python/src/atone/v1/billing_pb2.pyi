from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ExportBankDebitsRequest(_message.Message):
    __slots__ = ("debit_date",)
    DEBIT_DATE_FIELD_NUMBER: _ClassVar[int]
    debit_date: str
    def __init__(self, debit_date: _Optional[str] = ...) -> None: ...

class ExportBankDebitsResponse(_message.Message):
    __slots__ = ("file", "digest", "debits", "total_amount", "skipped")
    FILE_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    DEBITS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    file: bytes
    digest: str
    debits: int
    total_amount: int
    skipped: _containers.RepeatedCompositeFieldContainer[SkippedDebit]
    def __init__(self, file: _Optional[bytes] = ..., digest: _Optional[str] = ..., debits: _Optional[int] = ..., total_amount: _Optional[int] = ..., skipped: _Optional[_Iterable[_Union[SkippedDebit, _Mapping]]] = ...) -> None: ...

class SkippedDebit(_message.Message):
    __slots__ = ("user_id", "bill_id", "reason")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    BILL_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    bill_id: str
    reason: str
    def __init__(self, user_id: _Optional[str] = ..., bill_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ImportBankDebitResultsRequest(_message.Message):
    __slots__ = ("file",)
    FILE_FIELD_NUMBER: _ClassVar[int]
    file: bytes
    def __init__(self, file: _Optional[bytes] = ...) -> None: ...

class ImportBankDebitResultsResponse(_message.Message):
    __slots__ = ("debits", "debited", "debited_amount", "failed", "already_imported")
    DEBITS_FIELD_NUMBER: _ClassVar[int]
    DEBITED_FIELD_NUMBER: _ClassVar[int]
    DEBITED_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    ALREADY_IMPORTED_FIELD_NUMBER: _ClassVar[int]
    debits: int
    debited: int
    debited_amount: int
    failed: int
    already_imported: int
    def __init__(self, debits: _Optional[int] = ..., debited: _Optional[int] = ..., debited_amount: _Optional[int] = ..., failed: _Optional[int] = ..., already_imported: _Optional[int] = ...) -> None: ...

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
