//! The member's bank account (口座振替): what a bank-debit file draws from. Validated as the
//! 全銀 file needs it, and never shown whole: its `Debug` and [`BankAccount::masked`] keep
//! the last three digits of the number only.

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// 預金種目.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountKind {
    /// 普通.
    #[default]
    Ordinary,
    /// 当座.
    Checking,
}

/// A bank account, in the characters of the file: names and holder in half-width kana.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankAccount {
    /// 金融機関コード, 4 digits.
    pub bank_code: String,
    /// Optional, at most 15 file characters.
    pub bank_name: String,
    /// 支店コード, 3 digits.
    pub branch_code: String,
    /// Optional, at most 15 file characters.
    pub branch_name: String,
    pub kind: AccountKind,
    /// 口座番号, 7 digits.
    pub number: String,
    /// 預金者名 as the bank holds it, at most 30 file characters.
    pub holder: String,
}

/// The longest holder name, in file characters (bytes of the file).
pub const MAX_HOLDER_CHARS: usize = 30;
/// The longest bank or branch name, in file characters.
pub const MAX_BANK_NAME_CHARS: usize = 15;

impl BankAccount {
    /// The account as a request gave it, checked and with its names in file characters
    /// (full-width katakana, hiragana and lower case become half-width kana and upper case).
    pub fn parse(given: &BankAccount) -> Result<BankAccount, DomainError> {
        Ok(BankAccount {
            bank_code: digits("bank_code", &given.bank_code, 4)?,
            bank_name: file_text("bank_name", &given.bank_name, MAX_BANK_NAME_CHARS, false)?,
            branch_code: digits("branch_code", &given.branch_code, 3)?,
            branch_name: file_text(
                "branch_name",
                &given.branch_name,
                MAX_BANK_NAME_CHARS,
                false,
            )?,
            kind: given.kind,
            number: digits("account_number", &given.number, 7)?,
            holder: file_text("holder", &given.holder, MAX_HOLDER_CHARS, true)?,
        })
    }

    /// The number as it may be shown: `****567`.
    pub fn masked_number(&self) -> String {
        mask(&self.number)
    }

    /// The account with its number masked: what the API, logs and the read models show.
    pub fn masked(&self) -> BankAccount {
        BankAccount {
            number: self.masked_number(),
            ..self.clone()
        }
    }
}

/// `****` and the last three characters of `number`.
pub fn mask(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(3)..].iter().collect();
    format!("****{tail}")
}

impl std::fmt::Debug for BankAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BankAccount")
            .field("bank_code", &self.bank_code)
            .field("branch_code", &self.branch_code)
            .field("kind", &self.kind)
            .field("number", &self.masked_number())
            .field(
                "holder",
                &format_args!("({} characters)", self.holder.chars().count()),
            )
            .finish_non_exhaustive()
    }
}

fn digits(field: &'static str, value: &str, n: usize) -> Result<String, DomainError> {
    if value.len() == n && value.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(value.to_owned());
    }
    Err(DomainError::invalid(
        field,
        format!(
            "must be {n} digits (0-9), {} characters were given",
            value.chars().count()
        ),
    ))
}

fn file_text(
    field: &'static str,
    value: &str,
    max: usize,
    required: bool,
) -> Result<String, DomainError> {
    let value = value.trim();
    if required && value.is_empty() {
        return Err(DomainError::invalid(field, "is required"));
    }
    if value.len() > 4 * max {
        return Err(DomainError::invalid(
            field,
            format!(
                "is {} bytes long; at most {max} characters are allowed",
                value.len()
            ),
        ));
    }
    let converted = atone_zengin::to_file_chars(value).map_err(|c| {
        DomainError::invalid(
            field,
            format!(
                "U+{:04X} cannot be written in a bank-debit file (katakana, hiragana, A-Z, 0-9, space and ().-/,\\ can)",
                u32::from(c)
            ),
        )
    })?;
    let n = converted.chars().count();
    if n > max {
        return Err(DomainError::invalid(
            field,
            format!("is {n} characters in half-width kana; at most {max} are allowed"),
        ));
    }
    Ok(converted)
}
