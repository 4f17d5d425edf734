//! Given/when/then specs for bank debit: the account a member's bills are drawn from, and
//! what a failed debit does to the bill.

use chrono::{DateTime, TimeZone, Utc};

use crate::spec::*;
use crate::*;

/// `y-m-d` at 10:00 in Tokyo.
fn jst(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 1, 0, 0).unwrap()
}

fn account() -> BankAccount {
    BankAccount {
        bank_code: "0001".into(),
        bank_name: "みずほ".into(),
        branch_code: "001".into(),
        branch_name: "ﾎﾝﾃﾝ".into(),
        kind: AccountKind::Ordinary,
        number: "1234567".into(),
        holder: "ヤマダ　タロウ".into(),
    }
}

fn set(account: BankAccount) -> Command {
    Command::SetBankAccount(SetBankAccount { account })
}

#[test]
fn an_account_is_kept_as_the_file_writes_it() {
    Spec::given_no_events()
        .when("acct", set(account()))
        .then_expect_events(vec![Event::BankAccountSet(BankAccountSet {
            account: BankAccount {
                bank_name: "ﾐｽﾞﾎ".into(),
                holder: "ﾔﾏﾀﾞ ﾀﾛｳ".into(),
                ..account()
            },
        })]);
}

#[test]
fn an_account_the_file_cannot_carry_is_refused_field_by_field() {
    let refused = |account: BankAccount, field: &str| {
        Spec::given_no_events()
            .when("acct", set(account))
            .then_expect_invalid(field)
    };
    refused(
        BankAccount {
            bank_code: "001".into(),
            ..account()
        },
        "bank_code",
    );
    refused(
        BankAccount {
            bank_code: "０００１".into(),
            ..account()
        },
        "bank_code",
    );
    refused(
        BankAccount {
            branch_code: "1234".into(),
            ..account()
        },
        "branch_code",
    );
    refused(
        BankAccount {
            number: "123456".into(),
            ..account()
        },
        "account_number",
    );
    refused(
        BankAccount {
            number: "12345678".into(),
            ..account()
        },
        "account_number",
    );
    refused(
        BankAccount {
            number: "12-4567".into(),
            ..account()
        },
        "account_number",
    );
    refused(
        BankAccount {
            holder: " ".into(),
            ..account()
        },
        "holder",
    );
    refused(
        BankAccount {
            holder: "山田太郎".into(),
            ..account()
        },
        "holder",
    );
    // 31 half-width characters once converted (ダ is two).
    refused(
        BankAccount {
            holder: "ダ".repeat(16),
            ..account()
        },
        "holder",
    );
    refused(
        BankAccount {
            bank_name: "ア".repeat(16),
            ..account()
        },
        "bank_name",
    );
    refused(
        BankAccount {
            holder: "ﾀ\nﾛｳ".into(),
            ..account()
        },
        "holder",
    );
}

#[test]
fn an_account_never_shows_its_number_whole() {
    let account = BankAccount::parse(&account()).unwrap();
    let shown = format!(
        "{account:?} {} {}",
        Command::SetBankAccount(SetBankAccount {
            account: account.clone()
        })
        .describe(),
        account.masked().number
    );
    assert!(!shown.contains("1234567"), "{shown}");
    assert!(!shown.contains("ﾔﾏﾀﾞ"), "{shown}");
    assert!(shown.contains("****567"), "{shown}");
}

#[test]
fn setting_the_account_again_with_the_same_key_is_the_same_request() {
    let stored = BankAccount::parse(&account()).unwrap();
    let given = vec![(
        "acct",
        Event::BankAccountSet(BankAccountSet { account: stored }),
    )];
    // The retry spells the holder in full-width kana again.
    Spec::given(given.clone())
        .when("acct", set(account()))
        .then_expect_already_done(Reply::SetBankAccount {
            account: BankAccount::parse(&account()).unwrap().masked(),
            version: 1,
        });
    Spec::given(given)
        .when(
            "acct",
            set(BankAccount {
                number: "7654321".into(),
                ..account()
            }),
        )
        .then_expect_error(DomainError::IdempotencyKeyReused {
            key: "acct".into(),
            first: "SetBankAccount to account ****567".into(),
        });
}

/// A bank-debit member with a monthly bill of 3,000 yen (bill 10) due Monday 1 March 2027.
fn drawn_bill() -> Vec<(&'static str, Event)> {
    let mut events: Vec<(&'static str, Event)> = vec![(
        "method",
        Event::PaymentMethodChanged(PaymentMethodChanged {
            method: PaymentMethod::BankDebit,
        }),
    )];
    events.extend(purchased(1, 3000, PaymentMode::Monthly));
    events.push(closed(
        10,
        "2027-01",
        PaymentMethod::BankDebit,
        date(2027, 3, 1),
    ));
    events
}

/// Bill 10's debit failed for lack of funds, recorded on 3 March: due 17 March with the fee.
fn debit_failed() -> (&'static str, Event) {
    (
        "bank-debit:1",
        Event::BankDebitFailed(BankDebitFailed {
            bill_id: id(10),
            code: 1,
            reason: "資金不足".into(),
            fee: 209,
            amount: 3209,
            due_date: date(2027, 3, 17),
        }),
    )
}

fn failure(code: u8) -> Command {
    Command::RecordDebitFailure(RecordDebitFailure {
        bill_id: id(10),
        code,
        reason: "資金不足".into(),
    })
}

#[test]
fn a_failed_debit_becomes_a_convenience_store_bill_with_its_fee() {
    let reply = Spec::given(drawn_bill())
        .at(jst(2027, 3, 3))
        .when("bank-debit:1", failure(1))
        .then_expect_events(vec![Event::BankDebitFailed(BankDebitFailed {
            bill_id: id(10),
            code: 1,
            reason: "資金不足".into(),
            fee: DEFAULT_BILL_FEE,
            amount: 3000 + DEFAULT_BILL_FEE,
            due_date: date(2027, 3, 17),
        })]);
    assert_eq!(
        reply,
        Reply::RecordDebitFailure {
            converted: true,
            amount: 3209,
            due_date: date(2027, 3, 17),
            version: 5,
        }
    );
}

#[test]
fn a_failed_debit_is_due_again_and_not_overdue_until_its_new_date() {
    let mut given = drawn_bill();
    given.push((
        "overdue:2027-03-02",
        Event::BillOverdue(BillOverdue {
            bill_id: id(10),
            since: date(2027, 3, 2),
        }),
    ));
    given.push((
        "overdue:2027-03-02",
        Event::ReminderIssued(ReminderIssued {
            bill_id: id(10),
            days_overdue: 1,
            date: date(2027, 3, 2),
        }),
    ));
    given.push(debit_failed());
    let member = Member::from_events(&Spec::given(given.clone()).history);
    let bill = &member.bills[&id(10)];
    assert!(!bill.overdue && bill.reminders.is_empty());
    assert_eq!(
        (bill.left(), bill.fee, bill.method),
        (3209, 209, Some(PaymentMethod::ConvenienceStore))
    );
    assert_eq!(member.overdue_bill(), None);
    let check = |d| {
        Spec::given(given.clone()).at(jst(2027, 3, 20)).when(
            "overdue",
            Command::MarkOverdue(MarkOverdue {
                as_of: date(2027, 3, d),
            }),
        )
    };
    check(17).then_expect_no_events(Reply::MarkOverdue {
        newly_overdue: 0,
        version: 7,
    });
    check(18).then_expect_events_matching(|events| {
        matches!(events, [Event::BillOverdue(b), Event::ReminderIssued(r)]
            if b.since == date(2027, 3, 18) && r.days_overdue == 1)
    });
}

#[test]
fn a_failure_of_a_bill_paid_meanwhile_changes_nothing() {
    let mut given = drawn_bill();
    given.push(paid(10, 3000));
    Spec::given(given)
        .when("bank-debit:1", failure(1))
        .then_expect_no_events(Reply::RecordDebitFailure {
            converted: false,
            amount: 3000,
            due_date: date(2027, 3, 1),
            version: 5,
        });
}

#[test]
fn a_second_failure_of_the_same_bill_adds_no_second_fee() {
    let mut given = drawn_bill();
    given.push(debit_failed());
    Spec::given(given)
        .when("bank-debit:2", failure(1))
        .then_expect_no_events(Reply::RecordDebitFailure {
            converted: false,
            amount: 3209,
            due_date: date(2027, 3, 17),
            version: 5,
        });
}

#[test]
fn a_failure_code_or_bill_out_of_place_is_refused() {
    Spec::given(drawn_bill())
        .when("f", failure(0))
        .then_expect_invalid("code");
    Spec::given(drawn_bill())
        .when(
            "f",
            Command::RecordDebitFailure(RecordDebitFailure {
                bill_id: id(99),
                code: 1,
                reason: String::new(),
            }),
        )
        .then_expect_error(DomainError::BillNotFound {
            user_id: USER.into(),
            bill_id: id(99),
        });
}
