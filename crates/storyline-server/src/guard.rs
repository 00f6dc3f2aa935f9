//! Who may do what, and how much, in front of every route:
//!
//! - **Writes need the key when there is one** (`Authorization: Bearer KEY`), and reads of
//!   the API too when the server is private. A server reachable from the network always has
//!   a key ([`crate::bind_and_serve`] refuses to start without one). The health check
//!   (`/healthz`, outside `/api/`) never needs it: a load balancer has none, and it tells
//!   only whether the store can be read.
//! - **No write from another site's page**: a write whose `Origin` is not this server is
//!   refused, keyed or not, so a page elsewhere cannot post through the user's browser.
//! - **No DNS rebinding**: a loopback server answers only requests addressed to a loopback
//!   name (`localhost`, `127.0.0.1`, `[::1]`); a page on `evil.example` that re-pointed its
//!   name at 127.0.0.1 still sends `Host: evil.example`.
//! - **Bounds**: a time-out per request and a cap on requests in flight (the live stream,
//!   long by nature, has its own cap instead: [`crate::live`]).
//! - **Headers**: a content security policy that allows the page only itself.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use crate::api::ApiError;
use crate::ServerConfig;

/// Bounds on requests.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Longest a read may take, waiting for a turn included.
    pub read_timeout: Duration,
    /// Longest a write (an ingest of up to the body limit) may take.
    pub write_timeout: Duration,
    /// Requests handled at once; the others wait their turn within their time-out.
    pub max_concurrent: usize,
    /// Long work (making a story report, an ingest) run at once.
    pub max_heavy: usize,
    /// How long a story read that must make a report waits for a turn of long work; past
    /// that it is answered 503 with `Retry-After`. (An ingest is refused at once.)
    pub heavy_wait: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            read_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(600),
            max_concurrent: 64,
            max_heavy: 4,
            heavy_wait: Duration::from_secs(5),
        }
    }
}

/// The page loads only its own script, stylesheet and API; nothing may frame it.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

pub struct Guard {
    token: Option<Vec<u8>>,
    private: bool,
    loopback: bool,
    limits: Limits,
    permits: Semaphore,
}

impl Guard {
    pub fn new(config: &ServerConfig) -> Guard {
        Guard {
            token: config.token.as_ref().map(|t| t.as_bytes().to_vec()),
            private: config.private,
            loopback: config.loopback,
            limits: config.limits.clone(),
            permits: Semaphore::new(config.limits.max_concurrent.max(1)),
        }
    }

    fn admit(&self, req: &Request) -> Result<(), ApiError> {
        let headers = req.headers();
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        if self.loopback {
            if let Some(host) = host.filter(|h| !is_loopback_host(h)) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    format!("this server answers only to localhost, not to {host:?}"),
                ));
            }
        }
        let write = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        if write && !same_origin(headers, host) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "writes are accepted only from this server's own page or from programs, \
                 not from another site's page",
            ));
        }
        let reads_need_key = self.private && req.uri().path().starts_with("/api/");
        if let Some(token) = &self.token {
            if (write || reads_need_key) && !has_key(headers, token) {
                let mut e = ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "this needs the server's key: send `Authorization: Bearer KEY`",
                );
                e.www_authenticate = true;
                return Err(e);
            }
        }
        Ok(())
    }
}

/// `localhost`, `127.x.x.x` or `[::1]`, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// No `Origin` (a program, not a page) or the server's own; browsers send `Origin` with
/// every cross-site write, and `Sec-Fetch-Site` where they support it.
fn same_origin(headers: &HeaderMap, host: Option<&str>) -> bool {
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site" || v.as_bytes() == b"same-site")
    {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let (Ok(origin), Some(host)) = (origin.to_str(), host) else {
        return false;
    };
    let rest = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    rest.is_some_and(|r| r.eq_ignore_ascii_case(host))
}

fn has_key(headers: &HeaderMap, token: &[u8]) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
        .is_some_and(|given| same_bytes(given.trim_ascii(), token))
}

/// Compares without stopping at the first difference, so the time taken does not tell an
/// attacker how much of a guess was right.
fn same_bytes(given: &[u8], token: &[u8]) -> bool {
    let mut diff = given.len() ^ token.len();
    for (i, t) in token.iter().enumerate() {
        diff |= usize::from(given.get(i).copied().unwrap_or(0) ^ t);
    }
    diff == 0
}

fn security_headers(h: &mut HeaderMap) {
    for (name, value) in [
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("cross-origin-opener-policy", "same-origin"),
        ("cross-origin-resource-policy", "same-origin"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
}

/// The middleware: admit, then run within the time-out and the cap, then add the headers.
pub async fn check(State(guard): State<Arc<Guard>>, req: Request, next: Next) -> Response {
    let mut response = match guard.admit(&req) {
        Err(e) => e.into_response(),
        // A live stream lasts as long as the reader stays: no time-out, and its own cap
        // instead of a turn among the requests in flight.
        Ok(()) if req.uri().path() == crate::live::PATH => next.run(req).await,
        Ok(()) => {
            let write = !matches!(*req.method(), Method::GET | Method::HEAD);
            let limit = if write {
                guard.limits.write_timeout
            } else {
                guard.limits.read_timeout
            };
            let run = async {
                match guard.permits.acquire().await {
                    Ok(_permit) => next.run(req).await,
                    Err(_) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "shutting down")
                        .into_response(),
                }
            };
            match tokio::time::timeout(limit, run).await {
                Ok(r) => r,
                Err(_) => ApiError::busy(format!(
                    "the server is busy: no answer within {} s; try again",
                    limit.as_secs()
                ))
                .into_response(),
            }
        }
    };
    security_headers(response.headers_mut());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost",
            "localhost:8080",
            "127.0.0.1:80",
            "127.1.2.3",
            "[::1]:9",
        ] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in [
            "evil.example",
            "evil.example:8080",
            "10.0.0.1:80",
            "[::2]:9",
            "",
        ] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }

    #[test]
    fn keys_compare_whole() {
        assert!(same_bytes(b"secret", b"secret"));
        for bad in [&b"secreT"[..], b"secret2", b"secre", b""] {
            assert!(!same_bytes(bad, b"secret"), "{bad:?}");
        }
    }
}
