//! Between atone's own types and the protobuf ones, once: payment modes, statuses and
//! timestamps. Events and their envelope are in [`crate::envelope`].

use atone_domain::{AdjustmentReason, PaymentMethod, PaymentMode};
use atone_projection::{BillKind, BillStatus, PromiseStatus};
use chrono::{DateTime, Utc};
use prost_types::Timestamp;

use crate::v1;

impl From<PaymentMode> for v1::PaymentMode {
    fn from(mode: PaymentMode) -> Self {
        match mode {
            PaymentMode::Immediate => Self::Immediate,
            PaymentMode::Monthly => Self::Monthly,
        }
    }
}

/// A `payment_mode` field that names no payment mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PaymentModeError {
    #[error("is required: PAYMENT_MODE_IMMEDIATE or PAYMENT_MODE_MONTHLY")]
    Unspecified,
    #[error("{0} is not a payment mode; use PAYMENT_MODE_IMMEDIATE or PAYMENT_MODE_MONTHLY")]
    Unknown(i32),
}

impl TryFrom<v1::PaymentMode> for PaymentMode {
    type Error = PaymentModeError;

    fn try_from(mode: v1::PaymentMode) -> Result<Self, Self::Error> {
        match mode {
            v1::PaymentMode::Immediate => Ok(Self::Immediate),
            v1::PaymentMode::Monthly => Ok(Self::Monthly),
            v1::PaymentMode::Unspecified => Err(PaymentModeError::Unspecified),
        }
    }
}

/// The payment mode of a message's `payment_mode` field (an `i32` on the wire).
pub fn payment_mode(value: i32) -> Result<PaymentMode, PaymentModeError> {
    v1::PaymentMode::try_from(value)
        .map_err(|_| PaymentModeError::Unknown(value))?
        .try_into()
}

impl From<PaymentMethod> for v1::PaymentMethod {
    fn from(method: PaymentMethod) -> Self {
        match method {
            PaymentMethod::ConvenienceStore => Self::ConvenienceStore,
            PaymentMethod::BankDebit => Self::BankDebit,
        }
    }
}

/// A `method` field that names no payment method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PaymentMethodError {
    #[error("is required: PAYMENT_METHOD_CONVENIENCE_STORE or PAYMENT_METHOD_BANK_DEBIT")]
    Unspecified,
    #[error(
        "{0} is not a payment method; use PAYMENT_METHOD_CONVENIENCE_STORE or PAYMENT_METHOD_BANK_DEBIT"
    )]
    Unknown(i32),
}

/// The payment method of a message's `method` field (an `i32` on the wire).
pub fn payment_method(value: i32) -> Result<PaymentMethod, PaymentMethodError> {
    match v1::PaymentMethod::try_from(value) {
        Ok(v1::PaymentMethod::ConvenienceStore) => Ok(PaymentMethod::ConvenienceStore),
        Ok(v1::PaymentMethod::BankDebit) => Ok(PaymentMethod::BankDebit),
        Ok(v1::PaymentMethod::Unspecified) => Err(PaymentMethodError::Unspecified),
        Err(_) => Err(PaymentMethodError::Unknown(value)),
    }
}

impl From<AdjustmentReason> for v1::AdjustmentReason {
    fn from(reason: AdjustmentReason) -> Self {
        match reason {
            AdjustmentReason::Cancellation => Self::Cancellation,
            AdjustmentReason::ReissueFee => Self::ReissueFee,
        }
    }
}

/// The adjustment reason of an event's `reason` field.
pub fn adjustment_reason(value: i32) -> Option<AdjustmentReason> {
    match v1::AdjustmentReason::try_from(value) {
        Ok(v1::AdjustmentReason::Cancellation) => Some(AdjustmentReason::Cancellation),
        Ok(v1::AdjustmentReason::ReissueFee) => Some(AdjustmentReason::ReissueFee),
        Ok(v1::AdjustmentReason::Unspecified) | Err(_) => None,
    }
}

impl From<PromiseStatus> for v1::PromiseStatus {
    fn from(status: PromiseStatus) -> Self {
        match status {
            PromiseStatus::Unbilled => Self::Unbilled,
            PromiseStatus::Billed => Self::Billed,
            PromiseStatus::Paid => Self::Paid,
            PromiseStatus::Cancelled => Self::Cancelled,
        }
    }
}

impl From<BillStatus> for v1::BillStatus {
    fn from(status: BillStatus) -> Self {
        match status {
            BillStatus::Unpaid => Self::Unpaid,
            BillStatus::Paid => Self::Paid,
            BillStatus::Overdue => Self::Overdue,
            BillStatus::Adjusted => Self::Adjusted,
            BillStatus::Cancelled => Self::Cancelled,
        }
    }
}

impl From<BillKind> for v1::BillKind {
    fn from(kind: BillKind) -> Self {
        match kind {
            BillKind::Immediate => Self::Immediate,
            BillKind::Monthly => Self::Monthly,
        }
    }
}

pub fn timestamp(at: DateTime<Utc>) -> Timestamp {
    Timestamp {
        seconds: at.timestamp(),
        nanos: at.timestamp_subsec_nanos() as i32,
    }
}

/// The instant a `Timestamp` names, if it is a valid one.
pub fn datetime(t: Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?)
}

/// A JSON value as protobuf's `Value` (numbers become doubles, as in proto3 JSON).
pub fn json_value(value: serde_json::Value) -> prost_types::Value {
    use prost_types::value::Kind;
    let kind = match value {
        serde_json::Value::Null => Kind::NullValue(0),
        serde_json::Value::Bool(b) => Kind::BoolValue(b),
        serde_json::Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or_default()),
        serde_json::Value::String(s) => Kind::StringValue(s),
        serde_json::Value::Array(items) => Kind::ListValue(prost_types::ListValue {
            values: items.into_iter().map(json_value).collect(),
        }),
        serde_json::Value::Object(map) => Kind::StructValue(json_struct(map)),
    };
    prost_types::Value { kind: Some(kind) }
}

/// A JSON object as protobuf's `Struct`.
pub fn json_struct(map: serde_json::Map<String, serde_json::Value>) -> prost_types::Struct {
    prost_types::Struct {
        fields: map.into_iter().map(|(k, v)| (k, json_value(v))).collect(),
    }
}

/// Protobuf's `Value` as JSON (a whole number comes back as an integer).
pub fn value_json(value: &prost_types::Value) -> serde_json::Value {
    use prost_types::value::Kind;
    match &value.kind {
        None | Some(Kind::NullValue(_)) => serde_json::Value::Null,
        Some(Kind::BoolValue(b)) => serde_json::Value::Bool(*b),
        Some(Kind::NumberValue(n)) if n.fract() == 0.0 && n.abs() < 9.0e15 => {
            serde_json::Value::from(*n as i64)
        }
        Some(Kind::NumberValue(n)) => serde_json::Value::from(*n),
        Some(Kind::StringValue(s)) => serde_json::Value::String(s.clone()),
        Some(Kind::ListValue(list)) => list.values.iter().map(value_json).collect(),
        Some(Kind::StructValue(s)) => struct_json(s),
    }
}

/// Protobuf's `Struct` as a JSON object.
pub fn struct_json(s: &prost_types::Struct) -> serde_json::Value {
    serde_json::Value::Object(
        s.fields
            .iter()
            .map(|(k, v)| (k.clone(), value_json(v)))
            .collect(),
    )
}

/// Money applied to one bill (消込), as the API shows it.
pub fn application(a: &atone_domain::Application) -> v1::PaymentApplication {
    v1::PaymentApplication {
        bill_id: a.bill_id.to_string(),
        amount: a.amount,
        left: a.left,
    }
}

/// A bank account as the API carries it. Answers carry [`atone_domain::BankAccount::masked`].
pub fn bank_account(a: &atone_domain::BankAccount) -> v1::BankAccount {
    v1::BankAccount {
        bank_code: a.bank_code.clone(),
        bank_name: a.bank_name.clone(),
        branch_code: a.branch_code.clone(),
        branch_name: a.branch_name.clone(),
        kind: match a.kind {
            atone_domain::AccountKind::Ordinary => v1::BankAccountKind::Ordinary,
            atone_domain::AccountKind::Checking => v1::BankAccountKind::Checking,
        } as i32,
        account_number: a.number.clone(),
        holder: a.holder.clone(),
    }
}

/// A bank account from the API, as given (not validated yet); `None` for a kind this
/// version does not know.
pub fn account_of(a: &v1::BankAccount) -> Option<atone_domain::BankAccount> {
    let kind = match v1::BankAccountKind::try_from(a.kind).ok()? {
        v1::BankAccountKind::Unspecified | v1::BankAccountKind::Ordinary => {
            atone_domain::AccountKind::Ordinary
        }
        v1::BankAccountKind::Checking => atone_domain::AccountKind::Checking,
    };
    Some(atone_domain::BankAccount {
        bank_code: a.bank_code.clone(),
        bank_name: a.bank_name.clone(),
        branch_code: a.branch_code.clone(),
        branch_name: a.branch_name.clone(),
        kind,
        number: a.account_number.clone(),
        holder: a.holder.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_modes_convert_both_ways() {
        for mode in [PaymentMode::Immediate, PaymentMode::Monthly] {
            assert_eq!(payment_mode(v1::PaymentMode::from(mode) as i32), Ok(mode));
        }
        assert_eq!(payment_mode(0), Err(PaymentModeError::Unspecified));
        assert_eq!(payment_mode(99), Err(PaymentModeError::Unknown(99)));
        for method in [PaymentMethod::ConvenienceStore, PaymentMethod::BankDebit] {
            assert_eq!(
                payment_method(v1::PaymentMethod::from(method) as i32),
                Ok(method)
            );
        }
        assert_eq!(payment_method(0), Err(PaymentMethodError::Unspecified));
        for reason in [AdjustmentReason::Cancellation, AdjustmentReason::ReissueFee] {
            assert_eq!(
                adjustment_reason(v1::AdjustmentReason::from(reason) as i32),
                Some(reason)
            );
        }
    }

    #[test]
    fn timestamps_keep_nanoseconds() {
        let at = DateTime::from_timestamp(1_770_000_000, 123_456_789).unwrap();
        assert_eq!(datetime(timestamp(at)), Some(at));
        let bad = Timestamp {
            seconds: 0,
            nanos: -1,
        };
        assert_eq!(datetime(bad), None);
    }

    #[test]
    fn json_round_trips_through_struct() {
        let json = serde_json::json!({
            "amount": 5000,
            "ratio": 0.5,
            "name": "ワイヤレスイヤホン",
            "ids": ["a", "b"],
            "nested": {"ok": true, "none": null},
        });
        let serde_json::Value::Object(map) = json.clone() else {
            unreachable!()
        };
        assert_eq!(struct_json(&json_struct(map)), json);
    }
}
