//! The HTTP accept loop. It is ours rather than `axum::serve` for two reasons: the
//! `drop_next_responses` test fault must close a connection after the request was handled
//! but before any response byte is written, which only the owner of the connection can do;
//! and every connection gets the deadlines and the cap below.
//!
//! What one client can hold: a place among at most `max_connections` open connections
//! (a WebSocket keeps its place while it lives), `header_timeout` to send a request's headers
//! (hyper's timer, which also ends a kept-alive connection waiting for its next request),
//! `body_timeout` between two pieces of a request body (an upload that keeps moving is never
//! cut), and `idle_timeout` with no byte moving either way.

use std::any::Any;
use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify, OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutBody;

use crate::config::Limits;
use crate::error::ApiError;

/// Put in every request's extensions: lets a handler end its connection unanswered.
#[derive(Clone)]
pub struct ConnectionKill(Arc<Notify>);

impl ConnectionKill {
    /// Closes the connection without a response; never returns.
    pub async fn close_without_response(&self) {
        self.0.notify_one();
        std::future::pending::<()>().await;
    }
}

/// Put in every request's extensions: the connection's place under `max_connections`.
/// An upgraded connection (the cable) keeps a clone for as long as it lives.
#[derive(Clone)]
pub struct ConnectionSlot(#[allow(dead_code)] Arc<OwnedSemaphorePermit>);

/// File descriptors kept free for the database, uploads and the listener when the
/// connection cap is fitted under the process's open-file limit.
const FILES_KEPT_FREE: u64 = 256;

pub async fn accept_loop(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
) {
    // A panicking handler answers 500 and the server serves on (the binary unwinds: its
    // `server` profile, see main.rs).
    let router = router.layer(CatchPanicLayer::custom(panic_response));
    let places = Arc::new(Semaphore::new(connection_cap(limits.max_connections)));
    let mut last_full_warning: Option<Instant> = None;
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        // At the cap a new connection is closed at once: left in the backlog it would only
        // wait, and the client is better told.
        let Ok(place) = Arc::clone(&places).try_acquire_owned() else {
            if last_full_warning.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
                tracing::warn!(
                    "{} connections open (--max-connections): refusing new ones",
                    limits.max_connections
                );
                last_full_warning = Some(Instant::now());
            }
            drop(stream);
            continue;
        };
        let slot = ConnectionSlot(Arc::new(place));
        let _ = stream.set_nodelay(true);
        let progress = Progress::new();
        let io = TokioIo::new(ProgressIo {
            inner: stream,
            progress: progress.clone(),
        });
        let notify = Arc::new(Notify::new());
        let kill = ConnectionKill(notify.clone());
        let router = router.clone();
        let body_timeout = limits.body_timeout;
        let service = tower::service_fn(move |mut req: Request<Incoming>| {
            let ext = req.extensions_mut();
            ext.insert(kill.clone());
            ext.insert(slot.clone());
            ext.insert(ConnectInfo(peer));
            // The body timeout restarts with every piece that arrives.
            let req = req.map(|body| Body::new(TimeoutBody::new(body_timeout, body)));
            let router = router.clone();
            async move {
                let response = router.oneshot(req).await;
                Ok::<_, Infallible>(response.unwrap_or_else(|e| match e {}))
            }
        });
        let mut stop = shutdown.clone();
        let header_timeout = limits.header_timeout;
        let idle_timeout = limits.idle_timeout;
        tokio::spawn(async move {
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let conn = http
                .serve_connection(io, TowerToHyperService::new(service))
                .with_upgrades();
            tokio::select! {
                _ = conn => {}
                _ = notify.notified() => {}
                _ = stop.changed() => {}
                _ = progress.stalled_for(idle_timeout) => {
                    tracing::debug!("closing a connection from {peer}: nothing moved for {idle_timeout:?}");
                }
            }
        });
    }
}

fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    ApiError::Internal(format!("a handler panicked: {what}")).into_response()
}

/// `requested`, or less when the open-file limit would run out first (after raising the
/// soft limit to the hard one, as Go's runtime does): past it, accept fails for everyone.
fn connection_cap(requested: usize) -> usize {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit and setrlimit only read and write the struct we own.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
                return requested;
            }
            if lim.rlim_cur < lim.rlim_max {
                let raised = libc::rlimit {
                    rlim_cur: lim.rlim_max,
                    rlim_max: lim.rlim_max,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    lim = raised;
                }
            }
        }
        #[allow(clippy::unnecessary_cast)] // rlim_t is u64 on Linux, not everywhere
        let room = (lim.rlim_cur as u64).saturating_sub(FILES_KEPT_FREE).max(1);
        if (requested as u64) > room {
            tracing::warn!(
                "--max-connections {requested} is above what the open-file limit ({}) allows; using {room}",
                lim.rlim_cur
            );
            return room as usize;
        }
    }
    requested
}

/// When a connection last moved a byte, either way.
#[derive(Clone)]
struct Progress {
    start: Instant,
    /// Milliseconds after `start`.
    last: Arc<AtomicU64>,
}

impl Progress {
    fn new() -> Progress {
        Progress {
            start: Instant::now(),
            last: Arc::new(AtomicU64::new(0)),
        }
    }

    fn touch(&self) {
        let ms = self.start.elapsed().as_millis() as u64;
        self.last.store(ms, Ordering::Relaxed);
    }

    /// Returns once nothing moved for `limit`.
    async fn stalled_for(&self, limit: Duration) {
        loop {
            let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
            let deadline = self.start + last + limit;
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline.into()).await;
        }
    }
}

/// A socket that records its progress for the idle timeout.
struct ProgressIo<T> {
    inner: T,
    progress: Progress,
}

impl<T: AsyncRead + Unpin> AsyncRead for ProgressIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.progress.touch();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ProgressIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.progress.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.progress.touch();
        }
        polled
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
