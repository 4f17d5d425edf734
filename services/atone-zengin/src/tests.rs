use proptest::prelude::*;

use super::*;

fn account(bank: &str, number: &str) -> Account {
    Account {
        bank_code: bank.into(),
        bank_name: "ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ".into(),
        branch_code: "001".into(),
        branch_name: "ﾎﾝﾃﾝ".into(),
        kind: AccountKind::Ordinary,
        number: number.into(),
    }
}

fn file() -> DebitFile {
    DebitFile {
        header: Header {
            consignor_code: "1234567890".into(),
            consignor_name: "ｶ)ｱﾄﾝ".into(),
            debit_month: 3,
            debit_day: 1,
            account: account("0005", "7654321"),
        },
        debits: vec![
            Debit {
                account: account("0009", "1234567"),
                holder: "ヤマダ　タロウ".into(),
                amount: 8209,
                customer_number: "00000000000000000001".into(),
                outcome: Outcome::Debited,
            },
            Debit {
                account: Account {
                    kind: AccountKind::Checking,
                    ..account("0001", "0000042")
                },
                holder: "ｽｽﾞｷ ﾊﾅｺ".into(),
                amount: 3000,
                customer_number: "2".into(),
                outcome: Outcome::InsufficientFunds,
            },
        ],
    }
}

#[test]
fn a_request_file_is_four_kinds_of_120_byte_records_in_jis_x_0201() {
    let bytes = file().encode(false).unwrap();
    let lines: Vec<&[u8]> = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), 5);
    assert!(
        lines
            .iter()
            .all(|l| l.len() == RECORD + 1 && l.ends_with(b"\r"))
    );
    let text = |l: &[u8]| encoding_rs::SHIFT_JIS.decode(&l[..RECORD]).0.into_owned();
    assert_eq!(
        text(lines[0]),
        format!(
            "1{}0{}{:<40}0301{}{:<15}{}{:<15}1{}{:17}",
            "91", "1234567890", "ｶ)ｱﾄﾝ", "0005", "ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ", "001", "ﾎﾝﾃﾝ", "7654321", ""
        )
    );
    // The holder's name, typed in full width, is written in half-width kana: ﾔﾏﾀﾞ is four
    // bytes (the voiced mark is a character of its own), 0xD4 0xCF 0xC0 0xDE in Shift_JIS.
    let data = lines[1];
    assert_eq!(&data[..1], b"2");
    assert_eq!(&data[1..5], b"0009");
    assert_eq!(&data[43..50], b"1234567");
    assert_eq!(&data[50..54], &[0xD4, 0xCF, 0xC0, 0xDE]);
    assert_eq!(
        encoding_rs::SHIFT_JIS.decode(&data[50..80]).0.trim_end(),
        "ﾔﾏﾀﾞ ﾀﾛｳ"
    );
    assert_eq!(&data[80..90], b"0000008209");
    assert_eq!(&data[91..111], b"00000000000000000001");
    assert_eq!(&data[111..112], b"0", "a request carries result code 0");
    // A request's trailer: the totals, and zeros for what the bank fills in.
    assert_eq!(
        &lines[3][..RECORD],
        format!("8000002{:012}{:036}{:65}", 11209, 0, "").as_bytes()
    );
    assert_eq!(&lines[4][..RECORD], format!("9{:119}", "").as_bytes());
}

#[test]
fn a_result_file_reads_back_with_each_outcome() {
    let bytes = file().encode(true).unwrap();
    let read = DebitFile::decode(&bytes).unwrap();
    let mut want = file();
    want.debits[0].holder = "ﾔﾏﾀﾞ ﾀﾛｳ".into();
    assert_eq!(read, want);
    // Back to back, without line ends, and with an end-of-file byte: the same file.
    let packed: Vec<u8> = bytes
        .split(|b| *b == b'\n')
        .flat_map(|l| l.strip_suffix(b"\r").unwrap_or(l).to_vec())
        .chain([0x1a])
        .collect();
    assert_eq!(DebitFile::decode(&packed).unwrap(), read);
}

#[test]
fn a_file_in_a_log_shows_no_account_number_and_no_holder() {
    let shown = format!("{:?}", file());
    assert!(
        shown.contains("****567") && shown.contains("****321"),
        "{shown}"
    );
    for secret in ["\"1234567\"", "\"7654321\"", "ﾔﾏﾀﾞ", "ヤマダ", "ｽｽﾞｷ"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

#[test]
fn a_request_file_is_not_a_result() {
    let request = file().encode(false).unwrap();
    let refused = DebitFile::decode_result(&request).unwrap_err();
    assert_eq!((refused.line, refused.field), (4, "振替済件数"));
    assert!(DebitFile::decode_result(&file().encode(true).unwrap()).is_ok());
}

#[test]
fn a_malformed_file_names_the_line_and_the_field() {
    let good = file().encode(true).unwrap();
    let line_at = |n: usize| (n - 1) * (RECORD + 2);
    let broken = |n: usize, offset: usize, with: &[u8]| {
        let mut bytes = good.clone();
        let at = line_at(n) + offset;
        bytes[at..at + with.len()].copy_from_slice(with);
        DebitFile::decode(&bytes).unwrap_err().to_string()
    };
    assert_eq!(
        broken(2, 80, b"00000A8209"),
        "line 2, 引落金額: \"00000A8209\" is not 10 digits"
    );
    assert_eq!(
        broken(3, 111, b"5"),
        "line 3, 振替結果コード: \"5\" is not 0-4, 8 or 9"
    );
    assert_eq!(
        broken(2, 50, b"@"),
        "line 2, 預金者名: '@' is not allowed in the file"
    );
    assert!(broken(4, 1, b"000003").starts_with("line 4, 合計件数: the trailer says 3 debits"));
    assert_eq!(
        broken(1, 1, b"92"),
        "line 1, 種別コード: \"92\", expected \"91\""
    );
    let short = &good[..line_at(3) + 50];
    assert_eq!(
        DebitFile::decode(short).unwrap_err().to_string(),
        "line 3, レコード: 50 bytes; a record is 120"
    );
    let no_end = &good[..line_at(5)];
    assert_eq!(
        DebitFile::decode(no_end).unwrap_err().to_string(),
        "line 5, エンド: the file has no end record (9)"
    );
}

#[test]
fn what_cannot_be_written_is_refused_with_its_field() {
    let mut f = file();
    f.debits[0].holder = "山田太郎".into();
    assert_eq!(
        f.encode(false).unwrap_err().to_string(),
        "line 2, 預金者名: '山' cannot be written in the file"
    );
    let mut f = file();
    f.debits[1].account.number = "123".into();
    assert_eq!(
        f.encode(false).unwrap_err().to_string(),
        "line 3, 口座番号: must be 7 digits"
    );
    let mut f = file();
    f.debits[0].holder = "ｱ".repeat(31);
    assert_eq!(
        f.encode(false).unwrap_err().to_string(),
        "line 2, 預金者名: 31 characters do not fit in 30"
    );
}

fn debit() -> impl Strategy<Value = Debit> {
    (
        "[0-9]{4}",
        "[0-9]{7}",
        "[ｱ-ﾝ ]{1,20}",
        1i64..=9_999_999,
        "[0-9]{1,20}",
        proptest::sample::select(Outcome::ALL.to_vec()),
    )
        .prop_map(|(bank, number, holder, amount, customer, outcome)| Debit {
            account: account(&bank, &number),
            holder: holder.trim_end().to_owned(),
            amount,
            customer_number: customer,
            outcome,
        })
}

proptest! {
    /// Export, a synthetic result (the bank's outcome on each row), import: exactly the
    /// debited rows are debited, and every row comes back as it went.
    #[test]
    fn the_result_of_a_request_settles_exactly_its_debited_rows(debits in proptest::collection::vec(debit(), 0..40)) {
        let request = DebitFile { debits: debits.clone(), ..file() };
        let sent = DebitFile::decode(&request.encode(false).unwrap()).unwrap();
        prop_assert!(sent.debits.iter().all(|d| d.outcome == Outcome::Debited));
        let result = DebitFile { debits, ..sent };
        let read = DebitFile::decode(&result.encode(true).unwrap()).unwrap();
        prop_assert_eq!(&read, &result);
        let debited: Vec<&str> = read.debits.iter().filter(|d| d.outcome == Outcome::Debited).map(|d| d.customer_number.as_str()).collect();
        let want: Vec<&str> = result.debits.iter().filter(|d| d.outcome == Outcome::Debited).map(|d| d.customer_number.as_str()).collect();
        prop_assert_eq!(debited, want);
    }
}
