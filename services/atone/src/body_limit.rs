//! A request body that ends with RESOURCE_EXHAUSTED once it grows past a limit: how atone
//! refuses an oversized request before decoding it (tonic's own limit answers OUT_OF_RANGE).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tonic::Status;
use tonic::body::Body;

pub struct Limited {
    inner: Body,
    limit: usize,
    seen: usize,
}

impl Limited {
    pub fn new(inner: Body, limit: usize) -> Self {
        Self {
            inner,
            limit,
            seen: 0,
        }
    }
}

impl http_body::Body for Limited {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let frame = match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => frame,
            other => return other,
        };
        if let Some(data) = frame.data_ref() {
            self.seen = self.seen.saturating_add(data.len());
            if self.seen > self.limit {
                tracing::debug!(limit = self.limit, "request refused: too large");
                return Poll::Ready(Some(Err(Status::resource_exhausted(format!(
                    "the request is larger than {} bytes",
                    self.limit
                )))));
            }
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
