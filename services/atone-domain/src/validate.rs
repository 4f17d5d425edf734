//! Limits on what a request may carry. Messages never echo a long value back.

use uuid::Uuid;

use crate::DomainError;

/// The longest user_id, product_id and idempotency key, in bytes.
pub const MAX_ID_BYTES: usize = 128;
/// The longest product name, in bytes.
pub const MAX_NAME_BYTES: usize = 256;

pub fn user_id(value: &str) -> Result<(), DomainError> {
    text("user_id", value, MAX_ID_BYTES, true)
}

pub fn idempotency_key(value: &str) -> Result<(), DomainError> {
    text("idempotency_key", value, MAX_ID_BYTES, true)
}

pub fn product(product_id: &str, product_name: &str) -> Result<(), DomainError> {
    text("product_id", product_id, MAX_ID_BYTES, true)?;
    text("product_name", product_name, MAX_NAME_BYTES, false)
}

/// Parses an id the service made (order, promise, bill): a UUID.
pub fn id(field: &'static str, value: &str) -> Result<Uuid, DomainError> {
    if value.is_empty() {
        return Err(DomainError::invalid(field, "is required"));
    }
    Uuid::try_parse(value)
        .map_err(|_| DomainError::invalid(field, format!("{} is not a UUID", shown(value))))
}

fn text(field: &'static str, value: &str, max: usize, required: bool) -> Result<(), DomainError> {
    if required && value.trim().is_empty() {
        return Err(DomainError::invalid(field, "is required"));
    }
    if value.len() > max {
        return Err(DomainError::invalid(
            field,
            format!("is {} bytes long; at most {max} are allowed", value.len()),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// The value quoted for an error message, cut short if long.
fn shown(value: &str) -> String {
    const MAX: usize = 40;
    if value.chars().count() <= MAX {
        format!("{value:?}")
    } else {
        let head: String = value.chars().take(MAX).collect();
        format!("{head:?}…")
    }
}
