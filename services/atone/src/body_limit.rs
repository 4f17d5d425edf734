//! A request body held to atone's limits while it arrives: past `--max-request-bytes` it
//! ends with RESOURCE_EXHAUSTED, before it is decoded; a gRPC message whose length prefix
//! declares more is refused at its prefix (tonic's own limit would answer OUT_OF_RANGE);
//! and a body that has not arrived whole within `--body-timeout` ends with
//! DEADLINE_EXCEEDED, so a caller that opens a call and then sends nothing holds its slot
//! for seconds, not for the request timeout.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tokio::time::Sleep;
use tonic::Status;
use tonic::body::Body;

pub struct Limited {
    inner: Body,
    limit: usize,
    seen: usize,
    /// gRPC's length-prefixed messages, read as they pass (binary gRPC and gRPC-Web).
    frames: Option<Frames>,
    /// When the whole body must have arrived; `None` for a stream of requests, and once
    /// the body has ended.
    deadline: Option<(Pin<Box<Sleep>>, Duration)>,
}

impl Limited {
    /// `body` held to `limit` bytes; `grpc` when it carries length-prefixed gRPC messages;
    /// `within` the time it may take to arrive whole.
    pub fn new(body: Body, limit: usize, grpc: bool, within: Option<Duration>) -> Self {
        Self {
            inner: body,
            limit,
            seen: 0,
            frames: grpc.then(Frames::default),
            deadline: within.map(|d| (Box::pin(tokio::time::sleep(d)), d)),
        }
    }

    fn too_large(&self) -> Status {
        tracing::debug!(limit = self.limit, "request refused: too large");
        Status::resource_exhausted(format!("the request is larger than {} bytes", self.limit))
    }
}

impl http_body::Body for Limited {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        if let Some((sleep, within)) = &mut self.deadline
            && sleep.as_mut().poll(cx).is_ready()
        {
            let within = *within;
            self.deadline = None;
            tracing::debug!(?within, "request refused: its body did not arrive in time");
            return Poll::Ready(Some(Err(Status::deadline_exceeded(format!(
                "the request body did not arrive within {within:?}"
            )))));
        }
        let frame = match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => frame,
            Poll::Ready(None) => {
                self.deadline = None;
                return Poll::Ready(None);
            }
            other => return other,
        };
        if let Some(data) = frame.data_ref() {
            self.seen = self.seen.saturating_add(data.len());
            let limit = self.limit;
            let declared_too_much = self
                .frames
                .as_mut()
                .is_some_and(|frames| frames.feed(data, limit).is_err());
            if self.seen > self.limit || declared_too_much {
                return Poll::Ready(Some(Err(self.too_large())));
            }
        }
        if self.inner.is_end_stream() {
            self.deadline = None;
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Where a stream of gRPC messages (a flag byte and a 4-byte big-endian length, then the
/// message) stands, across data frames that split it anywhere.
#[derive(Debug, Default)]
struct Frames {
    prefix: [u8; 5],
    /// Prefix bytes seen of the current message.
    have: usize,
    /// Message bytes still to pass before the next prefix.
    skip: u64,
}

impl Frames {
    /// Reads `data`; `Err` with the declared length once a prefix declares more than
    /// `limit`.
    fn feed(&mut self, mut data: &[u8], limit: usize) -> Result<(), u64> {
        while !data.is_empty() {
            if self.skip > 0 {
                let n = data
                    .len()
                    .min(usize::try_from(self.skip).unwrap_or(usize::MAX));
                self.skip -= n as u64;
                data = &data[n..];
                continue;
            }
            let n = data.len().min(5 - self.have);
            self.prefix[self.have..self.have + n].copy_from_slice(&data[..n]);
            self.have += n;
            data = &data[n..];
            if self.have == 5 {
                let declared = u64::from(u32::from_be_bytes([
                    self.prefix[1],
                    self.prefix[2],
                    self.prefix[3],
                    self.prefix[4],
                ]));
                if declared > limit as u64 {
                    return Err(declared);
                }
                self.skip = declared;
                self.have = 0;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(len: u32) -> Vec<u8> {
        let mut bytes = vec![0];
        bytes.extend_from_slice(&len.to_be_bytes());
        bytes.extend(std::iter::repeat_n(7, len as usize));
        bytes
    }

    #[test]
    fn a_prefix_that_declares_too_much_is_caught_however_the_bytes_are_split() {
        let mut stream = message(10);
        stream.extend(message(3));
        stream.extend_from_slice(&[0, 0, 0x10, 0, 0]); // declares 1 MiB
        for split in 1..stream.len() {
            let mut frames = Frames::default();
            let outcome = stream
                .chunks(split)
                .try_for_each(|chunk| frames.feed(chunk, 64 * 1024));
            assert_eq!(outcome, Err(1 << 20), "split every {split} bytes");
        }
        let mut frames = Frames::default();
        let fine = message(64 * 1024);
        assert_eq!(frames.feed(&fine, 64 * 1024), Ok(()));
    }
}
