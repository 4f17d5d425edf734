//! A property-based model of atone's core, with no services: random sequences of every
//! command at random times go through `Member::handle` → `Member::apply` → the pure
//! projection, and after each step:
//!
//! - the projection's rows equal what the member's fold says;
//! - an accepted purchase keeps the unpaid total within the limit it was checked against;
//! - no balance goes negative;
//! - every yen received is on the bill it paid or in the unapplied balance (or was applied
//!   to a monthly bill, or refunded from it);
//! - a retried idempotency key appends nothing and answers the first reply;
//! - an event delivered again changes no row.
//!
//! A failure shrinks to a shortest sequence of steps. `PROPTEST_CASES` sets how many
//! sequences run (256 by default).

use std::collections::HashMap;

use atone_domain::{
    BillState, CancelPurchase, ChangeCreditLimit, CloseMonth, Command, CompletePayment, Context,
    Decision, DomainError, Envelope, Event, IssueImmediateBill, IssueRefund, MarkOverdue, Member,
    PaymentMethod, PaymentMode, Period, Processed, Purchase, ReceivePayment, RecordedEvent, Reply,
    SetPaymentMethod, business_date,
};
use atone_projection::{BillStatus, MemberRows, Projected, PromiseStatus, project};
use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use uuid::Uuid;

const USER: &str = "model-member";
const DEFAULT_LIMIT: i64 = 50_000;

/// One step of a run. Promises and bills are named by an index into what the member has
/// (modulo their number), so every sequence means something however it shrinks.
#[derive(Debug, Clone)]
enum Step {
    Purchase {
        amount: i64,
        monthly: bool,
    },
    Bill {
        promise: usize,
        exact: bool,
    },
    Complete {
        bill: usize,
        exact: bool,
    },
    Receive {
        bill: Option<usize>,
        exact: bool,
        amount: i64,
    },
    Cancel {
        promise: usize,
        amount: i64,
    },
    Refund {
        amount: i64,
    },
    Method {
        bank: bool,
    },
    Limit {
        limit: i64,
    },
    Close {
        months_back: u32,
    },
    Overdue,
    /// Time passes (hours).
    Wait {
        hours: i64,
    },
    /// A command carried out before is sent again with its key.
    Retry {
        which: usize,
    },
    /// An event the projection applied is delivered again.
    Redeliver {
        which: usize,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (1i64..20_000, any::<bool>()).prop_map(|(amount, monthly)| Step::Purchase { amount, monthly }),
        2 => (any::<usize>(), any::<bool>()).prop_map(|(promise, exact)| Step::Bill { promise, exact }),
        2 => (any::<usize>(), any::<bool>()).prop_map(|(bill, exact)| Step::Complete { bill, exact }),
        2 => (proptest::option::of(any::<usize>()), any::<bool>(), 1i64..20_000)
            .prop_map(|(bill, exact, amount)| Step::Receive { bill, exact, amount }),
        1 => (any::<usize>(), 0i64..5_000).prop_map(|(promise, amount)| Step::Cancel { promise, amount }),
        1 => (0i64..3_000).prop_map(|amount| Step::Refund { amount }),
        1 => any::<bool>().prop_map(|bank| Step::Method { bank }),
        1 => (0i64..60_000).prop_map(|limit| Step::Limit { limit }),
        1 => (0u32..3).prop_map(|months_back| Step::Close { months_back }),
        1 => Just(Step::Overdue),
        2 => (1i64..24 * 40).prop_map(|hours| Step::Wait { hours }),
        1 => any::<usize>().prop_map(|which| Step::Retry { which }),
        1 => any::<usize>().prop_map(|which| Step::Redeliver { which }),
    ]
}

/// The member as the event store, the command side and the projection each hold it.
struct Model {
    now: DateTime<Utc>,
    member: Member,
    envelopes: Vec<Envelope>,
    rows: MemberRows,
    /// What each key's command did (the event store's idempotency keys).
    keys: HashMap<String, Processed>,
    /// Commands carried out or refused for the member's state, with their keys and what
    /// they answered: what a retry sends again, and must get again.
    done: Vec<(String, Command, Result<Reply, DomainError>)>,
    next_key: u64,
    next_id: u128,
}

impl Model {
    fn new() -> Self {
        Self {
            now: Utc.with_ymd_and_hms(2026, 10, 20, 3, 0, 0).unwrap(),
            member: Member::default(),
            envelopes: Vec::new(),
            rows: MemberRows::new(USER),
            keys: HashMap::new(),
            done: Vec::new(),
            next_key: 0,
            next_id: 0,
        }
    }

    fn promise(&self, n: usize) -> Option<Uuid> {
        let ids: Vec<Uuid> = self.member.promises.keys().copied().collect();
        (!ids.is_empty()).then(|| ids[n % ids.len()])
    }

    fn bill(&self, n: usize) -> Option<Uuid> {
        let ids: Vec<Uuid> = self.member.bills.keys().copied().collect();
        (!ids.is_empty()).then(|| ids[n % ids.len()])
    }

    /// The command a step sends, if it sends one.
    fn command(&self, step: &Step) -> Option<Command> {
        Some(match step {
            Step::Purchase { amount, monthly } => Command::Purchase(Purchase {
                product_id: "prod".into(),
                product_name: "item".into(),
                amount: *amount,
                payment_mode: if *monthly {
                    PaymentMode::Monthly
                } else {
                    PaymentMode::Immediate
                },
            }),
            Step::Bill { promise, exact } => {
                let id = self.promise(*promise)?;
                let amount = if *exact {
                    self.member.promises[&id].amount
                } else {
                    0
                };
                Command::IssueImmediateBill(IssueImmediateBill {
                    promise_id: id,
                    amount,
                })
            }
            Step::Complete { bill, exact } => {
                let id = self.bill(*bill)?;
                let due = self.member.bills[&id].left();
                Command::CompletePayment(CompletePayment {
                    bill_id: id,
                    amount: if *exact { due } else { due + 1 },
                })
            }
            Step::Receive {
                bill,
                exact,
                amount,
            } => {
                let bill_id = bill.and_then(|n| self.bill(n));
                let amount = match bill_id {
                    Some(id) if *exact => self.member.bills[&id].left().max(1),
                    _ => *amount,
                };
                Command::ReceivePayment(ReceivePayment {
                    transaction_id: format!("tx-{}", self.next_key),
                    bill_id,
                    amount,
                    received_at: self.now,
                    hold: false,
                })
            }
            Step::Cancel { promise, amount } => {
                let id = self.promise(*promise)?;
                Command::CancelPurchase(CancelPurchase {
                    order_id: self.member.promises[&id].order_id,
                    amount: *amount,
                })
            }
            Step::Refund { amount } => Command::IssueRefund(IssueRefund { amount: *amount }),
            Step::Method { bank } => Command::SetPaymentMethod(SetPaymentMethod {
                method: if *bank {
                    PaymentMethod::BankDebit
                } else {
                    PaymentMethod::ConvenienceStore
                },
            }),
            Step::Limit { limit } => {
                Command::ChangeCreditLimit(ChangeCreditLimit { limit: *limit })
            }
            Step::Close { months_back } => {
                let mut period = Period::of(business_date(self.now)).previous();
                for _ in 0..*months_back {
                    period = period.previous();
                }
                Command::CloseMonth(CloseMonth { period })
            }
            Step::Overdue => Command::MarkOverdue(MarkOverdue {
                as_of: business_date(self.now),
            }),
            Step::Wait { .. } | Step::Retry { .. } | Step::Redeliver { .. } => return None,
        })
    }

    fn decide(&mut self, key: &str, command: &Command) -> Result<Decision, DomainError> {
        let mut next_id = self.next_id;
        let mut new_id = || {
            next_id += 1;
            Uuid::from_u128(next_id)
        };
        let mut ctx = Context {
            now: self.now,
            credit_limit: DEFAULT_LIMIT,
            bill_fee: 209,
            reissue_fee: 300,
            reminder_days: &[1, 7, 14],
            new_id: &mut new_id,
            calendar: &atone_domain::Calendar::default(),
            debit_notice_days: atone_domain::DEFAULT_DEBIT_NOTICE_DAYS,
        };
        let decision = self
            .member
            .handle(USER, key, self.keys.get(key), command, &mut ctx);
        self.next_id = next_id;
        decision
    }

    /// Appends `events` as the event store would, folds them and projects them.
    fn append(&mut self, key: &str, events: Vec<Event>) -> Result<(), TestCaseError> {
        let mut recorded = Vec::new();
        for event in events {
            let envelope = Envelope {
                event_id: Uuid::from_u128(1 << 100 | self.envelopes.len() as u128),
                user_id: USER.into(),
                occurred_at: self.now,
                correlation_id: key.into(),
                trace_parent: String::new(),
                recorded: RecordedEvent {
                    version: self.member.version + 1,
                    idempotency_key: key.into(),
                    event,
                },
            };
            self.member.apply(&envelope.recorded);
            match project(&self.rows, &envelope) {
                Ok(Projected::Applied(change)) => self.rows.apply(&change),
                other => return Err(TestCaseError::fail(format!("projection: {other:?}"))),
            }
            recorded.push(envelope.recorded.clone());
            self.envelopes.push(envelope);
        }
        if let Some(processed) = Processed::of_key(&recorded, key) {
            self.keys.insert(key.to_owned(), processed);
        }
        Ok(())
    }

    fn run(&mut self, step: &Step) -> Result<(), TestCaseError> {
        match step {
            Step::Wait { hours } => self.now += Duration::hours(*hours),
            Step::Retry { which } => {
                if self.done.is_empty() {
                    return Ok(());
                }
                let (key, command, first) = self.done[which % self.done.len()].clone();
                if !self.keys.contains_key(&key) {
                    // A job's command (close, overdue) is not remembered under its key.
                    return Ok(());
                }
                let version = self.member.version;
                match (self.decide(&key, &command), first) {
                    (Ok(Decision::AlreadyDone(again)), Ok(reply)) => prop_assert_eq!(again, reply),
                    (Err(again), Err(refused)) => prop_assert_eq!(again, refused),
                    (other, first) => {
                        prop_assert!(false, "a retry of {key} ({first:?}) decided {other:?}")
                    }
                }
                prop_assert_eq!(self.member.version, version, "a retry appends nothing");
            }
            Step::Redeliver { which } => {
                if self.envelopes.is_empty() {
                    return Ok(());
                }
                let envelope = &self.envelopes[which % self.envelopes.len()];
                let again = project(&self.rows, envelope);
                prop_assert!(
                    matches!(again, Ok(Projected::Duplicate)),
                    "an event delivered again: {again:?}"
                );
            }
            other => {
                let Some(command) = self.command(other) else {
                    return Ok(());
                };
                self.next_key += 1;
                let key = format!("key-{}", self.next_key);
                let limit = self.member.limit_or(DEFAULT_LIMIT);
                match self.decide(&key, &command) {
                    Ok(Decision::Append { events, reply }) => {
                        self.append(&key, events)?;
                        if let Command::Purchase(_) = command {
                            prop_assert!(
                                self.member.outstanding <= limit,
                                "a purchase took the unpaid total to {} over the limit {limit}",
                                self.member.outstanding
                            );
                        }
                        self.done.push((key, command, Ok(reply)));
                    }
                    Ok(Decision::AlreadyDone(_)) => {
                        // Only a month already closed answers so under a new key.
                        prop_assert!(
                            matches!(command, Command::CloseMonth(_)),
                            "a new key answered as a retry: {command:?}"
                        );
                    }
                    // A refusal records no event (the model checks that below); one the
                    // member's state decided is kept under its key, as the store keeps it.
                    Err(refused) => {
                        if let Some(kept) = Processed::refusal(&command, &refused) {
                            self.keys.insert(key.clone(), kept);
                            self.done.push((key, command, Err(refused)));
                        }
                    }
                }
            }
        }
        self.check()
    }

    /// What must hold after every step.
    fn check(&self) -> Result<(), TestCaseError> {
        let m = &self.member;
        let row = &self.rows.member;
        prop_assert_eq!(row.version, m.version);
        prop_assert_eq!(
            row.version,
            self.envelopes.len() as i64,
            "versions run 1..n"
        );
        prop_assert_eq!(row.outstanding_amount, m.outstanding);
        prop_assert_eq!(row.credit_balance, m.credit_balance);
        prop_assert_eq!(row.unapplied_balance, m.unapplied_balance);
        prop_assert_eq!(row.payment_method, m.payment_method);
        prop_assert_eq!(
            row.credit_limit_or(DEFAULT_LIMIT),
            m.limit_or(DEFAULT_LIMIT)
        );
        let overdue = m
            .bills
            .values()
            .filter(|b| b.overdue && b.is_unpaid())
            .count() as i64;
        prop_assert_eq!(row.overdue_bills, overdue);
        prop_assert!(m.outstanding >= 0 && m.credit_balance >= 0 && m.unapplied_balance >= 0);

        prop_assert_eq!(self.rows.promises.len(), m.promises.len());
        for (id, p) in &m.promises {
            let read = &self.rows.promises[&id.to_string()];
            let bill = p.bill_id.and_then(|b| m.bills.get(&b));
            let status = match bill {
                _ if p.is_cancelled() => PromiseStatus::Cancelled,
                None => PromiseStatus::Unbilled,
                Some(b) if b.state == BillState::Paid => PromiseStatus::Paid,
                Some(_) => PromiseStatus::Billed,
            };
            prop_assert_eq!(
                (read.amount, read.cancelled_amount, read.status),
                (p.amount, p.cancelled_amount, status),
                "promise {}",
                id
            );
            prop_assert_eq!(read.bill_id.clone(), p.bill_id.map(|b| b.to_string()));
        }
        prop_assert_eq!(self.rows.bills.len(), m.bills.len());
        for (id, b) in &m.bills {
            let read = &self.rows.bills[&id.to_string()];
            let status = match b.state {
                BillState::Paid => BillStatus::Paid,
                BillState::Cancelled => BillStatus::Cancelled,
                BillState::Unpaid if b.overdue => BillStatus::Overdue,
                BillState::Unpaid if b.adjusted => BillStatus::Adjusted,
                BillState::Unpaid => BillStatus::Unpaid,
            };
            prop_assert_eq!(
                (read.amount, read.items_total, read.fee, read.status),
                (b.amount, b.items_total, b.fee, status),
                "bill {}",
                id
            );
            prop_assert_eq!(
                (read.balance_applied, read.paid_amount),
                (b.balance_applied, b.paid),
                "bill {}",
                id
            );
        }

        // Every yen received: on the bill it paid, or in the unapplied balance, from which
        // money leaves only to a monthly bill or as a refund.
        let (mut kept, mut left) = (0, 0);
        for e in &self.envelopes {
            match e.event() {
                Event::PaymentReceived(r) => {
                    let applied: i64 = r.paid_bills().iter().map(|a| a.amount).sum();
                    prop_assert!(applied <= r.amount, "more applied than received");
                    for a in r.paid_bills().iter().filter(|a| a.left == 0) {
                        prop_assert!(
                            m.bills
                                .get(&a.bill_id)
                                .is_some_and(|b| b.state == BillState::Paid),
                            "money settled a bill that is not paid"
                        );
                    }
                    kept += r.kept();
                }
                Event::RefundIssued(r) => left += r.from_unapplied,
                Event::MonthlyBillIssued(b) => left += b.unapplied_applied,
                _ => {}
            }
        }
        prop_assert_eq!(kept - left, m.unapplied_balance, "unapplied money adds up");
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256),
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_projection_and_the_rules_hold_whatever_the_commands(
        steps in proptest::collection::vec(step(), 1..80)
    ) {
        let mut model = Model::new();
        for step in &steps {
            model.run(step)?;
        }
    }
}
