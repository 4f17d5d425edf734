//! The 全銀協 (Zengin) fixed-length file of 預金口座振替 (bank debit, 種別コード 91): what an
//! operator sends a bank (or a collection agent) to draw members' bills, and the same file
//! the bank sends back with a result code on each debit.
//!
//! A file is 120-byte records, JIS X 0201 characters (half-width kana, digits, upper-case
//! letters; Shift_JIS, コード区分 0), one per line:
//!
//! | record | データ区分 | fields (bytes) |
//! | --- | --- | --- |
//! | header | 1 | 種別コード 2, コード区分 1, 委託者コード 10, 委託者名 40, 引落日 MMDD 4, 取引銀行番号 4, 取引銀行名 15, 取引支店番号 3, 取引支店名 15, 預金種目 1, 口座番号 7, ダミー 17 |
//! | data | 2 | 引落銀行番号 4, 引落銀行名 15, 引落支店番号 3, 引落支店名 15, ダミー 4, 預金種目 1, 口座番号 7, 預金者名 30, 引落金額 10, 新規コード 1, 顧客番号 20, 振替結果コード 1, ダミー 8 |
//! | trailer | 8 | 合計件数 6, 合計金額 12, 振替済件数 6, 振替済金額 12, 振替不能件数 6, 振替不能金額 12, ダミー 65 |
//! | end | 9 | ダミー 119 |
//!
//! Numbers are right-aligned with zeros, text left-aligned with spaces. Reading checks every
//! field and the trailer's totals, and names the line and the field of the first that is
//! wrong.

mod kana;
mod read;
mod write;

pub use kana::{is_file_char, to_file_chars};

/// Bytes in a record.
pub const RECORD: usize = 120;

/// A bank account as the file names it. Its `Debug` shows the last three digits of the
/// number only.
#[derive(Clone, PartialEq, Eq)]
pub struct Account {
    /// 金融機関コード, 4 digits.
    pub bank_code: String,
    /// In file characters (half-width kana), at most 15.
    pub bank_name: String,
    /// 支店コード, 3 digits.
    pub branch_code: String,
    /// In file characters, at most 15.
    pub branch_name: String,
    pub kind: AccountKind,
    /// 口座番号, 7 digits.
    pub number: String,
}

/// 預金種目.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    /// 普通 (1).
    Ordinary,
    /// 当座 (2).
    Checking,
}

impl AccountKind {
    fn code(self) -> char {
        match self {
            Self::Ordinary => '1',
            Self::Checking => '2',
        }
    }

    fn of(code: char) -> Option<Self> {
        match code {
            '1' => Some(Self::Ordinary),
            '2' => Some(Self::Checking),
            _ => None,
        }
    }
}

/// The header: who draws, when, and into which account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// 委託者コード: the operator's code at the bank, 10 digits.
    pub consignor_code: String,
    /// 委託者名, in file characters, at most 40.
    pub consignor_name: String,
    /// 引落日: month and day.
    pub debit_month: u32,
    pub debit_day: u32,
    /// The operator's account the money goes to.
    pub account: Account,
}

/// 振替結果コード: what the bank did with a debit. A request carries `Debited` (0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// 0 振替済.
    Debited,
    /// 1 資金不足.
    InsufficientFunds,
    /// 2 預金取引なし.
    NoAccount,
    /// 3 預金者の都合による振替停止.
    StoppedByHolder,
    /// 4 預金口座振替依頼書なし.
    NoAuthorization,
    /// 8 委託者の都合による振替停止.
    StoppedByConsignor,
    /// 9 その他.
    Other,
}

impl Outcome {
    pub const ALL: [Self; 7] = [
        Self::Debited,
        Self::InsufficientFunds,
        Self::NoAccount,
        Self::StoppedByHolder,
        Self::NoAuthorization,
        Self::StoppedByConsignor,
        Self::Other,
    ];

    pub fn code(self) -> char {
        match self {
            Self::Debited => '0',
            Self::InsufficientFunds => '1',
            Self::NoAccount => '2',
            Self::StoppedByHolder => '3',
            Self::NoAuthorization => '4',
            Self::StoppedByConsignor => '8',
            Self::Other => '9',
        }
    }

    pub fn of(code: char) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.code() == code)
    }

    /// The reason in words, for the event a failed debit records.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Debited => "debited (振替済)",
            Self::InsufficientFunds => "insufficient funds (資金不足)",
            Self::NoAccount => "no such account (預金取引なし)",
            Self::StoppedByHolder => "stopped by the account holder (預金者の都合による振替停止)",
            Self::NoAuthorization => "no debit authorization (預金口座振替依頼書なし)",
            Self::StoppedByConsignor => "stopped by the operator (委託者の都合による振替停止)",
            Self::Other => "other (その他)",
        }
    }
}

/// One debit: whose account, how much, and the operator's reference for it.
#[derive(Clone, PartialEq, Eq)]
pub struct Debit {
    pub account: Account,
    /// 預金者名, in file characters, at most 30.
    pub holder: String,
    /// 引落金額, yen, 1 to 9,999,999,999.
    pub amount: i64,
    /// 顧客番号: the operator's reference, digits, at most 20 (what reading the result
    /// finds the bill by).
    pub customer_number: String,
    pub outcome: Outcome,
}

/// A whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebitFile {
    pub header: Header,
    pub debits: Vec<Debit>,
}

/// Why a file cannot be written or read: the line (1 for the header; 0 when writing) and
/// the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, {field}: {reason}")]
pub struct FileError {
    pub line: usize,
    pub field: &'static str,
    pub reason: String,
}

fn error(line: usize, field: &'static str, reason: impl Into<String>) -> FileError {
    FileError {
        line,
        field,
        reason: reason.into(),
    }
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let digits = self.number.len().saturating_sub(3);
        f.debug_struct("Account")
            .field("bank_code", &self.bank_code)
            .field("branch_code", &self.branch_code)
            .field("kind", &self.kind)
            .field(
                "number",
                &format_args!("****{}", self.number.get(digits..).unwrap_or("")),
            )
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Debit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Debit")
            .field("account", &self.account)
            .field(
                "holder",
                &format_args!("({} characters)", self.holder.chars().count()),
            )
            .field("amount", &self.amount)
            .field("customer_number", &self.customer_number)
            .field("outcome", &self.outcome)
            .finish()
    }
}

/// Debits counted: all, debited, failed (count, yen).
#[derive(Default)]
struct Totals {
    count: i64,
    amount: i64,
    debited: (i64, i64),
    failed: (i64, i64),
}

impl Totals {
    fn add(&mut self, amount: i64, outcome: Outcome) {
        self.count += 1;
        self.amount += amount;
        let bucket = if outcome == Outcome::Debited {
            &mut self.debited
        } else {
            &mut self.failed
        };
        bucket.0 += 1;
        bucket.1 += amount;
    }
}

#[cfg(test)]
mod tests;
