//! Due dates on business days over the API, on SQLite and MariaDB: a bank debit due on a
//! Saturday is drawn on the Monday and is not overdue before the Tuesday; a bank closure
//! from the extra-closures configuration moves the debit a day; national holidays give the
//! bank no notice. Each ends with the read models equal to the event store's fold. And
//! `--bank-closures` refuses a bad file, naming its line.

use atone_api::v1::BillStatus;
use atone_command::ManualClock;
use chrono::NaiveDate;

use atone_testkit::*;

async fn a_debit_due_on_a_saturday_is_drawn_on_the_monday(backend: Backend) {
    let clock = ManualClock::new(jst(2027, 1, 15, 12, 0, 0));
    let app = TestApp::spawn_with(backend, with_clock(&clock, true)).await;
    let user = unique_user("saturday");
    pay_by_bank_debit(&app, &user).await;
    app.command()
        .await
        .purchase(monthly(&user, 3000, "m1"))
        .await
        .expect("a January purchase");

    // The daily billing closes January on 1 February: 27 February 2027 is a Saturday.
    clock.set(jst(2027, 2, 1, 9, 0, 0));
    let member = member_when(&app, &user, "January's bill", |m| {
        m.bills.iter().any(|b| b.period == "2027-01")
    })
    .await;
    let bill = member.bills[0].clone();
    assert_eq!((bill.due_date.as_str(), bill.fee), ("2027-03-01", 0));

    // Drawn on Monday 1 March: not overdue on the Sunday nor on the Monday itself...
    clock.set(jst(2027, 3, 1, 9, 0, 0));
    eventually(
        std::time::Duration::from_secs(10),
        "the run of March 1",
        || async {
            let lease = atone_storage::leases::get(&app.db, "billing")
                .await
                .ok()??;
            (lease.checkpoint.as_deref() == Some("2027-03-01")).then_some(())
        },
    )
    .await;
    let member = get_member(&app, &user, 0).await;
    assert_eq!(member.bills[0].status, BillStatus::Unpaid as i32);
    // ...overdue from the Tuesday.
    clock.set(jst(2027, 3, 2, 9, 0, 0));
    let member = member_when(&app, &user, "the bill overdue", |m| {
        m.bills[0].status == BillStatus::Overdue as i32
    })
    .await;
    assert_eq!(member.bills[0].overdue_since, "2027-03-02");

    app.wait_until_projected().await;
    assert_read_models_match_event_store(&app.db).await;
    app.stop().await;
}

on_each_backend!(a_debit_due_on_a_saturday_is_drawn_on_the_monday);

async fn a_debit_due_on_a_bank_closure_is_drawn_the_next_day(backend: Backend) {
    let clock = ManualClock::new(jst(2026, 6, 15, 12, 0, 0));
    let app = TestApp::spawn_with(backend, |settings| {
        with_clock(&clock, false)(settings);
        if let Some(command) = settings.command.as_mut() {
            command.handler.calendar =
                atone_domain::Calendar::with_closures(NaiveDate::from_ymd_opt(2026, 7, 27));
        }
    })
    .await;
    let user = unique_user("closure");
    pay_by_bank_debit(&app, &user).await;
    app.command()
        .await
        .purchase(monthly(&user, 3000, "m1"))
        .await
        .expect("a June purchase");
    clock.set(jst(2026, 7, 1, 9, 0, 0));
    close_period(&app, "2026-06").await.expect("close June");
    let member = member_when(&app, &user, "June's bill", |m| !m.bills.is_empty()).await;
    // Monday 27 July is closed: drawn on Tuesday the 28th.
    assert_eq!(member.bills[0].due_date, "2026-07-28");

    app.wait_until_projected().await;
    assert_read_models_match_event_store(&app.db).await;
    app.stop().await;
}

on_each_backend!(a_debit_due_on_a_bank_closure_is_drawn_the_next_day);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_bank_closures_file_is_refused_with_its_line() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("closures.txt");
    std::fs::write(&file, "# maintenance\n2026-07-27\n2026-02-30\n").expect("write the file");
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_atone"))
        .args(["serve", "--bank-closures"])
        .arg(&file)
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .await
        .expect("run atone");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("line 3: \"2026-02-30\" is not a date (YYYY-MM-DD)"),
        "{stderr}"
    );
}

/// The silver week (21–23 September 2026, national holidays) gives the bank no notice: a
/// bill issued on Friday 18 September has 24, 25 and 28 September before its debit day
/// (the 27th is a Sunday), fewer than 4, so with 4 days' notice it is drawn on 27 October.
/// Were the holidays business days, it would be drawn on 28 September.
async fn holidays_are_no_notice_for_the_bank(backend: Backend) {
    let clock = ManualClock::new(jst(2026, 8, 15, 12, 0, 0));
    let app = TestApp::spawn_with(backend, |settings| {
        with_clock(&clock, false)(settings);
        if let Some(command) = settings.command.as_mut() {
            command.handler.debit_notice_days = 4;
        }
    })
    .await;
    let user = unique_user("silver");
    pay_by_bank_debit(&app, &user).await;
    app.command()
        .await
        .purchase(monthly(&user, 3000, "m1"))
        .await
        .expect("an August purchase");
    clock.set(jst(2026, 9, 18, 9, 0, 0));
    close_period(&app, "2026-08").await.expect("close August");
    let member = member_when(&app, &user, "August's bill", |m| !m.bills.is_empty()).await;
    assert_eq!(member.bills[0].due_date, "2026-10-27");

    app.wait_until_projected().await;
    assert_read_models_match_event_store(&app.db).await;
    app.stop().await;
}

on_each_backend!(holidays_are_no_notice_for_the_bank);
