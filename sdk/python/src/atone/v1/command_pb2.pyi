import datetime

from atone.v1 import types_pb2 as _types_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PurchaseRequest(_message.Message):
    __slots__ = ("user_id", "product_id", "product_name", "amount", "payment_mode", "idempotency_key")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_NAME_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_MODE_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    product_id: str
    product_name: str
    amount: int
    payment_mode: _types_pb2.PaymentMode
    idempotency_key: str
    def __init__(self, user_id: _Optional[str] = ..., product_id: _Optional[str] = ..., product_name: _Optional[str] = ..., amount: _Optional[int] = ..., payment_mode: _Optional[_Union[_types_pb2.PaymentMode, str]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class PurchaseResponse(_message.Message):
    __slots__ = ("order_id", "promise_id", "due_date", "version")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    PROMISE_ID_FIELD_NUMBER: _ClassVar[int]
    DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    promise_id: str
    due_date: str
    version: int
    def __init__(self, order_id: _Optional[str] = ..., promise_id: _Optional[str] = ..., due_date: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class IssueImmediateBillRequest(_message.Message):
    __slots__ = ("user_id", "promise_id", "amount", "idempotency_key")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    PROMISE_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    promise_id: str
    amount: int
    idempotency_key: str
    def __init__(self, user_id: _Optional[str] = ..., promise_id: _Optional[str] = ..., amount: _Optional[int] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class IssueImmediateBillResponse(_message.Message):
    __slots__ = ("bill_id", "due_date", "version")
    BILL_ID_FIELD_NUMBER: _ClassVar[int]
    DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    bill_id: str
    due_date: str
    version: int
    def __init__(self, bill_id: _Optional[str] = ..., due_date: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class CompletePaymentRequest(_message.Message):
    __slots__ = ("user_id", "bill_id", "amount", "idempotency_key")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    BILL_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    bill_id: str
    amount: int
    idempotency_key: str
    def __init__(self, user_id: _Optional[str] = ..., bill_id: _Optional[str] = ..., amount: _Optional[int] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class CompletePaymentResponse(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: int
    def __init__(self, version: _Optional[int] = ...) -> None: ...

class SetPaymentMethodRequest(_message.Message):
    __slots__ = ("user_id", "method", "idempotency_key")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    method: _types_pb2.PaymentMethod
    idempotency_key: str
    def __init__(self, user_id: _Optional[str] = ..., method: _Optional[_Union[_types_pb2.PaymentMethod, str]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class SetPaymentMethodResponse(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: int
    def __init__(self, version: _Optional[int] = ...) -> None: ...

class CancelPurchaseRequest(_message.Message):
    __slots__ = ("user_id", "order_id", "amount", "idempotency_key")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    order_id: str
    amount: int
    idempotency_key: str
    def __init__(self, user_id: _Optional[str] = ..., order_id: _Optional[str] = ..., amount: _Optional[int] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class CancelPurchaseResponse(_message.Message):
    __slots__ = ("promise_id", "remaining_amount", "version")
    PROMISE_ID_FIELD_NUMBER: _ClassVar[int]
    REMAINING_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    promise_id: str
    remaining_amount: int
    version: int
    def __init__(self, promise_id: _Optional[str] = ..., remaining_amount: _Optional[int] = ..., version: _Optional[int] = ...) -> None: ...

class ReceivePaymentRequest(_message.Message):
    __slots__ = ("user_id", "transaction_id", "bill_id", "amount", "received_at")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    BILL_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    transaction_id: str
    bill_id: str
    amount: int
    received_at: _timestamp_pb2.Timestamp
    def __init__(self, user_id: _Optional[str] = ..., transaction_id: _Optional[str] = ..., bill_id: _Optional[str] = ..., amount: _Optional[int] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReceivePaymentResponse(_message.Message):
    __slots__ = ("applied", "version", "applications", "kept")
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    APPLICATIONS_FIELD_NUMBER: _ClassVar[int]
    KEPT_FIELD_NUMBER: _ClassVar[int]
    applied: bool
    version: int
    applications: _containers.RepeatedCompositeFieldContainer[_types_pb2.PaymentApplication]
    kept: int
    def __init__(self, applied: _Optional[bool] = ..., version: _Optional[int] = ..., applications: _Optional[_Iterable[_Union[_types_pb2.PaymentApplication, _Mapping]]] = ..., kept: _Optional[int] = ...) -> None: ...

class IssueRefundRequest(_message.Message):
    __slots__ = ("user_id", "amount", "idempotency_key")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    amount: int
    idempotency_key: str
    def __init__(self, user_id: _Optional[str] = ..., amount: _Optional[int] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class IssueRefundResponse(_message.Message):
    __slots__ = ("refund_id", "amount", "version")
    REFUND_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    refund_id: str
    amount: int
    version: int
    def __init__(self, refund_id: _Optional[str] = ..., amount: _Optional[int] = ..., version: _Optional[int] = ...) -> None: ...

class ChangeCreditLimitRequest(_message.Message):
    __slots__ = ("user_id", "limit", "idempotency_key")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    limit: int
    idempotency_key: str
    def __init__(self, user_id: _Optional[str] = ..., limit: _Optional[int] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class ChangeCreditLimitResponse(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: int
    def __init__(self, version: _Optional[int] = ...) -> None: ...

class SetBankAccountRequest(_message.Message):
    __slots__ = ("user_id", "account", "idempotency_key")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    account: _types_pb2.BankAccount
    idempotency_key: str
    def __init__(self, user_id: _Optional[str] = ..., account: _Optional[_Union[_types_pb2.BankAccount, _Mapping]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class SetBankAccountResponse(_message.Message):
    __slots__ = ("version", "account")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    version: int
    account: _types_pb2.BankAccount
    def __init__(self, version: _Optional[int] = ..., account: _Optional[_Union[_types_pb2.BankAccount, _Mapping]] = ...) -> None: ...
