//! Events appended straight to the event store, as a command would append them (outbox rows
//! included) but without its checks: for tests that play a part of atone themselves, or
//! that need events no command would make.

use atone_domain::{Event, PaymentMode, PaymentPromiseCreated, PurchaseCompleted};
use atone_storage::{CommandMeta, DatabaseConnection, EventStore};
use chrono::Utc;
use uuid::Uuid;

/// Appends `events` after the member's stream.
pub async fn append(db: &DatabaseConnection, user: &str, events: Vec<Event>) {
    let store = EventStore::new(db.clone(), 100);
    let before = store.load(user).await.expect("load the member");
    let meta = CommandMeta {
        idempotency_key: Uuid::now_v7().to_string(),
        correlation_id: "test".into(),
        trace_parent: String::new(),
        occurred_at: Utc::now(),
    };
    store
        .append(user, &before, events, &meta)
        .await
        .expect("append");
}

/// The two events of a すぐ払い purchase of `product_name` for `amount`.
pub fn purchase_events(product_name: &str, amount: i64) -> Vec<Event> {
    let order_id = Uuid::now_v7();
    vec![
        Event::PurchaseCompleted(PurchaseCompleted {
            order_id,
            product_id: "prod-test".into(),
            product_name: product_name.to_owned(),
            amount,
            payment_mode: PaymentMode::Immediate,
            credit_limit: 50_000,
        }),
        Event::PaymentPromiseCreated(PaymentPromiseCreated {
            promise_id: Uuid::now_v7(),
            order_id,
            product_id: "prod-test".into(),
            product_name: product_name.to_owned(),
            amount,
            payment_mode: PaymentMode::Immediate,
            due_date: Utc::now().date_naive() + chrono::Days::new(30),
        }),
    ]
}
