//! What one HTTPS connection may hold and for how long. hyper has no idle timeout, and its
//! HTTP/1 header timer also runs while a kept-alive connection waits for its next request, so one
//! setting cannot be both short (a slow header writer) and long (an idle connection the API
//! server will reuse). Both are kept here instead: the decrypted stream notes when request bytes
//! arrive, the service notes when requests start and end, and a timer per connection judges.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Milliseconds since the connection opened; 0 means "not set", so real times start at 1.
#[derive(Debug)]
pub struct Activity {
    opened: Instant,
    /// Requests whose handler has not answered yet.
    active: AtomicUsize,
    /// When bytes of a request that has not reached the handler first arrived.
    head_started: AtomicU64,
    /// When the connection last had a request (or opened).
    last_active: AtomicU64,
}

/// What the timer decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judgement {
    Fine,
    /// Request bytes arrived but the headers did not complete in time (slowloris).
    HeaderTimeout,
    /// No request for the idle timeout.
    Idle,
}

impl Activity {
    pub fn new() -> Arc<Activity> {
        Arc::new(Activity {
            opened: Instant::now(),
            active: AtomicUsize::new(0),
            head_started: AtomicU64::new(0),
            last_active: AtomicU64::new(1),
        })
    }

    fn now(&self) -> u64 {
        u64::try_from(self.opened.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .saturating_add(1)
    }

    /// Bytes arrived: if no request is being handled, they are (part of) a new request's head.
    fn bytes_arrived(&self) {
        if self.active.load(Ordering::Acquire) == 0 {
            let _ = self.head_started.compare_exchange(
                0,
                self.now(),
                Ordering::AcqRel,
                Ordering::Acquire,
            );
        }
    }

    /// A request reached the handler (its headers are complete); the guard ends it.
    pub fn begin(self: &Arc<Activity>) -> RequestGuard {
        self.active.fetch_add(1, Ordering::AcqRel);
        self.head_started.store(0, Ordering::Release);
        self.last_active.store(self.now(), Ordering::Release);
        RequestGuard(self.clone())
    }

    pub fn judge(&self, header_timeout: Duration, idle_timeout: Duration) -> Judgement {
        let now = self.now();
        let older_than = |at: u64, limit: Duration| {
            at != 0
                && now.saturating_sub(at) >= u64::try_from(limit.as_millis()).unwrap_or(u64::MAX)
        };
        if self.active.load(Ordering::Acquire) > 0 {
            return Judgement::Fine;
        }
        if older_than(self.head_started.load(Ordering::Acquire), header_timeout) {
            return Judgement::HeaderTimeout;
        }
        if self.head_started.load(Ordering::Acquire) == 0
            && older_than(self.last_active.load(Ordering::Acquire), idle_timeout)
        {
            return Judgement::Idle;
        }
        Judgement::Fine
    }
}

pub struct RequestGuard(Arc<Activity>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.last_active.store(self.0.now(), Ordering::Release);
        self.0.active.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The decrypted stream, noting when request bytes arrive.
pub struct TrackedIo<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T> TrackedIo<T> {
    pub fn new(inner: T, activity: Arc<Activity>) -> TrackedIo<T> {
        TrackedIo { inner, activity }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for TrackedIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.bytes_arrived();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for TrackedIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_started_head_times_out_and_a_request_clears_it() {
        let activity = Activity::new();
        let (header, idle) = (Duration::from_millis(20), Duration::from_secs(60));
        assert_eq!(activity.judge(header, idle), Judgement::Fine);
        activity.bytes_arrived();
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(activity.judge(header, idle), Judgement::HeaderTimeout);
        let guard = activity.begin();
        activity.bytes_arrived(); // body bytes while the request is handled
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(activity.judge(header, idle), Judgement::Fine);
        drop(guard);
        assert_eq!(activity.judge(header, idle), Judgement::Fine);
    }

    #[test]
    fn no_request_for_the_idle_timeout_is_idle() {
        let activity = Activity::new();
        let (header, idle) = (Duration::from_secs(60), Duration::from_millis(20));
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(activity.judge(header, idle), Judgement::Idle);
        let guard = activity.begin();
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(activity.judge(header, idle), Judgement::Fine, "busy");
        drop(guard);
        assert_eq!(
            activity.judge(header, idle),
            Judgement::Fine,
            "just answered"
        );
    }
}
