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

pub use kana::{is_file_char, to_file_chars};

/// Bytes in a record.
pub const RECORD: usize = 120;

/// A bank account as the file names it.
#[derive(Debug, Clone, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
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

impl DebitFile {
    /// The file's bytes, records separated by CRLF. A request (every outcome `Debited`)
    /// has zeros in the trailer's debited and failed totals; a result has them summed.
    pub fn encode(&self, result: bool) -> Result<Vec<u8>, FileError> {
        let mut out = Vec::with_capacity((self.debits.len() + 3) * (RECORD + 2));
        let h = &self.header;
        let mut w = Writer::new(0);
        w.text("データ区分", 1, "1")?;
        w.text("種別コード", 2, "91")?;
        w.text("コード区分", 1, "0")?;
        w.digits("委託者コード", 10, &h.consignor_code)?;
        w.text("委託者名", 40, &h.consignor_name)?;
        if !(1..=12).contains(&h.debit_month) || !(1..=31).contains(&h.debit_day) {
            return Err(error(0, "引落日", "not a month and a day"));
        }
        w.number("引落日", 4, i64::from(h.debit_month * 100 + h.debit_day))?;
        w.account_head(&h.account)?;
        w.text("ダミー", 17, "")?;
        w.finish(&mut out);
        let mut totals = Totals::default();
        for (i, d) in self.debits.iter().enumerate() {
            let mut w = Writer::new(i + 2);
            w.text("データ区分", 1, "2")?;
            w.digits("引落銀行番号", 4, &d.account.bank_code)?;
            w.text("引落銀行名", 15, &d.account.bank_name)?;
            w.digits("引落支店番号", 3, &d.account.branch_code)?;
            w.text("引落支店名", 15, &d.account.branch_name)?;
            w.text("ダミー", 4, "")?;
            w.text("預金種目", 1, &d.account.kind.code().to_string())?;
            w.digits("口座番号", 7, &d.account.number)?;
            w.text("預金者名", 30, &d.holder)?;
            if !(1..=9_999_999_999).contains(&d.amount) {
                return Err(error(i + 2, "引落金額", "must be 1 to 9,999,999,999 yen"));
            }
            w.number("引落金額", 10, d.amount)?;
            w.text("新規コード", 1, "0")?;
            w.text("顧客番号", 20, &d.customer_number)?;
            let outcome = if result { d.outcome } else { Outcome::Debited };
            w.text("振替結果コード", 1, &outcome.code().to_string())?;
            w.text("ダミー", 8, "")?;
            w.finish(&mut out);
            totals.add(d.amount, outcome);
        }
        let line = self.debits.len() + 2;
        let mut w = Writer::new(line);
        w.text("データ区分", 1, "8")?;
        w.number("合計件数", 6, totals.count)?;
        w.number("合計金額", 12, totals.amount)?;
        let (debited, failed) = if result {
            (totals.debited, totals.failed)
        } else {
            ((0, 0), (0, 0))
        };
        w.number("振替済件数", 6, debited.0)?;
        w.number("振替済金額", 12, debited.1)?;
        w.number("振替不能件数", 6, failed.0)?;
        w.number("振替不能金額", 12, failed.1)?;
        w.text("ダミー", 65, "")?;
        w.finish(&mut out);
        let mut w = Writer::new(line + 1);
        w.text("データ区分", 1, "9")?;
        w.text("ダミー", 119, "")?;
        w.finish(&mut out);
        Ok(out)
    }

    /// Reads a file: records one per line (CRLF or LF) or back to back, an end-of-file
    /// byte (0x1A) after the end record allowed. Every field and the trailer's totals are
    /// checked; the first that is wrong is the error.
    pub fn decode(bytes: &[u8]) -> Result<Self, FileError> {
        Self::read(bytes).map(|(file, _)| file)
    }

    /// Reads a result file, as [`DebitFile::decode`] does, and refuses a request file (a
    /// trailer without results), whose debits would all read as debited.
    pub fn decode_result(bytes: &[u8]) -> Result<Self, FileError> {
        let (file, request) = Self::read(bytes)?;
        if request && !file.debits.is_empty() {
            return Err(error(
                file.debits.len() + 2,
                "振替済件数",
                "the trailer has no results: this is a request file, not the bank's result file",
            ));
        }
        Ok(file)
    }

    /// The file, and whether it is a request (its trailer's results all zero).
    fn read(bytes: &[u8]) -> Result<(Self, bool), FileError> {
        let bytes = bytes.strip_suffix(&[0x1a]).unwrap_or(bytes);
        let records: Vec<&[u8]> = if bytes.contains(&b'\n') {
            bytes
                .split(|b| *b == b'\n')
                .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
                .filter(|l| !l.is_empty())
                .collect()
        } else {
            bytes.chunks(RECORD).collect()
        };
        let mut lines = records.into_iter().enumerate().map(|(i, r)| (i + 1, r));
        let (n, header) = lines
            .next()
            .ok_or_else(|| error(1, "ヘッダー", "the file is empty"))?;
        let mut r = Reader::new(n, header)?;
        r.expect("データ区分", "1")?;
        r.expect("種別コード", "91")?;
        r.expect("コード区分", "0")?;
        let consignor_code = r.digits("委託者コード", 10)?;
        let consignor_name = r.text("委託者名", 40)?;
        let date = r.number("引落日", 4)?;
        let (debit_month, debit_day) = ((date / 100) as u32, (date % 100) as u32);
        if !(1..=12).contains(&debit_month) || !(1..=31).contains(&debit_day) {
            return Err(error(n, "引落日", format!("{date:04} is not MMDD")));
        }
        let account = r.account_head()?;
        r.blank("ダミー", 17)?;
        let header = Header {
            consignor_code,
            consignor_name,
            debit_month,
            debit_day,
            account,
        };

        let mut debits = Vec::new();
        let mut totals = Totals::default();
        let mut trailer = None;
        for (n, record) in lines.by_ref() {
            let mut r = Reader::new(n, record)?;
            match r.peek_kind() {
                '2' => {
                    r.expect("データ区分", "2")?;
                    let bank_code = r.digits("引落銀行番号", 4)?;
                    let bank_name = r.text("引落銀行名", 15)?;
                    let branch_code = r.digits("引落支店番号", 3)?;
                    let branch_name = r.text("引落支店名", 15)?;
                    r.blank("ダミー", 4)?;
                    let kind = r.account_kind()?;
                    let number = r.digits("口座番号", 7)?;
                    let holder = r.text("預金者名", 30)?;
                    let amount = r.number("引落金額", 10)?;
                    if amount == 0 {
                        return Err(error(n, "引落金額", "0 yen is not a debit"));
                    }
                    r.field("新規コード", 1)?;
                    let customer_number = r.text("顧客番号", 20)?;
                    let code = r.field("振替結果コード", 1)?;
                    let outcome = code.chars().next().and_then(Outcome::of).ok_or_else(|| {
                        error(n, "振替結果コード", format!("{code:?} is not 0-4, 8 or 9"))
                    })?;
                    r.field("ダミー", 8)?;
                    totals.add(amount, outcome);
                    debits.push(Debit {
                        account: Account {
                            bank_code,
                            bank_name,
                            branch_code,
                            branch_name,
                            kind,
                            number,
                        },
                        holder,
                        amount,
                        customer_number,
                        outcome,
                    });
                }
                '8' => {
                    r.expect("データ区分", "8")?;
                    trailer = Some((n, r));
                    break;
                }
                other => {
                    return Err(error(
                        n,
                        "データ区分",
                        format!("{other:?} where a data (2) or trailer (8) record belongs"),
                    ));
                }
            }
        }
        let (n, mut r) =
            trailer.ok_or_else(|| error(0, "トレーラー", "the file has no trailer record (8)"))?;
        let count = r.number("合計件数", 6)?;
        let amount = r.number("合計金額", 12)?;
        if (count, amount) != (totals.count, totals.amount) {
            return Err(error(
                n,
                "合計件数",
                format!(
                    "the trailer says {count} debits of {amount} yen; the file holds {} of {}",
                    totals.count, totals.amount
                ),
            ));
        }
        let debited = (r.number("振替済件数", 6)?, r.number("振替済金額", 12)?);
        let failed = (r.number("振替不能件数", 6)?, r.number("振替不能金額", 12)?);
        let request = debited == (0, 0) && failed == (0, 0);
        if !request && (debited, failed) != (totals.debited, totals.failed) {
            return Err(error(
                n,
                "振替済件数",
                format!(
                    "the trailer says {} debited and {} failed; the file holds {} and {}",
                    debited.0, failed.0, totals.debited.0, totals.failed.0
                ),
            ));
        }
        r.blank("ダミー", 65)?;
        let (n, end) = lines
            .next()
            .ok_or_else(|| error(n + 1, "エンド", "the file has no end record (9)"))?;
        let mut r = Reader::new(n, end)?;
        r.expect("データ区分", "9")?;
        r.blank("ダミー", 119)?;
        if let Some((n, _)) = lines.next() {
            return Err(error(n, "データ区分", "a record after the end record"));
        }
        Ok((Self { header, debits }, request))
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

/// Builds one record, field by field.
struct Writer {
    line: usize,
    bytes: Vec<u8>,
}

impl Writer {
    fn new(line: usize) -> Self {
        Self {
            line,
            bytes: Vec::with_capacity(RECORD),
        }
    }

    /// `value` in file characters, left-aligned and padded with spaces.
    fn text(&mut self, field: &'static str, width: usize, value: &str) -> Result<(), FileError> {
        let chars = to_file_chars(value).map_err(|c| {
            error(
                self.line,
                field,
                format!("{c:?} cannot be written in the file"),
            )
        })?;
        let (encoded, _, unmappable) = encoding_rs::SHIFT_JIS.encode(&chars);
        if unmappable || encoded.len() != chars.chars().count() {
            return Err(error(self.line, field, "not JIS X 0201"));
        }
        if encoded.len() > width {
            return Err(error(
                self.line,
                field,
                format!("{} characters do not fit in {width}", encoded.len()),
            ));
        }
        self.bytes.extend_from_slice(&encoded);
        self.bytes
            .resize(self.bytes.len() + width - encoded.len(), b' ');
        Ok(())
    }

    /// Exactly `width` digits.
    fn digits(&mut self, field: &'static str, width: usize, value: &str) -> Result<(), FileError> {
        if value.len() != width || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(error(self.line, field, format!("must be {width} digits")));
        }
        self.bytes.extend_from_slice(value.as_bytes());
        Ok(())
    }

    /// A number right-aligned with zeros.
    fn number(&mut self, field: &'static str, width: usize, value: i64) -> Result<(), FileError> {
        let text = format!("{value:0width$}");
        if value < 0 || text.len() > width {
            return Err(error(
                self.line,
                field,
                format!("{value} does not fit in {width} digits"),
            ));
        }
        self.bytes.extend_from_slice(text.as_bytes());
        Ok(())
    }

    /// The header's account: 取引銀行番号, 名, 支店番号, 名, 預金種目, 口座番号.
    fn account_head(&mut self, a: &Account) -> Result<(), FileError> {
        self.digits("取引銀行番号", 4, &a.bank_code)?;
        self.text("取引銀行名", 15, &a.bank_name)?;
        self.digits("取引支店番号", 3, &a.branch_code)?;
        self.text("取引支店名", 15, &a.branch_name)?;
        self.text("預金種目", 1, &a.kind.code().to_string())?;
        self.digits("口座番号", 7, &a.number)
    }

    fn finish(self, out: &mut Vec<u8>) {
        debug_assert_eq!(self.bytes.len(), RECORD);
        out.extend_from_slice(&self.bytes);
        out.extend_from_slice(b"\r\n");
    }
}

/// Reads one record, field by field.
struct Reader<'a> {
    line: usize,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(line: usize, bytes: &'a [u8]) -> Result<Self, FileError> {
        if bytes.len() != RECORD {
            return Err(error(
                line,
                "レコード",
                format!("{} bytes; a record is {RECORD}", bytes.len()),
            ));
        }
        Ok(Self { line, bytes, at: 0 })
    }

    fn peek_kind(&self) -> char {
        char::from(self.bytes[self.at])
    }

    /// The next `width` bytes, decoded; each must be a file character.
    fn field(&mut self, field: &'static str, width: usize) -> Result<String, FileError> {
        let raw = &self.bytes[self.at..self.at + width];
        self.at += width;
        let (text, had_errors) = encoding_rs::SHIFT_JIS.decode_without_bom_handling(raw);
        if had_errors || text.chars().count() != width {
            return Err(error(self.line, field, "not JIS X 0201 characters"));
        }
        if let Some(c) = text.chars().find(|c| !is_file_char(*c)) {
            return Err(error(
                self.line,
                field,
                format!("{c:?} is not allowed in the file"),
            ));
        }
        Ok(text.into_owned())
    }

    fn text(&mut self, field: &'static str, width: usize) -> Result<String, FileError> {
        Ok(self.field(field, width)?.trim_end().to_owned())
    }

    fn expect(&mut self, field: &'static str, want: &str) -> Result<(), FileError> {
        let got = self.field(field, want.len())?;
        if got != want {
            return Err(error(
                self.line,
                field,
                format!("{got:?}, expected {want:?}"),
            ));
        }
        Ok(())
    }

    fn blank(&mut self, field: &'static str, width: usize) -> Result<(), FileError> {
        // Banks fill unused space with spaces or zeros: either is accepted.
        self.field(field, width).map(|_| ())
    }

    fn digits(&mut self, field: &'static str, width: usize) -> Result<String, FileError> {
        let value = self.field(field, width)?;
        if !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(error(
                self.line,
                field,
                format!("{value:?} is not {width} digits"),
            ));
        }
        Ok(value)
    }

    fn number(&mut self, field: &'static str, width: usize) -> Result<i64, FileError> {
        let value = self.digits(field, width)?;
        value
            .parse()
            .map_err(|_| error(self.line, field, format!("{value:?} is not a number")))
    }

    fn account_kind(&mut self) -> Result<AccountKind, FileError> {
        let code = self.field("預金種目", 1)?;
        code.chars()
            .next()
            .and_then(AccountKind::of)
            .ok_or_else(|| {
                error(
                    self.line,
                    "預金種目",
                    format!("{code:?} is not 1 (普通) or 2 (当座)"),
                )
            })
    }

    fn account_head(&mut self) -> Result<Account, FileError> {
        let bank_code = self.digits("取引銀行番号", 4)?;
        let bank_name = self.text("取引銀行名", 15)?;
        let branch_code = self.digits("取引支店番号", 3)?;
        let branch_name = self.text("取引支店名", 15)?;
        let kind = self.account_kind()?;
        let number = self.digits("口座番号", 7)?;
        Ok(Account {
            bank_code,
            bank_name,
            branch_code,
            branch_name,
            kind,
            number,
        })
    }
}

#[cfg(test)]
mod tests;
