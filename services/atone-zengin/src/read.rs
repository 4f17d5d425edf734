//! Reading a file: [`DebitFile::decode`] and [`DebitFile::decode_result`], checking every
//! field and the trailer's totals.

use crate::{
    Account, AccountKind, Debit, DebitFile, FileError, Header, Outcome, RECORD, Totals, error,
    is_file_char,
};

impl DebitFile {
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
