import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PaymentMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAYMENT_MODE_UNSPECIFIED: _ClassVar[PaymentMode]
    PAYMENT_MODE_IMMEDIATE: _ClassVar[PaymentMode]
    PAYMENT_MODE_MONTHLY: _ClassVar[PaymentMode]

class PaymentMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAYMENT_METHOD_UNSPECIFIED: _ClassVar[PaymentMethod]
    PAYMENT_METHOD_CONVENIENCE_STORE: _ClassVar[PaymentMethod]
    PAYMENT_METHOD_BANK_DEBIT: _ClassVar[PaymentMethod]

class BillKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BILL_KIND_UNSPECIFIED: _ClassVar[BillKind]
    BILL_KIND_IMMEDIATE: _ClassVar[BillKind]
    BILL_KIND_MONTHLY: _ClassVar[BillKind]

class PromiseStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROMISE_STATUS_UNSPECIFIED: _ClassVar[PromiseStatus]
    PROMISE_STATUS_UNBILLED: _ClassVar[PromiseStatus]
    PROMISE_STATUS_BILLED: _ClassVar[PromiseStatus]
    PROMISE_STATUS_PAID: _ClassVar[PromiseStatus]
    PROMISE_STATUS_CANCELLED: _ClassVar[PromiseStatus]

class BillStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BILL_STATUS_UNSPECIFIED: _ClassVar[BillStatus]
    BILL_STATUS_UNPAID: _ClassVar[BillStatus]
    BILL_STATUS_PAID: _ClassVar[BillStatus]
    BILL_STATUS_OVERDUE: _ClassVar[BillStatus]
    BILL_STATUS_ADJUSTED: _ClassVar[BillStatus]
    BILL_STATUS_CANCELLED: _ClassVar[BillStatus]

class BankAccountKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BANK_ACCOUNT_KIND_UNSPECIFIED: _ClassVar[BankAccountKind]
    BANK_ACCOUNT_KIND_ORDINARY: _ClassVar[BankAccountKind]
    BANK_ACCOUNT_KIND_CHECKING: _ClassVar[BankAccountKind]
PAYMENT_MODE_UNSPECIFIED: PaymentMode
PAYMENT_MODE_IMMEDIATE: PaymentMode
PAYMENT_MODE_MONTHLY: PaymentMode
PAYMENT_METHOD_UNSPECIFIED: PaymentMethod
PAYMENT_METHOD_CONVENIENCE_STORE: PaymentMethod
PAYMENT_METHOD_BANK_DEBIT: PaymentMethod
BILL_KIND_UNSPECIFIED: BillKind
BILL_KIND_IMMEDIATE: BillKind
BILL_KIND_MONTHLY: BillKind
PROMISE_STATUS_UNSPECIFIED: PromiseStatus
PROMISE_STATUS_UNBILLED: PromiseStatus
PROMISE_STATUS_BILLED: PromiseStatus
PROMISE_STATUS_PAID: PromiseStatus
PROMISE_STATUS_CANCELLED: PromiseStatus
BILL_STATUS_UNSPECIFIED: BillStatus
BILL_STATUS_UNPAID: BillStatus
BILL_STATUS_PAID: BillStatus
BILL_STATUS_OVERDUE: BillStatus
BILL_STATUS_ADJUSTED: BillStatus
BILL_STATUS_CANCELLED: BillStatus
BANK_ACCOUNT_KIND_UNSPECIFIED: BankAccountKind
BANK_ACCOUNT_KIND_ORDINARY: BankAccountKind
BANK_ACCOUNT_KIND_CHECKING: BankAccountKind

class PaymentPromise(_message.Message):
    __slots__ = ("promise_id", "order_id", "user_id", "product_id", "product_name", "amount", "payment_mode", "due_date", "status", "bill_id", "purchased_at", "created_version", "cancelled_amount")
    PROMISE_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_NAME_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_MODE_FIELD_NUMBER: _ClassVar[int]
    DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    BILL_ID_FIELD_NUMBER: _ClassVar[int]
    PURCHASED_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_VERSION_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    promise_id: str
    order_id: str
    user_id: str
    product_id: str
    product_name: str
    amount: int
    payment_mode: PaymentMode
    due_date: str
    status: PromiseStatus
    bill_id: str
    purchased_at: _timestamp_pb2.Timestamp
    created_version: int
    cancelled_amount: int
    def __init__(self, promise_id: _Optional[str] = ..., order_id: _Optional[str] = ..., user_id: _Optional[str] = ..., product_id: _Optional[str] = ..., product_name: _Optional[str] = ..., amount: _Optional[int] = ..., payment_mode: _Optional[_Union[PaymentMode, str]] = ..., due_date: _Optional[str] = ..., status: _Optional[_Union[PromiseStatus, str]] = ..., bill_id: _Optional[str] = ..., purchased_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_version: _Optional[int] = ..., cancelled_amount: _Optional[int] = ...) -> None: ...

class MemberBill(_message.Message):
    __slots__ = ("bill_id", "user_id", "promise_ids", "amount", "status", "issued_date", "due_date", "paid_date", "created_version", "kind", "period", "items_total", "fee", "balance_applied", "overdue_since", "reminders_sent", "paid_amount", "left_to_pay", "payment_method", "debit_failure")
    BILL_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    PROMISE_IDS_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ISSUED_DATE_FIELD_NUMBER: _ClassVar[int]
    DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    PAID_DATE_FIELD_NUMBER: _ClassVar[int]
    CREATED_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    ITEMS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    FEE_FIELD_NUMBER: _ClassVar[int]
    BALANCE_APPLIED_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_SINCE_FIELD_NUMBER: _ClassVar[int]
    REMINDERS_SENT_FIELD_NUMBER: _ClassVar[int]
    PAID_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    LEFT_TO_PAY_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    DEBIT_FAILURE_FIELD_NUMBER: _ClassVar[int]
    bill_id: str
    user_id: str
    promise_ids: _containers.RepeatedScalarFieldContainer[str]
    amount: int
    status: BillStatus
    issued_date: str
    due_date: str
    paid_date: str
    created_version: int
    kind: BillKind
    period: str
    items_total: int
    fee: int
    balance_applied: int
    overdue_since: str
    reminders_sent: int
    paid_amount: int
    left_to_pay: int
    payment_method: PaymentMethod
    debit_failure: str
    def __init__(self, bill_id: _Optional[str] = ..., user_id: _Optional[str] = ..., promise_ids: _Optional[_Iterable[str]] = ..., amount: _Optional[int] = ..., status: _Optional[_Union[BillStatus, str]] = ..., issued_date: _Optional[str] = ..., due_date: _Optional[str] = ..., paid_date: _Optional[str] = ..., created_version: _Optional[int] = ..., kind: _Optional[_Union[BillKind, str]] = ..., period: _Optional[str] = ..., items_total: _Optional[int] = ..., fee: _Optional[int] = ..., balance_applied: _Optional[int] = ..., overdue_since: _Optional[str] = ..., reminders_sent: _Optional[int] = ..., paid_amount: _Optional[int] = ..., left_to_pay: _Optional[int] = ..., payment_method: _Optional[_Union[PaymentMethod, str]] = ..., debit_failure: _Optional[str] = ...) -> None: ...

class PaymentApplication(_message.Message):
    __slots__ = ("bill_id", "amount", "left")
    BILL_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    LEFT_FIELD_NUMBER: _ClassVar[int]
    bill_id: str
    amount: int
    left: int
    def __init__(self, bill_id: _Optional[str] = ..., amount: _Optional[int] = ..., left: _Optional[int] = ...) -> None: ...

class MemberSummary(_message.Message):
    __slots__ = ("user_id", "credit_limit", "outstanding_amount", "available_credit", "version", "payment_method", "credit_balance", "unapplied_balance", "overdue_bills", "bank_account")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CREDIT_LIMIT_FIELD_NUMBER: _ClassVar[int]
    OUTSTANDING_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_CREDIT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    CREDIT_BALANCE_FIELD_NUMBER: _ClassVar[int]
    UNAPPLIED_BALANCE_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_BILLS_FIELD_NUMBER: _ClassVar[int]
    BANK_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    credit_limit: int
    outstanding_amount: int
    available_credit: int
    version: int
    payment_method: PaymentMethod
    credit_balance: int
    unapplied_balance: int
    overdue_bills: int
    bank_account: BankAccount
    def __init__(self, user_id: _Optional[str] = ..., credit_limit: _Optional[int] = ..., outstanding_amount: _Optional[int] = ..., available_credit: _Optional[int] = ..., version: _Optional[int] = ..., payment_method: _Optional[_Union[PaymentMethod, str]] = ..., credit_balance: _Optional[int] = ..., unapplied_balance: _Optional[int] = ..., overdue_bills: _Optional[int] = ..., bank_account: _Optional[_Union[BankAccount, _Mapping]] = ...) -> None: ...

class BankAccount(_message.Message):
    __slots__ = ("bank_code", "bank_name", "branch_code", "branch_name", "kind", "account_number", "holder")
    BANK_CODE_FIELD_NUMBER: _ClassVar[int]
    BANK_NAME_FIELD_NUMBER: _ClassVar[int]
    BRANCH_CODE_FIELD_NUMBER: _ClassVar[int]
    BRANCH_NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    bank_code: str
    bank_name: str
    branch_code: str
    branch_name: str
    kind: BankAccountKind
    account_number: str
    holder: str
    def __init__(self, bank_code: _Optional[str] = ..., bank_name: _Optional[str] = ..., branch_code: _Optional[str] = ..., branch_name: _Optional[str] = ..., kind: _Optional[_Union[BankAccountKind, str]] = ..., account_number: _Optional[str] = ..., holder: _Optional[str] = ...) -> None: ...

class Member(_message.Message):
    __slots__ = ("summary", "promises", "bills", "settled_truncated")
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    PROMISES_FIELD_NUMBER: _ClassVar[int]
    BILLS_FIELD_NUMBER: _ClassVar[int]
    SETTLED_TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    summary: MemberSummary
    promises: _containers.RepeatedCompositeFieldContainer[PaymentPromise]
    bills: _containers.RepeatedCompositeFieldContainer[MemberBill]
    settled_truncated: bool
    def __init__(self, summary: _Optional[_Union[MemberSummary, _Mapping]] = ..., promises: _Optional[_Iterable[_Union[PaymentPromise, _Mapping]]] = ..., bills: _Optional[_Iterable[_Union[MemberBill, _Mapping]]] = ..., settled_truncated: _Optional[bool] = ...) -> None: ...
