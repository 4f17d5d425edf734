//! Specs: a member's state stays bounded however long their history: idempotency keys are
//! not in it (the event store keeps them, for a retention period), and of the settled bills
//! only the last `SETTLED_KEPT` stay, with their promises.

use crate::spec::*;
use crate::*;

/// `n` cycles of a 1,000 yen すぐ払い purchase, its bill and its payment: order `base`,
/// promise `base + 1`, bill `base + 2`, with `base` = 1000 + 10 × the cycle.
fn cycles(n: u128) -> Vec<(&'static str, Event)> {
    (0..n)
        .flat_map(|i| {
            let base = 1000 + 10 * i;
            let mut cycle = purchased(base, 1000, PaymentMode::Immediate).to_vec();
            cycle.push(billed(base + 2, base + 1, 1000));
            cycle.push(paid(base + 2, 1000));
            cycle
        })
        .collect()
}

const CYCLES: u128 = SETTLED_KEPT as u128 + 30;

#[test]
fn the_state_keeps_only_the_last_settled_bills_and_their_promises() {
    let spec = Spec::given(cycles(CYCLES));
    let member = Member::from_events(&spec.history);
    assert_eq!(member.version, 4 * CYCLES as i64);
    assert_eq!(member.bills.len(), SETTLED_KEPT);
    assert_eq!(member.promises.len(), SETTLED_KEPT);
    let oldest_kept = 1000 + 10 * (CYCLES - SETTLED_KEPT as u128);
    assert!(member.bills.contains_key(&id(oldest_kept + 2)));
    assert!(!member.bills.contains_key(&id(oldest_kept - 10 + 2)));
    assert_eq!(member.outstanding, 0);

    // Growing the history does not grow the state.
    let longer = Member::from_events(&Spec::given(cycles(CYCLES + 40)).history);
    assert_eq!(
        serde_json::to_vec(&longer).map(|v| v.len()).ok(),
        serde_json::to_vec(&member).map(|v| v.len()).ok(),
        "the snapshot's size is flat"
    );
}

#[test]
fn paying_a_recently_paid_bill_is_refused_as_paid() {
    let last = 1000 + 10 * (CYCLES - 1) + 2;
    Spec::given(cycles(CYCLES))
        .when("pay-again", pay(id(last), 1000))
        .then_expect_error(DomainError::BillAlreadyPaid { bill_id: id(last) });
}

#[test]
fn paying_a_bill_settled_long_ago_is_refused_as_unknown() {
    Spec::given(cycles(CYCLES))
        .when("pay-again", pay(id(1002), 1000))
        .then_expect_error(DomainError::BillNotFound {
            user_id: USER.to_owned(),
            bill_id: id(1002),
        });
}

#[test]
fn a_retry_gets_the_first_reply_from_the_kept_key_whatever_the_state_forgot() {
    // A first payment under its own key, then enough cycles for its bill to leave the state.
    let mut history = purchased(1, 1000, PaymentMode::Immediate).to_vec();
    history.push(billed(3, 2, 1000));
    history.push(("pay-first", paid(3, 1000).1));
    history.extend(cycles(CYCLES));
    let spec = Spec::given(history);
    assert!(
        !Member::from_events(&spec.history)
            .bills
            .contains_key(&id(3))
    );
    spec.when("pay-first", pay(id(3), 1000))
        .then_expect_already_done(Reply::CompletePayment { version: 4 });
}

#[test]
fn the_kept_key_is_the_command_s_request_and_its_reply_at_its_last_event() {
    let spec = Spec::given(purchased(1, 5000, PaymentMode::Immediate));
    let done = Processed::of_key(&spec.history, "purchase-1").map(|p| p.outcome);
    assert_eq!(
        done,
        Some(crate::Outcome::Reply(Reply::Purchase {
            order_id: id(1),
            promise_id: id(2),
            due_date: promise_due_date(
                date(2026, 1, 10),
                PaymentMode::Immediate,
                PaymentMethod::ConvenienceStore
            ),
            version: 2,
        }))
    );
    assert_eq!(Processed::of_key(&spec.history, "another"), None);
}
