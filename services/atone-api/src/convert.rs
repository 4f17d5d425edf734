//! Between atone's own types and the protobuf ones, once: payment modes, statuses and
//! timestamps. Events and their envelope are in [`crate::envelope`].

use atone_domain::PaymentMode;
use atone_projection::{BillStatus, PromiseStatus};
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

impl From<PromiseStatus> for v1::PromiseStatus {
    fn from(status: PromiseStatus) -> Self {
        match status {
            PromiseStatus::Unbilled => Self::Unbilled,
            PromiseStatus::Billed => Self::Billed,
            PromiseStatus::Paid => Self::Paid,
        }
    }
}

impl From<BillStatus> for v1::BillStatus {
    fn from(status: BillStatus) -> Self {
        match status {
            BillStatus::Unpaid => Self::Unpaid,
            BillStatus::Paid => Self::Paid,
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
}
