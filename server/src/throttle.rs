//! Rate limits on what a stranger can repeat without credentials, as Chatwoot's rack-attack
//! sets them: sign-in per address and per email (`login/ip`, `login/email`), and creating
//! contacts and conversations on the public client API per address (its widget API's
//! "conversation bombing" throttle). A refusal is 429 with `Retry-After`.
//!
//! rack-attack counts in fixed windows ("5 per 5 minutes"); governor's GCRA gives the same
//! long-run rate without the window edge that lets 10 through in a second: the burst is
//! the window's count, then one more per window/count.

use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde_json::json;

use crate::AppState;

/// A limit: `burst` at once, then one more every `period`.
struct Limit {
    burst: u32,
    period: Duration,
}

/// `login/ip`: 5 per 5 minutes.
const SIGN_IN_PER_ADDRESS: Limit = Limit {
    burst: 5,
    period: Duration::from_secs(60),
};
/// `login/email`: 10 per 15 minutes.
const SIGN_IN_PER_EMAIL: Limit = Limit {
    burst: 10,
    period: Duration::from_secs(90),
};
/// New contacts and conversations from one address: 20 at once, then 2 a minute. Looser
/// than Chatwoot's widget throttle (6 conversations in 12 hours) because a contact and its
/// conversation are two requests here, and one office behind one address has many customers.
const PUBLIC_CREATE_PER_ADDRESS: Limit = Limit {
    burst: 20,
    period: Duration::from_secs(30),
};

/// The longest email kept as a key (RFC 5321's path limit): an attacker's invented emails
/// cost a bounded amount each.
const MAX_EMAIL_KEY: usize = 254;

pub struct Throttles {
    sign_in_by_address: DefaultKeyedRateLimiter<IpAddr>,
    sign_in_by_email: DefaultKeyedRateLimiter<String>,
    public_create_by_address: DefaultKeyedRateLimiter<IpAddr>,
}

fn limiter<K: Hash + Eq + Clone>(limit: Limit) -> DefaultKeyedRateLimiter<K> {
    let quota = Quota::with_period(limit.period)
        .expect("a limit's period is not zero")
        .allow_burst(NonZeroU32::new(limit.burst).expect("a limit's burst is not zero"));
    RateLimiter::keyed(quota)
}

/// How long until `key` may try again, if it may not now.
fn check<K: Hash + Eq + Clone>(
    limiter: &DefaultKeyedRateLimiter<K>,
    key: &K,
) -> Result<(), Duration> {
    limiter
        .check_key(key)
        .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
}

impl Throttles {
    /// The limiters, and a task that forgets keys whose limit has fully recovered, so the
    /// memory a throttle holds follows the clients of the last minutes, not of all time.
    pub fn start() -> Arc<Throttles> {
        let throttles = Arc::new(Throttles {
            sign_in_by_address: limiter(SIGN_IN_PER_ADDRESS),
            sign_in_by_email: limiter(SIGN_IN_PER_EMAIL),
            public_create_by_address: limiter(PUBLIC_CREATE_PER_ADDRESS),
        });
        let weak: Weak<Throttles> = Arc::downgrade(&throttles);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                let Some(t) = weak.upgrade() else { return };
                t.sign_in_by_address.retain_recent();
                t.sign_in_by_email.retain_recent();
                t.public_create_by_address.retain_recent();
                t.sign_in_by_address.shrink_to_fit();
                t.sign_in_by_email.shrink_to_fit();
                t.public_create_by_address.shrink_to_fit();
            }
        });
        throttles
    }

    /// A sign-in attempt from this address (checked before the body is read).
    pub fn sign_in_address(&self, addr: IpAddr) -> Result<(), Duration> {
        check(&self.sign_in_by_address, &client_key(addr))
    }

    /// A sign-in attempt for this email, normalised as rack-attack's rule does
    /// (lowercase, no whitespace).
    pub fn sign_in_email(&self, email: &str) -> Result<(), Duration> {
        let mut key: String = email
            .chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect();
        if key.len() > MAX_EMAIL_KEY {
            let mut cut = MAX_EMAIL_KEY;
            while !key.is_char_boundary(cut) {
                cut -= 1;
            }
            key.truncate(cut);
        }
        check(&self.sign_in_by_email, &key)
    }
}

/// Which client an address stands for: an IPv6 host usually owns a whole /64, so the /64
/// is one client (else one host would have 2^64 fresh limits); IPv4-mapped addresses count
/// as the IPv4 address.
fn client_key(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(_) => addr,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// The peer address of the connection a request came on (`connections` puts it in every
/// request). Not `X-Forwarded-For`: a client can write that header itself.
pub struct PeerAddr(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for PeerAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PeerAddr(peer_of(&parts.extensions)))
    }
}

fn peer_of(extensions: &axum::http::Extensions) -> IpAddr {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip())
}

/// 429 with `Retry-After` in whole seconds (at least 1) and a JSON body.
pub fn too_many(wait: Duration, body: serde_json::Value) -> Response {
    let mut res = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
    res.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(retry_after_secs(wait)),
    );
    res
}

pub fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// Middleware for the public API's creating routes (contacts, conversations).
pub async fn public_create(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let addr = client_key(peer_of(req.extensions()));
    match check(&state.throttles.public_create_by_address, &addr) {
        Ok(()) => next.run(req).await,
        Err(wait) => too_many(
            wait,
            json!({
                "error": format!(
                    "Too many new contacts and conversations from this address. Try again in {} seconds.",
                    retry_after_secs(wait)
                )
            }),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_host_is_its_64_and_a_mapped_ipv4_is_itself() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(59_001)), 60);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}
