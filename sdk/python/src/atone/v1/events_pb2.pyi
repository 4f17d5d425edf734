import datetime

from atone.v1 import types_pb2 as _types_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AdjustmentReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ADJUSTMENT_REASON_UNSPECIFIED: _ClassVar[AdjustmentReason]
    ADJUSTMENT_REASON_CANCELLATION: _ClassVar[AdjustmentReason]
    ADJUSTMENT_REASON_REISSUE_FEE: _ClassVar[AdjustmentReason]
ADJUSTMENT_REASON_UNSPECIFIED: AdjustmentReason
ADJUSTMENT_REASON_CANCELLATION: AdjustmentReason
ADJUSTMENT_REASON_REISSUE_FEE: AdjustmentReason

class EventEnvelope(_message.Message):
    __slots__ = ("event_id", "user_id", "version", "occurred_at", "idempotency_key", "correlation_id", "traceparent", "purchase_completed", "payment_promise_created", "member_bill_issued", "payment_completed", "payment_method_changed", "monthly_bill_issued", "purchase_cancelled", "bill_adjusted", "payment_received", "refund_issued", "bill_overdue", "reminder_issued", "credit_limit_changed", "bank_account_set", "bank_debit_failed")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    TRACEPARENT_FIELD_NUMBER: _ClassVar[int]
    PURCHASE_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_PROMISE_CREATED_FIELD_NUMBER: _ClassVar[int]
    MEMBER_BILL_ISSUED_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_CHANGED_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_BILL_ISSUED_FIELD_NUMBER: _ClassVar[int]
    PURCHASE_CANCELLED_FIELD_NUMBER: _ClassVar[int]
    BILL_ADJUSTED_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    REFUND_ISSUED_FIELD_NUMBER: _ClassVar[int]
    BILL_OVERDUE_FIELD_NUMBER: _ClassVar[int]
    REMINDER_ISSUED_FIELD_NUMBER: _ClassVar[int]
    CREDIT_LIMIT_CHANGED_FIELD_NUMBER: _ClassVar[int]
    BANK_ACCOUNT_SET_FIELD_NUMBER: _ClassVar[int]
    BANK_DEBIT_FAILED_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    user_id: str
    version: int
    occurred_at: _timestamp_pb2.Timestamp
    idempotency_key: str
    correlation_id: str
    traceparent: str
    purchase_completed: PurchaseCompleted
    payment_promise_created: PaymentPromiseCreated
    member_bill_issued: MemberBillIssued
    payment_completed: PaymentCompleted
    payment_method_changed: PaymentMethodChanged
    monthly_bill_issued: MonthlyBillIssued
    purchase_cancelled: PurchaseCancelled
    bill_adjusted: BillAdjusted
    payment_received: PaymentReceived
    refund_issued: RefundIssued
    bill_overdue: BillOverdue
    reminder_issued: ReminderIssued
    credit_limit_changed: CreditLimitChanged
    bank_account_set: BankAccountSet
    bank_debit_failed: BankDebitFailed
    def __init__(self, event_id: _Optional[str] = ..., user_id: _Optional[str] = ..., version: _Optional[int] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., idempotency_key: _Optional[str] = ..., correlation_id: _Optional[str] = ..., traceparent: _Optional[str] = ..., purchase_completed: _Optional[_Union[PurchaseCompleted, _Mapping]] = ..., payment_promise_created: _Optional[_Union[PaymentPromiseCreated, _Mapping]] = ..., member_bill_issued: _Optional[_Union[MemberBillIssued, _Mapping]] = ..., payment_completed: _Optional[_Union[PaymentCompleted, _Mapping]] = ..., payment_method_changed: _Optional[_Union[PaymentMethodChanged, _Mapping]] = ..., monthly_bill_issued: _Optional[_Union[MonthlyBillIssued, _Mapping]] = ..., purchase_cancelled: _Optional[_Union[PurchaseCancelled, _Mapping]] = ..., bill_adjusted: _Optional[_Union[BillAdjusted, _Mapping]] = ..., payment_received: _Optional[_Union[PaymentReceived, _Mapping]] = ..., refund_issued: _Optional[_Union[RefundIssued, _Mapping]] = ..., bill_overdue: _Optional[_Union[BillOverdue, _Mapping]] = ..., reminder_issued: _Optional[_Union[ReminderIssued, _Mapping]] = ..., credit_limit_changed: _Optional[_Union[CreditLimitChanged, _Mapping]] = ..., bank_account_set: _Optional[_Union[BankAccountSet, _Mapping]] = ..., bank_debit_failed: _Optional[_Union[BankDebitFailed, _Mapping]] = ...) -> None: ...

class EventRecord(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[EventEnvelope]
    def __init__(self, events: _Optional[_Iterable[_Union[EventEnvelope, _Mapping]]] = ...) -> None: ...

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

class PaymentMethodChanged(_message.Message):
    __slots__ = ("method",)
    METHOD_FIELD_NUMBER: _ClassVar[int]
    method: _types_pb2.PaymentMethod
    def __init__(self, method: _Optional[_Union[_types_pb2.PaymentMethod, str]] = ...) -> None: ...

class MonthlyBillIssued(_message.Message):
    __slots__ = ("bill_id", "period", "promise_ids", "items_total", "fee", "credit_applied", "unapplied_applied", "amount", "method", "issued_date", "due_date")
    BILL_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    PROMISE_IDS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    FEE_FIELD_NUMBER: _ClassVar[int]
    CREDIT_APPLIED_FIELD_NUMBER: _ClassVar[int]
    UNAPPLIED_APPLIED_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    ISSUED_DATE_FIELD_NUMBER: _ClassVar[int]
    DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    bill_id: str
    period: str
    promise_ids: _containers.RepeatedScalarFieldContainer[str]
    items_total: int
    fee: int
    credit_applied: int
    unapplied_applied: int
    amount: int
    method: _types_pb2.PaymentMethod
    issued_date: str
    due_date: str
    def __init__(self, bill_id: _Optional[str] = ..., period: _Optional[str] = ..., promise_ids: _Optional[_Iterable[str]] = ..., items_total: _Optional[int] = ..., fee: _Optional[int] = ..., credit_applied: _Optional[int] = ..., unapplied_applied: _Optional[int] = ..., amount: _Optional[int] = ..., method: _Optional[_Union[_types_pb2.PaymentMethod, str]] = ..., issued_date: _Optional[str] = ..., due_date: _Optional[str] = ...) -> None: ...

class PurchaseCancelled(_message.Message):
    __slots__ = ("order_id", "promise_id", "amount", "remaining_amount", "credited")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    PROMISE_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REMAINING_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CREDITED_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    promise_id: str
    amount: int
    remaining_amount: int
    credited: int
    def __init__(self, order_id: _Optional[str] = ..., promise_id: _Optional[str] = ..., amount: _Optional[int] = ..., remaining_amount: _Optional[int] = ..., credited: _Optional[int] = ...) -> None: ...

class BillAdjusted(_message.Message):
    __slots__ = ("bill_id", "reason", "items_total", "fee", "amount", "cancelled", "credited")
    BILL_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ITEMS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    FEE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    CREDITED_FIELD_NUMBER: _ClassVar[int]
    bill_id: str
    reason: AdjustmentReason
    items_total: int
    fee: int
    amount: int
    cancelled: bool
    credited: int
    def __init__(self, bill_id: _Optional[str] = ..., reason: _Optional[_Union[AdjustmentReason, str]] = ..., items_total: _Optional[int] = ..., fee: _Optional[int] = ..., amount: _Optional[int] = ..., cancelled: _Optional[bool] = ..., credited: _Optional[int] = ...) -> None: ...

class PaymentReceived(_message.Message):
    __slots__ = ("transaction_id", "bill_id", "amount", "received_at", "applied", "applications")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    BILL_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    APPLICATIONS_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    bill_id: str
    amount: int
    received_at: _timestamp_pb2.Timestamp
    applied: bool
    applications: _containers.RepeatedCompositeFieldContainer[_types_pb2.PaymentApplication]
    def __init__(self, transaction_id: _Optional[str] = ..., bill_id: _Optional[str] = ..., amount: _Optional[int] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., applied: _Optional[bool] = ..., applications: _Optional[_Iterable[_Union[_types_pb2.PaymentApplication, _Mapping]]] = ...) -> None: ...

class RefundIssued(_message.Message):
    __slots__ = ("refund_id", "amount", "from_credit", "from_unapplied")
    REFUND_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    FROM_CREDIT_FIELD_NUMBER: _ClassVar[int]
    FROM_UNAPPLIED_FIELD_NUMBER: _ClassVar[int]
    refund_id: str
    amount: int
    from_credit: int
    from_unapplied: int
    def __init__(self, refund_id: _Optional[str] = ..., amount: _Optional[int] = ..., from_credit: _Optional[int] = ..., from_unapplied: _Optional[int] = ...) -> None: ...

class BillOverdue(_message.Message):
    __slots__ = ("bill_id", "since")
    BILL_ID_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    bill_id: str
    since: str
    def __init__(self, bill_id: _Optional[str] = ..., since: _Optional[str] = ...) -> None: ...

class ReminderIssued(_message.Message):
    __slots__ = ("bill_id", "days_overdue", "date")
    BILL_ID_FIELD_NUMBER: _ClassVar[int]
    DAYS_OVERDUE_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    bill_id: str
    days_overdue: int
    date: str
    def __init__(self, bill_id: _Optional[str] = ..., days_overdue: _Optional[int] = ..., date: _Optional[str] = ...) -> None: ...

class CreditLimitChanged(_message.Message):
    __slots__ = ("limit",)
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    def __init__(self, limit: _Optional[int] = ...) -> None: ...

class BankAccountSet(_message.Message):
    __slots__ = ("account",)
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    account: _types_pb2.BankAccount
    def __init__(self, account: _Optional[_Union[_types_pb2.BankAccount, _Mapping]] = ...) -> None: ...

class BankDebitFailed(_message.Message):
    __slots__ = ("bill_id", "code", "reason", "fee", "amount", "due_date")
    BILL_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    FEE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    bill_id: str
    code: int
    reason: str
    fee: int
    amount: int
    due_date: str
    def __init__(self, bill_id: _Optional[str] = ..., code: _Optional[int] = ..., reason: _Optional[str] = ..., fee: _Optional[int] = ..., amount: _Optional[int] = ..., due_date: _Optional[str] = ...) -> None: ...
