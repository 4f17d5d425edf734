//! A webhook receiver on a free port: records every delivery atone posts to it (its
//! event id header, its signature, its body) and answers the status it is told to.

use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

/// One delivery as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub event_id: String,
    pub signature: String,
    pub body: Vec<u8>,
    pub json: serde_json::Value,
    /// What the receiver answered it.
    pub answered: u16,
}

impl Received {
    pub fn position(&self) -> i64 {
        self.json["position"].as_i64().unwrap_or(-1)
    }
}

#[derive(Default)]
struct Inner {
    received: Mutex<Vec<Received>>,
    status: AtomicU16,
    /// Milliseconds each answer waits.
    delay_ms: AtomicU64,
}

#[derive(Clone)]
pub struct WebhookReceiver {
    /// Where atone posts: `http://127.0.0.1:PORT/hook`.
    pub url: String,
    inner: Arc<Inner>,
}

impl WebhookReceiver {
    /// A receiver answering 200 to everything.
    pub async fn start() -> Self {
        let inner = Arc::new(Inner {
            status: AtomicU16::new(200),
            ..Inner::default()
        });
        let app = axum::Router::new()
            .route("/hook", post(receive))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port for the webhook receiver");
        let addr = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url: format!("http://{addr}/hook"),
            inner,
        }
    }

    /// From now on, answers every delivery with `status`.
    pub fn answer(&self, status: u16) {
        self.inner.status.store(status, Ordering::SeqCst);
    }

    /// From now on, answers each delivery only after `delay`: a slow receiver.
    pub fn delay(&self, delay: std::time::Duration) {
        self.inner
            .delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// Every delivery so far, in the order they came.
    pub fn received(&self) -> Vec<Received> {
        self.inner
            .received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The deliveries answered 2xx, in the order they came.
    pub fn accepted(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| (200..300).contains(&r.answered))
            .collect()
    }
}

async fn receive(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let delay = inner.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    let answered = inner.status.load(Ordering::SeqCst);
    let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    inner
        .received
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Received {
            event_id: header("atone-event-id"),
            signature: header("atone-signature"),
            body: body.to_vec(),
            json,
            answered,
        });
    StatusCode::from_u16(answered).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}
