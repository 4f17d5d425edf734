//! Writing a file: [`DebitFile::encode`], record by record.

use crate::{Account, DebitFile, FileError, Outcome, RECORD, Totals, error, to_file_chars};

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
