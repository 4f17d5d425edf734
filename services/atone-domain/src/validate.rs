//! Limits on what a request may carry. Messages never echo a long value back.

use uuid::Uuid;

use crate::DomainError;

/// The longest user_id, product_id and idempotency key, in bytes.
pub const MAX_ID_BYTES: usize = 128;
/// The longest product name, in bytes.
pub const MAX_NAME_BYTES: usize = 256;

/// A member id. Ids are compared byte for byte everywhere (tokens, watcher slots, the
/// event store, the read models), so one that a person or a database could read as
/// another is refused: leading or trailing whitespace (a PAD SPACE collation ignores
/// trailing spaces), control characters, invisible and direction-changing characters.
/// Case, width and composition are kept as sent: `Alice`, `ａｌｉｃｅ` and `alice` are
/// three members.
pub fn user_id(value: &str) -> Result<(), DomainError> {
    id_text("user_id", value)
}

pub fn idempotency_key(value: &str) -> Result<(), DomainError> {
    id_text("idempotency_key", value)
}

pub fn product(product_id: &str, product_name: &str) -> Result<(), DomainError> {
    id_text("product_id", product_id)?;
    text("product_name", product_name, MAX_NAME_BYTES, false)
}

/// An id: required, at most [`MAX_ID_BYTES`], and without whitespace at either end.
fn id_text(field: &'static str, value: &str) -> Result<(), DomainError> {
    text(field, value, MAX_ID_BYTES, true)?;
    if value.starts_with(char::is_whitespace) || value.ends_with(char::is_whitespace) {
        return Err(DomainError::invalid(
            field,
            format!(
                "{} has whitespace at its start or end; ids are compared byte for byte",
                shown(value)
            ),
        ));
    }
    Ok(())
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
    if let Some(c) = value.chars().find(|&c| hidden(c)) {
        return Err(DomainError::invalid(
            field,
            format!(
                "must not contain invisible or direction-changing characters (U+{:04X})",
                u32::from(c)
            ),
        ));
    }
    Ok(())
}

/// Characters that change how text around them shows without showing themselves: the
/// bidirectional overrides, embeddings and isolates (which can make one id look like
/// another in a log or a page), the zero-width characters and the byte-order mark.
fn hidden(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}' // zero-width space, joiners, LRM, RLM
            | '\u{202A}'..='\u{202E}' // embeddings and overrides
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{2066}'..='\u{2069}' // isolates
            | '\u{061C}' // Arabic letter mark
            | '\u{FEFF}' // byte-order mark, zero-width no-break space
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names_refuse_characters_that_hide_or_turn_text() {
        for bad in [
            "user-\u{202E}10-tset",   // right-to-left override
            "user\u{2066}01\u{2069}", // isolate
            "user\u{200B}01",         // zero-width space
            "user\u{200D}01",         // zero-width joiner
            "\u{FEFF}user01",         // byte-order mark
            "user\u{061C}01",         // Arabic letter mark
        ] {
            let message = user_id(bad)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(
                message.contains("invisible or direction-changing"),
                "{bad:?} → {message:?}"
            );
            assert!(product("prod-1", bad).is_err(), "product name {bad:?}");
        }
    }

    #[test]
    fn ids_refuse_whitespace_at_either_end_in_any_form() {
        for bad in [
            "victim ",
            " victim",
            "victim\t",
            "victim\u{00A0}", // no-break space
            "\u{3000}victim", // ideographic space
            "victim\u{2003}", // em space
            "victim\n",
        ] {
            assert!(user_id(bad).is_err(), "user_id {bad:?}");
            assert!(idempotency_key(bad).is_err(), "idempotency_key {bad:?}");
            assert!(product(bad, "name").is_err(), "product_id {bad:?}");
        }
        // Inside an id a space is an ordinary character; a product name may end in one.
        assert!(user_id("victim two").is_ok());
        assert!(product("prod-1", "name ").is_ok());
    }

    #[test]
    fn ordinary_text_in_any_script_is_allowed() {
        for good in [
            "test-user-01",
            "ユーザー01",
            "مستخدم",
            "משתמש",
            "用户_01",
            "ａｌｉｃｅ",
            "Alice",
            "e\u{301}",
            "🦀",
        ] {
            assert!(user_id(good).is_ok(), "{good:?}");
        }
        assert!(product("prod-1", "ワイヤレスイヤホン (黒)").is_ok());
    }
}
