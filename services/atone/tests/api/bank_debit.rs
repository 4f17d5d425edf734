//! Bank debit as files over the API, on SQLite and MariaDB: members give their accounts
//! (validated, shown masked), the request file of the bills drawn on a day is exported and
//! checked byte by byte (JIS X 0201 kana, fixed-length records), and a hand-made result
//! file is imported: the debit made pays its bill, the failed one becomes a
//! convenience-store bill with its fee. Importing again changes nothing, a malformed or
//! foreign file changes nothing, and the read models equal the event store's fold. A
//! property test checks that export → a synthetic result → import settles exactly the
//! debits made.

use atone_api::tonic::Code;
use atone_api::v1::billing_service_client::BillingServiceClient;
use atone_api::v1::{
    BankAccount, BankAccountKind, BillStatus, ExportBankDebitsRequest, ExportBankDebitsResponse,
    ImportBankDebitResultsRequest, ImportBankDebitResultsResponse, ListMemberEventsRequest,
    PaymentMethod, SetBankAccountRequest,
};
use atone_command::ManualClock;
use atone_command::billing::Consignor;
use atone_zengin::{DebitFile, Outcome};
use proptest::prelude::*;

use atone_testkit::*;

/// Bytes of a record, CR LF included.
const LINE: usize = 122;

fn consignor() -> Consignor {
    Consignor::from_json(
        r#"{"consignor_code": "1234567890", "consignor_name": "カ)アトネ",
            "bank_code": "0005", "bank_name": "ミツビシ", "branch_code": "001",
            "branch_name": "ホンテン", "account_kind": "ORDINARY", "account_number": "7654321"}"#,
    )
    .expect("a consignor")
}

/// Half-width katakana and ASCII in JIS X 0201, by its table (U+FF61..U+FF9F are
/// 0xA1..0xDF), padded with spaces to `width`: what the file must hold, worked out without
/// the encoder under test.
fn jis(text: &str, width: usize) -> Vec<u8> {
    let mut out: Vec<u8> = text
        .chars()
        .map(|c| match u32::from(c) {
            code @ 0xFF61..=0xFF9F => (code - 0xFF61 + 0xA1) as u8,
            code if code < 0x80 => code as u8,
            _ => panic!("{c} is not in JIS X 0201"),
        })
        .collect();
    assert!(out.len() <= width, "{text} is wider than {width}");
    out.resize(width, b' ');
    out
}

fn account(number: &str, holder: &str) -> BankAccount {
    BankAccount {
        bank_code: "0001".into(),
        bank_name: "みずほ".into(),
        branch_code: "001".into(),
        branch_name: "ホンテン".into(),
        kind: BankAccountKind::Ordinary as i32,
        account_number: number.into(),
        holder: holder.into(),
    }
}

async fn set_account(
    app: &TestApp,
    user: &str,
    account: BankAccount,
) -> Result<atone_api::v1::SetBankAccountResponse, atone_api::tonic::Status> {
    app.command()
        .await
        .set_bank_account(SetBankAccountRequest {
            user_id: user.into(),
            account: Some(account),
            idempotency_key: format!("account-{}", uuid::Uuid::now_v7()),
        })
        .await
        .map(|r| r.into_inner())
}

/// A bank-debit member who bought `amount` yen in January 2027.
async fn january_buyer(app: &TestApp, user: &str, amount: i64) {
    pay_by_bank_debit(app, user).await;
    app.command()
        .await
        .purchase(monthly(user, amount, "m1"))
        .await
        .expect("a January purchase");
}

async fn export(
    app: &TestApp,
    date: &str,
) -> Result<ExportBankDebitsResponse, atone_api::tonic::Status> {
    BillingServiceClient::new(app.channel().await)
        .export_bank_debits(ExportBankDebitsRequest {
            debit_date: date.into(),
        })
        .await
        .map(|r| r.into_inner())
}

async fn import(
    app: &TestApp,
    file: &[u8],
) -> Result<ImportBankDebitResultsResponse, atone_api::tonic::Status> {
    BillingServiceClient::new(app.channel().await)
        .import_bank_debit_results(ImportBankDebitResultsRequest {
            file: file.to_vec(),
        })
        .await
        .map(|r| r.into_inner())
}

/// A clock in January 2027, atone with the consignor, and no daily billing.
async fn spawn(backend: Backend, clock: &ManualClock) -> TestApp {
    TestApp::spawn_with(backend, |settings| {
        with_clock(clock, false)(settings);
        if let Some(command) = settings.command.as_mut() {
            command.bank_debit = Some(consignor());
        }
    })
    .await
}

async fn a_bank_debit_month_goes_out_and_comes_back_as_files(backend: Backend) {
    let clock = ManualClock::new(jst(2027, 1, 15, 12, 0, 0));
    let app = spawn(backend, &clock).await;
    let (alice, bob, carol) = (unique_user("a"), unique_user("b"), unique_user("c"));

    // Accounts are checked as the file needs them and never shown whole.
    let refused = set_account(&app, &alice, account("123456", "ヤマダ タロウ"))
        .await
        .expect_err("six digits");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().contains("account_number"),
        "{}",
        refused.message()
    );
    let refused = set_account(&app, &alice, account("1234567", "山田太郎"))
        .await
        .expect_err("kanji");
    assert!(
        refused.message().starts_with("holder: "),
        "{}",
        refused.message()
    );
    let set = set_account(&app, &alice, account("1234567", "ヤマダ　タロウ"))
        .await
        .expect("alice's account");
    let shown = set.account.expect("the account");
    assert_eq!(
        (
            shown.account_number.as_str(),
            shown.holder.as_str(),
            shown.bank_name.as_str()
        ),
        ("****567", "ﾔﾏﾀﾞ ﾀﾛｳ", "ﾐｽﾞﾎ")
    );
    set_account(&app, &bob, account("2345678", "すずき はなこ"))
        .await
        .expect("bob's account");
    for (user, amount) in [(&alice, 3000), (&bob, 5000), (&carol, 1000)] {
        january_buyer(&app, user, amount).await;
    }
    let member = get_member(&app, &alice, 0).await;
    let summary = member.summary.expect("a summary");
    assert_eq!(
        summary.bank_account.expect("an account").account_number,
        "****567"
    );
    let log = app
        .query()
        .await
        .list_member_events(ListMemberEventsRequest {
            user_id: alice.clone(),
            after_version: 0,
            page_size: 10,
        })
        .await
        .expect("alice's events")
        .into_inner();
    let logged = format!("{:?}", log.events);
    assert!(
        logged.contains("****567") && !logged.contains("1234567"),
        "{logged}"
    );

    // January closes on 1 February; 27 February 2027 is a Saturday: drawn on 1 March.
    clock.set(jst(2027, 2, 1, 9, 0, 0));
    close_period(&app, "2027-01").await.expect("close January");
    let bill_of_user = |user: &str| {
        let user = user.to_owned();
        let app = &app;
        async move {
            let member = member_when(app, &user, "January's bill", |m| !m.bills.is_empty()).await;
            member.bills[0].clone()
        }
    };
    let (a_bill, b_bill, c_bill) = (
        bill_of_user(&alice).await,
        bill_of_user(&bob).await,
        bill_of_user(&carol).await,
    );
    assert_eq!(a_bill.due_date, "2027-03-01");
    assert_eq!(a_bill.payment_method, PaymentMethod::BankDebit as i32);

    let refused = export(&app, "2027-02-30").await.expect_err("not a date");
    assert_eq!(refused.code(), Code::InvalidArgument);
    // Two exports at once number each bill once: the same file.
    let (exported, twin) = tokio::join!(export(&app, "2027-03-01"), export(&app, "2027-03-01"));
    let exported = exported.expect("the request file");
    assert_eq!(twin.expect("the same request file").file, exported.file);
    assert_eq!((exported.debits, exported.total_amount), (2, 8000));
    assert_eq!(exported.skipped.len(), 1);
    assert_eq!(
        (
            exported.skipped[0].user_id.as_str(),
            exported.skipped[0].bill_id.as_str()
        ),
        (carol.as_str(), c_bill.bill_id.as_str())
    );

    // The file, byte by byte: header, alice, bob, trailer, end; CR LF after each.
    let file = exported.file.clone();
    assert_eq!(file.len(), 5 * LINE);
    let records: Vec<&[u8]> = file.chunks(LINE).collect();
    for record in &records {
        assert_eq!(&record[120..], b"\r\n");
    }
    let mut header = b"1910".to_vec();
    header.extend(b"1234567890");
    header.extend(jis("ｶ)ｱﾄﾈ", 40));
    header.extend(b"0301");
    header.extend(b"0005");
    header.extend(jis("ﾐﾂﾋﾞｼ", 15));
    header.extend(b"001");
    header.extend(jis("ﾎﾝﾃﾝ", 15));
    header.extend(b"17654321");
    header.extend([b' '; 17]);
    assert_eq!(&records[0][..120], &header[..]);
    let mut numbers = Vec::new();
    for (record, (number, holder, amount)) in records[1..3].iter().zip([
        ("1234567", "ﾔﾏﾀﾞ ﾀﾛｳ", "0000003000"),
        ("2345678", "ｽｽﾞｷ ﾊﾅｺ", "0000005000"),
    ]) {
        let mut data = b"20001".to_vec();
        data.extend(jis("ﾐｽﾞﾎ", 15));
        data.extend(b"001");
        data.extend(jis("ﾎﾝﾃﾝ", 15));
        data.extend(b"    1");
        data.extend(number.as_bytes());
        data.extend(jis(holder, 30));
        data.extend(amount.as_bytes());
        data.push(b'0');
        let customer = &record[91..111];
        assert!(customer.iter().all(u8::is_ascii_digit), "{customer:?}");
        numbers.push(customer.to_vec());
        data.extend(customer);
        data.push(b'0');
        data.extend([b' '; 8]);
        assert_eq!(&record[..120], &data[..]);
    }
    assert_ne!(numbers[0], numbers[1]);
    let trailer = format!(
        "8{:06}{:012}{:06}{:012}{:06}{:012}{}",
        2,
        8000,
        0,
        0,
        0,
        0,
        " ".repeat(65)
    );
    assert_eq!(&records[3][..120], trailer.as_bytes());
    assert_eq!(
        &records[4][..120],
        format!("9{}", " ".repeat(119)).as_bytes()
    );
    // Alice pays 1,000 yen at a store meanwhile. Exported again, each bill keeps its
    // customer number and the amount asked (the bank may hold the request already): the
    // same file.
    app.command()
        .await
        .receive_payment(atone_api::v1::ReceivePaymentRequest {
            user_id: alice.clone(),
            transaction_id: "store-0001".into(),
            bill_id: a_bill.bill_id.clone(),
            amount: 1000,
            received_at: None,
        })
        .await
        .expect("money at a store");
    assert_eq!(export(&app, "2027-03-01").await.expect("again").file, file);

    // The request file itself is no result: refused, and nothing changes.
    let before = app.event_count().await;
    let refused = import(&app, &file).await.expect_err("a request file");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().contains("line 4, 振替済件数"),
        "{}",
        refused.message()
    );
    // A result naming a debit atone never exported: refused whole, with its line.
    let mut foreign = result_file(&file, b'0', b'1');
    foreign[LINE + 91..LINE + 111].copy_from_slice(b"00000000000099999999");
    let refused = import(&app, &foreign).await.expect_err("a foreign debit");
    assert!(
        refused
            .message()
            .contains("line 2, 顧客番号: 99999999 was never exported"),
        "{}",
        refused.message()
    );
    assert_eq!(app.event_count().await, before);

    // The bank's result, made by hand: alice debited, bob's account short of funds.
    clock.set(jst(2027, 3, 2, 10, 0, 0));
    let result = result_file(&file, b'0', b'1');
    let done = import(&app, &result).await.expect("the result file");
    assert_eq!(
        (
            done.debits,
            done.debited,
            done.debited_amount,
            done.failed,
            done.already_imported
        ),
        (2, 1, 3000, 1, 0)
    );
    let paid = member_when(&app, &alice, "alice's bill paid", |m| {
        m.bills[0].status == BillStatus::Paid as i32
    })
    .await;
    // 1,000 at the store, 2,000 of the 3,000 drawn; the other 1,000 is kept, not lost.
    assert_eq!(
        (paid.bills[0].paid_amount, paid.bills[0].left_to_pay),
        (3000, 0)
    );
    let alice_now = paid.summary.expect("alice's summary");
    assert_eq!(alice_now.unapplied_balance, 1000);
    let failed = member_when(&app, &bob, "bob's bill turned", |m| {
        m.bills[0].payment_method == PaymentMethod::ConvenienceStore as i32
    })
    .await;
    let bill = &failed.bills[0];
    assert_eq!(bill.bill_id, b_bill.bill_id);
    assert_eq!(
        (
            bill.amount,
            bill.fee,
            bill.left_to_pay,
            bill.due_date.as_str()
        ),
        (5209, 209, 5209, "2027-03-16")
    );
    assert_eq!(bill.debit_failure, "1: insufficient funds (資金不足)");
    assert_eq!(bill.status, BillStatus::Unpaid as i32);

    // The same file again changes nothing.
    let versions = (
        get_member(&app, &alice, 0).await,
        get_member(&app, &bob, 0).await,
    );
    let again = import(&app, &result).await.expect("the same file again");
    assert_eq!(
        (again.debited, again.failed, again.already_imported),
        (0, 0, 2)
    );
    assert_eq!(
        get_member(&app, &alice, 0).await.summary,
        versions.0.summary
    );
    assert_eq!(get_member(&app, &bob, 0).await.summary, versions.1.summary);
    // A second result disagreeing with the first is refused.
    let refused = import(&app, &result_file(&file, b'0', b'2'))
        .await
        .expect_err("another result");
    assert!(
        refused.message().contains("line 3, 振替結果コード"),
        "{}",
        refused.message()
    );

    app.wait_until_projected().await;
    assert_read_models_match_event_store(&app.db).await;
    app.stop().await;
}

/// The request `file` made a result by hand: the first debit's result code `first`, the
/// second's `second`, and the trailer's results summed.
fn result_file(file: &[u8], first: u8, second: u8) -> Vec<u8> {
    let mut result = file.to_vec();
    result[LINE + 111] = first;
    result[2 * LINE + 111] = second;
    let (mut debited, mut failed) = ((0, 0), (0, 0));
    for (i, code) in [first, second].into_iter().enumerate() {
        let record = &result[(i + 1) * LINE..(i + 2) * LINE];
        let amount: i64 = std::str::from_utf8(&record[80..90])
            .ok()
            .and_then(|a| a.parse().ok())
            .expect("an amount");
        let bucket = if code == b'0' {
            &mut debited
        } else {
            &mut failed
        };
        bucket.0 += 1;
        bucket.1 += amount;
    }
    let totals = format!(
        "{:06}{:012}{:06}{:012}",
        debited.0, debited.1, failed.0, failed.1
    );
    result[3 * LINE + 19..3 * LINE + 55].copy_from_slice(totals.as_bytes());
    result
}

on_each_backend!(a_bank_debit_month_goes_out_and_comes_back_as_files);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_consignor_no_request_file_is_written() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let refused = export(&app, "2027-03-01").await.expect_err("no consignor");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("--bank-debit-config"),
        "{}",
        refused.message()
    );
    app.stop().await;
}

/// `outcomes.len()` bank-debit members with January bills of `amounts`, exported, given
/// `outcomes` by a synthetic bank, imported: exactly the debits made are paid.
async fn export_result_import(amounts: Vec<i64>, outcomes: Vec<Outcome>) {
    let clock = ManualClock::new(jst(2027, 1, 15, 12, 0, 0));
    let app = spawn(Backend::Sqlite, &clock).await;
    let mut users = Vec::new();
    for (i, amount) in amounts.iter().enumerate() {
        let user = format!("{}-{i}", unique_user("p"));
        set_account(&app, &user, account(&format!("{:07}", 1000 + i), "ﾃｽﾄ"))
            .await
            .expect("an account");
        january_buyer(&app, &user, *amount).await;
        users.push(user);
    }
    clock.set(jst(2027, 2, 1, 9, 0, 0));
    close_period(&app, "2027-01").await.expect("close January");
    app.wait_until_projected().await;
    let exported = export(&app, "2027-03-01").await.expect("the request file");
    let mut file = DebitFile::decode(&exported.file).expect("a readable request");
    assert_eq!(file.debits.len(), users.len());
    for (debit, outcome) in file.debits.iter_mut().zip(&outcomes) {
        debit.outcome = *outcome;
    }
    let result = file.encode(true).expect("a result file");
    clock.set(jst(2027, 3, 2, 10, 0, 0));
    import(&app, &result).await.expect("the import");
    app.wait_until_projected().await;
    for debit in &file.debits {
        // The holder's account number says which member it is.
        let i: usize = debit.account.number.parse::<usize>().expect("a number") - 1000;
        let bill = get_member(&app, &users[i], 0).await.bills[0].clone();
        if debit.outcome == Outcome::Debited {
            assert_eq!(
                (bill.status, bill.paid_amount),
                (BillStatus::Paid as i32, amounts[i]),
                "{}",
                users[i]
            );
        } else {
            assert_eq!(bill.status, BillStatus::Unpaid as i32, "{}", users[i]);
            assert_eq!(
                (bill.paid_amount, bill.fee, bill.payment_method),
                (0, 209, PaymentMethod::ConvenienceStore as i32),
                "{}",
                users[i]
            );
        }
    }
    assert_read_models_match_event_store(&app.db).await;
    app.stop().await;
}

#[test]
fn export_then_a_synthetic_result_then_import_settles_exactly_the_debits_made() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let case = (1usize..5).prop_flat_map(|n| {
        (
            proptest::collection::vec(1i64..=50_000, n),
            proptest::collection::vec(proptest::sample::select(Outcome::ALL.to_vec()), n),
        )
    });
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 8,
        ..ProptestConfig::default()
    });
    runner
        .run(&case, |(amounts, outcomes)| {
            runtime.block_on(export_result_import(amounts, outcomes));
            Ok(())
        })
        .expect("every case settles exactly the debits made");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_consignor_file_stops_atone_naming_the_field() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("consignor.json");
    std::fs::write(
        &file,
        r#"{"consignor_code": "12345", "consignor_name": "ｱﾄﾈ", "bank_code": "0005",
            "branch_code": "001", "account_number": "7654321"}"#,
    )
    .expect("write the file");
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_atone"))
        .args(["serve", "--bank-debit-config"])
        .arg(&file)
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .await
        .expect("run atone");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("consignor_code: must be the 10 digits the bank gave"),
        "{stderr}"
    );
}
