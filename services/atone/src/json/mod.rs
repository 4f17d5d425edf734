//! JSON over HTTP, for curl and anything else without a gRPC library: every unary RPC of the
//! process in the Connect protocol's unary form (`POST /atone.v1.CommandService/Purchase`,
//! `content-type: application/json`, the request and the reply in canonical proto3 JSON,
//! an error as `{"code", "message", "details"}` with a matching HTTP status), and every
//! server stream (`WatchMember`, `CloseBillingPeriod`) as Server-Sent Events.
//!
//! A JSON call is turned into a gRPC call of the same process, so it passes through the
//! same authentication, limits and metrics as any other; its reply, or its status, is
//! turned back into JSON. The message types come from the descriptors the process serves
//! by reflection.

mod error;
mod sse;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{
    ACCEPT, ACCEPT_ENCODING, CONNECTION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, TE,
    TRANSFER_ENCODING,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Version};
use axum::middleware::Next;
use axum::response::Response;
use bytes::{Buf, BufMut, Bytes, BytesMut};
use http_body_util::BodyExt;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, MethodDescriptor};
use tonic::Code;

pub use error::json_error;

/// The message types of every RPC the process serves, and of `google.rpc`'s error details.
#[derive(Debug)]
pub struct Gateway {
    pool: DescriptorPool,
}

impl Gateway {
    pub fn new() -> anyhow::Result<Arc<Self>> {
        let mut pool = DescriptorPool::decode(atone_api::FILE_DESCRIPTOR_SET)?;
        pool.decode_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)?;
        Ok(Arc::new(Self { pool }))
    }

    fn method(&self, path: &str) -> Option<MethodDescriptor> {
        let (service, method) = path.strip_prefix('/')?.split_once('/')?;
        self.pool
            .get_service_by_name(service)?
            .methods()
            .find(|m| m.name() == method)
    }
}

/// Middleware on the gRPC routes: a JSON POST becomes a gRPC call; anything else passes.
pub async fn connect_json(
    State(gateway): State<Arc<Gateway>>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::POST || !is_json(request.headers()) {
        return next.run(request).await;
    }
    let path = request.uri().path().to_owned();
    let Some(method) = gateway.method(&path) else {
        return json_error(Code::Unimplemented, format!("atone has no method {path}"));
    };
    if method.is_client_streaming() {
        return json_error(
            Code::Unimplemented,
            format!("{path} takes a stream of requests: call it over gRPC"),
        );
    }
    let (parts, body) = request.into_parts();
    let grpc = match read_message(body, &method.input()).await {
        Ok(message) => grpc_request(parts, &message),
        Err(status) => return gateway.error(&status),
    };
    let response = next.run(grpc).await;
    if method.is_server_streaming() {
        sse::events(gateway, method.output(), response)
    } else {
        gateway.unary(&method.output(), response).await
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

/// The request body as a message of `input`; an empty body is the empty message.
async fn read_message(
    body: Body,
    input: &MessageDescriptor,
) -> Result<DynamicMessage, tonic::Status> {
    let bytes = body.collect().await.map_err(body_error)?.to_bytes();
    let json: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        &bytes
    };
    let invalid = |e: serde_json::Error| {
        tonic::Status::invalid_argument(format!(
            "the request is not a valid {} in JSON: {e}",
            input.full_name()
        ))
    };
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let message = DynamicMessage::deserialize(input.clone(), &mut deserializer).map_err(invalid)?;
    deserializer.end().map_err(invalid)?;
    Ok(message)
}

/// A body that could not be read: too large (the size limit's own status) or cut off.
fn body_error(error: axum::Error) -> tonic::Status {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(e) = source {
        if let Some(status) = e.downcast_ref::<tonic::Status>() {
            return status.clone();
        }
        source = e.source();
    }
    tonic::Status::invalid_argument(format!("cannot read the request body: {error}"))
}

/// The same call as gRPC: its headers (the credential among them), the message in one frame,
/// and Connect's timeout as gRPC's.
fn grpc_request(mut parts: axum::http::request::Parts, message: &DynamicMessage) -> Request {
    let payload = prost::Message::encode_to_vec(message);
    let mut frame = BytesMut::with_capacity(payload.len() + 5);
    frame.put_u8(0);
    // The body limit (far below 4 GiB) has been applied to the JSON, which is never
    // smaller than its binary encoding.
    frame.put_u32(u32::try_from(payload.len()).unwrap_or(u32::MAX));
    frame.put_slice(&payload);
    parts.version = Version::HTTP_2;
    let headers = &mut parts.headers;
    let timeout = headers
        .get("connect-timeout-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    for name in [
        CONTENT_TYPE,
        CONTENT_LENGTH,
        ACCEPT,
        ACCEPT_ENCODING,
        CONTENT_ENCODING,
        TRANSFER_ENCODING,
        CONNECTION,
    ] {
        headers.remove(name);
    }
    headers.remove("connect-protocol-version");
    headers.remove("connect-timeout-ms");
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    headers.insert(TE, HeaderValue::from_static("trailers"));
    if let Some(ms) = timeout.and_then(|ms| HeaderValue::try_from(format!("{ms}m")).ok()) {
        headers.insert("grpc-timeout", ms);
    }
    Request::from_parts(parts, Body::from(frame.freeze()))
}

impl Gateway {
    /// A unary reply as JSON, or its status as a JSON error.
    async fn unary(&self, output: &MessageDescriptor, response: Response) -> Response {
        let (parts, body) = response.into_parts();
        if let Some(status) = failure(&parts.headers) {
            return self.error(&status);
        }
        let collected = match body.collect().await {
            Ok(collected) => collected,
            Err(e) => return json_error(Code::Internal, format!("the reply was cut off: {e}")),
        };
        if let Some(status) = collected.trailers().and_then(failure) {
            return self.error(&status);
        }
        let mut bytes = collected.to_bytes();
        let json = match next_frame(&mut bytes) {
            Some(Ok(payload)) => to_json(output, payload),
            Some(Err(e)) => Err(e),
            None => Err("the reply holds no message".to_owned()),
        };
        match json {
            Ok(json) => json_response(StatusCode::OK, json),
            Err(e) => json_error(Code::Internal, e),
        }
    }
}

/// The status in `headers` (a trailers-only reply) or trailers, when it is not OK.
fn failure(headers: &HeaderMap) -> Option<tonic::Status> {
    tonic::Status::from_header_map(headers).filter(|s| s.code() != Code::Ok)
}

/// Takes one whole gRPC frame off the front of `buffer` (contiguous: `Bytes`, `BytesMut`),
/// if it holds one.
fn next_frame(buffer: &mut impl Buf) -> Option<Result<Bytes, String>> {
    let header = buffer.chunk().get(..5)?;
    let compressed = header[0] != 0;
    let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
    if buffer.remaining() < len.saturating_add(5) {
        return None;
    }
    buffer.advance(5);
    let payload = buffer.copy_to_bytes(len);
    if compressed {
        return Some(Err("the reply is compressed".to_owned()));
    }
    Some(Ok(payload))
}

/// A message of `output` in canonical proto3 JSON.
fn to_json(output: &MessageDescriptor, payload: Bytes) -> Result<Vec<u8>, String> {
    let message = DynamicMessage::decode(output.clone(), payload)
        .map_err(|e| format!("cannot decode the reply: {e}"))?;
    serde_json::to_vec(&message).map_err(|e| format!("cannot write the reply as JSON: {e}"))
}

fn json_response(status: StatusCode, json: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(json));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
