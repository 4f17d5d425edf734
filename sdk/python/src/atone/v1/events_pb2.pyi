import datetime

from atone.v1 import types_pb2 as _types_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EventEnvelope(_message.Message):
    __slots__ = ("event_id", "user_id", "version", "occurred_at", "idempotency_key", "correlation_id", "purchase_completed", "payment_promise_created", "member_bill_issued", "payment_completed")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    PURCHASE_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_PROMISE_CREATED_FIELD_NUMBER: _ClassVar[int]
    MEMBER_BILL_ISSUED_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    user_id: str
    version: int
    occurred_at: _timestamp_pb2.Timestamp
    idempotency_key: str
    correlation_id: str
    purchase_completed: PurchaseCompleted
    payment_promise_created: PaymentPromiseCreated
    member_bill_issued: MemberBillIssued
    payment_completed: PaymentCompleted
    def __init__(self, event_id: _Optional[str] = ..., user_id: _Optional[str] = ..., version: _Optional[int] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., idempotency_key: _Optional[str] = ..., correlation_id: _Optional[str] = ..., purchase_completed: _Optional[_Union[PurchaseCompleted, _Mapping]] = ..., payment_promise_created: _Optional[_Union[PaymentPromiseCreated, _Mapping]] = ..., member_bill_issued: _Optional[_Union[MemberBillIssued, _Mapping]] = ..., payment_completed: _Optional[_Union[PaymentCompleted, _Mapping]] = ...) -> None: ...

class PurchaseCompleted(_message.Message):
    __slots__ = ("order_id", "product_id", "product_name", "amount", "payment_mode", "credit_limit")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_NAME_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_MODE_FIELD_NUMBER: _ClassVar[int]
    CREDIT_LIMIT_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    product_id: str
    product_name: str
    amount: int
    payment_mode: _types_pb2.PaymentMode
    credit_limit: int
    def __init__(self, order_id: _Optional[str] = ..., product_id: _Optional[str] = ..., product_name: _Optional[str] = ..., amount: _Optional[int] = ..., payment_mode: _Optional[_Union[_types_pb2.PaymentMode, str]] = ..., credit_limit: _Optional[int] = ...) -> None: ...

class PaymentPromiseCreated(_message.Message):
    __slots__ = ("promise_id", "order_id", "product_id", "product_name", "amount", "payment_mode", "due_date")
    PROMISE_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_NAME_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_MODE_FIELD_NUMBER: _ClassVar[int]
    DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    promise_id: str
    order_id: str
    product_id: str
    product_name: str
    amount: int
    payment_mode: _types_pb2.PaymentMode
    due_date: str
    def __init__(self, promise_id: _Optional[str] = ..., order_id: _Optional[str] = ..., product_id: _Optional[str] = ..., product_name: _Optional[str] = ..., amount: _Optional[int] = ..., payment_mode: _Optional[_Union[_types_pb2.PaymentMode, str]] = ..., due_date: _Optional[str] = ...) -> None: ...

class MemberBillIssued(_message.Message):
    __slots__ = ("bill_id", "promise_ids", "amount", "issued_date", "due_date")
    BILL_ID_FIELD_NUMBER: _ClassVar[int]
    PROMISE_IDS_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    ISSUED_DATE_FIELD_NUMBER: _ClassVar[int]
    DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    bill_id: str
    promise_ids: _containers.RepeatedScalarFieldContainer[str]
    amount: int
    issued_date: str
    due_date: str
    def __init__(self, bill_id: _Optional[str] = ..., promise_ids: _Optional[_Iterable[str]] = ..., amount: _Optional[int] = ..., issued_date: _Optional[str] = ..., due_date: _Optional[str] = ...) -> None: ...

class PaymentCompleted(_message.Message):
    __slots__ = ("bill_id", "amount", "paid_date")
    BILL_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PAID_DATE_FIELD_NUMBER: _ClassVar[int]
    bill_id: str
    amount: int
    paid_date: str
    def __init__(self, bill_id: _Optional[str] = ..., amount: _Optional[int] = ..., paid_date: _Optional[str] = ...) -> None: ...
