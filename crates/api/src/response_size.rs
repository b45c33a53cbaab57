//! The size of a response body for `prometheus_http_response_size_bytes`: known up front for
//! a complete body, else counted as a streamed body's frames go out and recorded when it ends
//! (or is dropped early), as client_golang counts the bytes a handler writes.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::response::Response;
use http_body::Frame;

/// Calls `record` with the number of body bytes of `resp`: now if the body's size is known,
/// else once its stream ends.
pub(crate) fn observe(resp: Response, record: impl FnOnce(u64) + Send + 'static) -> Response {
    if let Some(n) = resp.body().size_hint().exact() {
        record(n);
        return resp;
    }
    resp.map(|body| Body::new(Counting { inner: body, bytes: 0, record: Some(Box::new(record)) }))
}

type Record = Box<dyn FnOnce(u64) + Send>;

struct Counting {
    inner: Body,
    bytes: u64,
    record: Option<Record>,
}

impl Counting {
    fn finish(&mut self) {
        if let Some(record) = self.record.take() {
            record(self.bytes);
        }
    }
}

impl HttpBody for Counting {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.bytes += data.len() as u64;
                }
            }
            Poll::Ready(None) | Poll::Ready(Some(Err(_))) => self.finish(),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Counting {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[tokio::test]
    async fn counts_complete_and_streamed_bodies() {
        let seen = Arc::new(AtomicU64::new(u64::MAX));
        let s = seen.clone();
        let resp =
            observe(Response::new(Body::from("hello")), move |n| s.store(n, Ordering::SeqCst));
        assert_eq!(seen.load(Ordering::SeqCst), 5, "known size: recorded at once");
        drop(resp);

        let streamed = Response::new(Body::new(Chunks(vec![
            Bytes::from_static(b"abc"),
            Bytes::from_static(b"defg"),
        ])));
        let s = seen.clone();
        let resp = observe(streamed, move |n| s.store(n, Ordering::SeqCst));
        assert_eq!(seen.load(Ordering::SeqCst), 5, "not yet: the stream has not run");
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap_or_default();
        assert_eq!(body.len(), 7);
        assert_eq!(seen.load(Ordering::SeqCst), 7);
    }

    /// A body of chunks whose size is not known up front.
    struct Chunks(Vec<Bytes>);

    impl HttpBody for Chunks {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            if self.0.is_empty() {
                return Poll::Ready(None);
            }
            Poll::Ready(Some(Ok(Frame::data(self.0.remove(0)))))
        }
    }
}
