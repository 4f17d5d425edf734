//! A fuzz of ids and payloads from outside, over every surface a caller writes through
//! (gRPC, JSON, the webhook): ids with spaces at either end, another case, full-width
//! forms, no-break and ideographic spaces, combining marks, past 128 bytes, emoji, control,
//! invisible and direction-changing characters, mixed over a few bases so that a database
//! that compares loosely would take one for another. Each call is either refused with
//! INVALID_ARGUMENT and appends nothing, or applies to exactly the member it names; then
//! the read models equal the fold, and a bystander's purchase still reaches the read model
//! (no member's data stopped the projection).
//!
//! Seeded: `ATONE_FUZZ_SEED` replays a run; the seed is printed either way.

use std::collections::BTreeMap;

use atone_api::tonic::Code;
use atone_api::tonic::transport::Channel;
use atone_api::v1::command_service_client::CommandServiceClient;
use atone_api::v1::{PaymentMode, PurchaseRequest};
use atone_domain::validate;
use atone_storage::DatabaseConnection;
use atone_storage::entity::events;
use sea_orm::EntityTrait;

use crate::{assert_read_models_match_event_store, get_member_on, unique_user};

/// What the fuzz expects of one exact id.
#[derive(Debug, Default)]
struct Expected {
    version: i64,
    outstanding: i64,
    unapplied: i64,
}

/// The surface a call goes through.
#[derive(Debug, Clone, Copy)]
enum Surface {
    Grpc,
    Json,
    Webhook,
}

/// Runs `cases` fuzzed calls against the atone at `endpoint` (`http://host:port`, no
/// authentication, the development webhook secret), whose database is `db`.
pub async fn fuzz_ids_and_payloads(
    endpoint: &str,
    channel: Channel,
    db: &DatabaseConnection,
    cases: usize,
) {
    let seed = std::env::var("ATONE_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    eprintln!("fuzz seed {seed} (ATONE_FUZZ_SEED={seed} replays it)");
    let mut rng = fastrand::Rng::with_seed(seed);
    let bases: Vec<String> = (0..3)
        .map(|i| format!("fz{i}-{}", &unique_user("b")[2..12]))
        .collect();
    let http = reqwest::Client::new();
    let mut command = CommandServiceClient::new(channel.clone());
    let mut expected: BTreeMap<String, Expected> = BTreeMap::new();
    let before = events::Entity::find().all(db).await.expect("events").len();

    for case in 0..cases {
        let base = &bases[rng.usize(..bases.len())];
        let user_id = id_variant(&mut rng, base);
        let surface = [Surface::Grpc, Surface::Json, Surface::Webhook][rng.usize(..3)];
        let what = format!("seed {seed} case {case}: {surface:?} {user_id:?}");
        let ok = match surface {
            Surface::Grpc | Surface::Json => {
                let (product_id, product_name) =
                    (id_variant(&mut rng, "prod"), name_variant(&mut rng));
                let amount = rng.i64(1..1000);
                let request = PurchaseRequest {
                    user_id: user_id.clone(),
                    product_id: product_id.clone(),
                    product_name: product_name.clone(),
                    amount,
                    payment_mode: PaymentMode::Immediate as i32,
                    idempotency_key: format!("fuzz-{seed}-{case}"),
                };
                let valid = validate::user_id(&user_id).is_ok()
                    && validate::product(&product_id, &product_name).is_ok();
                let answered = match surface {
                    Surface::Grpc => command
                        .purchase(request)
                        .await
                        .map(drop)
                        .map_err(|s| s.code()),
                    _ => json_purchase(&http, endpoint, &request).await,
                };
                check(&what, valid, answered);
                if valid {
                    let e = expected.entry(user_id.clone()).or_default();
                    e.version += 2;
                    e.outstanding += amount;
                }
                valid
            }
            Surface::Webhook => {
                let amount = rng.i64(1..1000);
                let valid = validate::user_id(&user_id).is_ok();
                let answered = webhook_payment(
                    &http,
                    endpoint,
                    &user_id,
                    &format!("fz-{seed}-{case}"),
                    amount,
                )
                .await;
                check(&what, valid, answered);
                if valid {
                    let e = expected.entry(user_id.clone()).or_default();
                    e.version += 1;
                    e.unapplied += amount;
                }
                valid
            }
        };
        let _ = ok;
    }

    // Each id that was taken is exactly its own member, in the store and the read model.
    let stored = events::Entity::find().all(db).await.expect("events");
    let appended: i64 = expected.values().map(|e| e.version).sum();
    assert_eq!(
        (stored.len() - before) as i64,
        appended,
        "seed {seed}: refused calls appended nothing"
    );
    for (user_id, e) in &expected {
        let own = stored.iter().filter(|row| row.user_id == *user_id).count() as i64;
        assert_eq!(
            own, e.version,
            "seed {seed}: {user_id:?} has exactly its own events"
        );
        let member = get_member_on(channel.clone(), user_id, e.version).await;
        let summary = member.summary.expect("summary");
        assert_eq!(summary.user_id, *user_id, "seed {seed}");
        assert_eq!(
            summary.outstanding_amount, e.outstanding,
            "seed {seed}: {user_id:?}"
        );
        assert_eq!(
            summary.unapplied_balance, e.unapplied,
            "seed {seed}: {user_id:?}"
        );
    }
    // Nobody's data stopped the projection.
    let bystander = unique_user("bystander");
    let bought = command
        .purchase(crate::purchase(&bystander, 100, "bystander"))
        .await
        .expect("a bystander's purchase")
        .into_inner();
    get_member_on(channel, &bystander, bought.version).await;
    assert_read_models_match_event_store(db).await;
}

/// Refused with INVALID_ARGUMENT exactly when `valid` is false.
fn check(what: &str, valid: bool, answered: Result<(), Code>) {
    match (valid, answered) {
        (true, Ok(())) | (false, Err(Code::InvalidArgument)) => {}
        (valid, other) => panic!("{what}: valid {valid}, answered {other:?}"),
    }
}

/// One of the forms an id arrives in.
fn id_variant(rng: &mut fastrand::Rng, base: &str) -> String {
    match rng.u8(..22) {
        0 | 1 => base.to_owned(),
        2 => format!("{base} "),
        3 => format!(" {base}"),
        4 => format!("{base}  "),
        5 => base.to_uppercase(),
        6 => base
            .chars()
            .map(|c| match c {
                '!'..='~' => char::from_u32(u32::from(c) + 0xFEE0).unwrap_or(c),
                _ => c,
            })
            .collect(),
        7 => format!("{base}\u{00A0}"),
        8 => format!("{base}\u{3000}"),
        9 => format!("{base}e\u{0301}"),
        10 => format!("{base}\u{00E9}"),
        11 => format!("{base}{}", "x".repeat(rng.usize(100..300))),
        12 => format!("{base}🦀"),
        13 => format!("{base}\u{0007}"),
        14 => format!("{base}\u{0000}"),
        15 => format!("{base}\u{200B}"),
        16 => format!("{base}\u{202E}"),
        17 => format!("{base}\t"),
        18 => format!("{base}\n"),
        19 => format!("{base} mid"),
        20 => String::new(),
        _ => format!("{base}ｰ"),
    }
}

/// One of the forms a product name arrives in.
fn name_variant(rng: &mut fastrand::Rng) -> String {
    match rng.u8(..8) {
        0 => "ワイヤレスイヤホン (黒)".to_owned(),
        1 => "名".repeat(rng.usize(80..100)),
        2 => "emoji 🎧🦀".to_owned(),
        3 => "bell\u{0007}".to_owned(),
        4 => "turn\u{202E}ed".to_owned(),
        5 => "trailing ".to_owned(),
        6 => String::new(),
        _ => "Product 1".to_owned(),
    }
}

async fn json_purchase(
    http: &reqwest::Client,
    endpoint: &str,
    r: &PurchaseRequest,
) -> Result<(), Code> {
    let body = serde_json::json!({
        "user_id": r.user_id,
        "product_id": r.product_id,
        "product_name": r.product_name,
        "amount": r.amount,
        "payment_mode": "PAYMENT_MODE_IMMEDIATE",
        "idempotency_key": r.idempotency_key,
    });
    let response = http
        .post(format!("{endpoint}/atone.v1.CommandService/Purchase"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("JSON answers");
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    match status {
        200 => Ok(()),
        400 if text.contains("\"invalid_argument\"") => Err(Code::InvalidArgument),
        _ => panic!("JSON purchase {body}: {status} {text}"),
    }
}

async fn webhook_payment(
    http: &reqwest::Client,
    endpoint: &str,
    user_id: &str,
    event_id: &str,
    amount: i64,
) -> Result<(), Code> {
    let body = serde_json::json!({
        "event_id": event_id,
        "type": "payment.succeeded",
        "user_id": user_id,
        "amount": amount,
        "paid_at": "2026-12-01T00:00:00Z",
    })
    .to_string();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let response = http
        .post(format!("{endpoint}/webhooks/payments"))
        .header("content-type", "application/json")
        .header(
            "atone-signature",
            atone::signature::sign(atone::webhook::DEVELOPMENT_SECRET, now, body.as_bytes()),
        )
        .body(body.clone())
        .send()
        .await
        .expect("the webhook answers");
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    match status {
        200 => Ok(()),
        400 if text.contains("user_id") => Err(Code::InvalidArgument),
        _ => panic!("webhook {body}: {status} {text}"),
    }
}
