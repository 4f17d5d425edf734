//! A server stream as Server-Sent Events: each message a `data: {json}` event; a status
//! other than OK at the end an `event: error` with the JSON error; a comment every few
//! seconds while nothing happens, so a client that went away is noticed and its stream
//! (a watch, say) ends.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use prost_reflect::MessageDescriptor;
use tonic::Code;

use super::{Gateway, failure, next_frame, to_json};

/// How long a quiet stream goes without a keep-alive comment.
const HEARTBEAT: Duration = Duration::from_secs(15);

struct Stream {
    gateway: Arc<Gateway>,
    output: MessageDescriptor,
    body: Body,
    buffer: BytesMut,
    heartbeat: tokio::time::Interval,
    done: bool,
}

/// The reply of a server-streaming call as an event stream; a call refused before it
/// started (a trailers-only reply) as a plain JSON error.
pub fn events(gateway: Arc<Gateway>, output: MessageDescriptor, response: Response) -> Response {
    let (parts, body) = response.into_parts();
    if let Some(status) = failure(&parts.headers) {
        return gateway.error(&status);
    }
    let start = tokio::time::Instant::now() + HEARTBEAT;
    let stream = Stream {
        gateway,
        output,
        body,
        buffer: BytesMut::new(),
        heartbeat: tokio::time::interval_at(start, HEARTBEAT),
        done: false,
    };
    let events = futures::stream::unfold(stream, |mut stream| async move {
        let event = stream.next_event().await?;
        Some((Ok::<_, std::convert::Infallible>(event), stream))
    });
    let mut response = Response::new(Body::from_stream(events));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

impl Stream {
    /// The next event to send, or `None` when the stream is over.
    async fn next_event(&mut self) -> Option<Bytes> {
        loop {
            if self.done {
                return None;
            }
            if let Some(frame) = next_frame(&mut self.buffer) {
                let json = frame.and_then(|payload| to_json(&self.output, payload));
                return Some(match json {
                    Ok(json) => data_event(&json),
                    Err(e) => self.end_with(&tonic::Status::new(Code::Internal, e)),
                });
            }
            let frame = tokio::select! {
                frame = self.body.frame() => frame,
                _ = self.heartbeat.tick() => return Some(Bytes::from_static(b": keep-alive\n\n")),
            };
            match frame {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => self.buffer.extend_from_slice(&data),
                    Err(frame) => match frame.trailers_ref().and_then(failure) {
                        Some(status) => return Some(self.end_with(&status)),
                        None => self.done = true,
                    },
                },
                Some(Err(e)) => {
                    let status = tonic::Status::unavailable(format!("the stream broke: {e}"));
                    return Some(self.end_with(&status));
                }
                None => self.done = true,
            }
        }
    }

    fn end_with(&mut self, status: &tonic::Status) -> Bytes {
        self.done = true;
        let mut event = b"event: error\n".to_vec();
        event.extend_from_slice(&data_event(&self.gateway.error_json(status)));
        Bytes::from(event)
    }
}

fn data_event(json: &[u8]) -> Bytes {
    let mut event = Vec::with_capacity(json.len() + 8);
    event.extend_from_slice(b"data: ");
    event.extend_from_slice(json);
    event.extend_from_slice(b"\n\n");
    Bytes::from(event)
}
