//! The HTTP client: polite (one User-Agent, conditional requests, at most two requests at a
//! time per host — across every process sharing the store when given [`SharedHostSlots`] —
//! time-outs, size limits counted after decompression) and safe (only http
//! and https; no loopback, private, link-local or other non-public address unless allowed,
//! checked on the addresses a name resolves to and on the address actually connected to).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, RETRY_AFTER};
use reqwest::StatusCode;
use tokio::sync::Semaphore;
use url::Url;

/// The most a feed may weigh, decompressed.
pub const FEED_LIMIT: usize = 16 << 20;
/// The most an article page may weigh, decompressed.
pub const PAGE_LIMIT: usize = 8 << 20;
/// The most a robots.txt may weigh (Google reads 500 KiB of one).
pub const ROBOTS_LIMIT: usize = 512 << 10;

/// How the client behaves.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Fetch loopback, private and other non-public addresses too (tests, intranets).
    pub allow_private_addresses: bool,
    /// The whole request, body included.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub max_redirects: usize,
    /// Requests in flight to one host at most.
    pub per_host: usize,
    pub user_agent: String,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            allow_private_addresses: false,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_redirects: 5,
            per_host: 2,
            user_agent: user_agent(),
        }
    }
}

/// `storyline/<version>`: who is asking, so a site can tell and write to robots.txt.
pub fn user_agent() -> String {
    format!("storyline/{}", env!("CARGO_PKG_VERSION"))
}

/// Validators of an earlier response, sent back so an unchanged feed costs a 304.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// A response worth reading.
#[derive(Debug)]
pub enum Fetched {
    /// 304: unchanged since the validators sent.
    NotModified,
    Body(Body),
}

#[derive(Debug)]
pub struct Body {
    pub bytes: Vec<u8>,
    /// Where the redirects, if any, led.
    pub final_url: String,
    pub validators: Validators,
}

/// Why a fetch gave nothing.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    /// Not fetched at all: a scheme other than http(s), or a non-public address.
    #[error("refused: {0}")]
    Refused(String),
    #[error("HTTP {status}{}", retry_after_secs.map(|s| format!(" (retry after {s} s)")).unwrap_or_default())]
    Status {
        status: u16,
        retry_after_secs: Option<i64>,
    },
    #[error("body over the {} MiB limit", limit >> 20)]
    TooLarge { limit: usize },
    #[error("timed out")]
    Timeout,
    #[error("more than {0} redirects")]
    TooManyRedirects(usize),
    #[error("{0}")]
    Transport(String),
}

impl FetchError {
    /// How long the server asked us to wait, for 429 and 503.
    pub fn retry_after_secs(&self) -> Option<i64> {
        match self {
            FetchError::Status {
                retry_after_secs, ..
            } => *retry_after_secs,
            _ => None,
        }
    }
}

/// Raised inside reqwest (resolver, redirect policy) and found again in its error chain.
#[derive(Debug, thiserror::Error)]
enum Refusal {
    #[error("{0}")]
    Address(String),
    #[error("more than {0} redirects")]
    Redirects(usize),
}

/// Turns at a host that other processes share (the store's host slots): taken before each
/// request, after this process's own turn, and freed after it. A turn is a lease, so one
/// held by a process that died frees itself.
pub trait SharedHostSlots: Send + Sync + 'static {
    /// One of `host`'s `limit` turns for `holder`, leased for `lease`; `None`: all taken.
    fn take(
        &self,
        host: &str,
        limit: u32,
        holder: &str,
        lease: Duration,
    ) -> Result<Option<u32>, String>;
    fn release(&self, host: &str, slot: u32, holder: &str);
}

/// The longest wait between two tries for a shared turn at a busy host.
const SHARED_WAIT_MAX: Duration = Duration::from_millis(250);

pub struct Fetcher {
    client: reqwest::Client,
    config: ClientConfig,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
    shared: Option<Arc<dyn SharedHostSlots>>,
    /// Who this fetcher is, to the shared slots.
    holder: String,
}

/// A shared turn at a host: given back after the request, or when dropped (a fetch
/// abandoned midway) on a blocking thread, since the store is synchronous.
struct SharedTurn {
    slots: Arc<dyn SharedHostSlots>,
    host: String,
    slot: u32,
    holder: String,
    given_back: bool,
}

impl SharedTurn {
    async fn give_back(mut self) {
        self.given_back = true;
        let (slots, host, holder, slot) = self.parts();
        // Failing to give it back leaves the lease to run out: the host waits, no more.
        let _ = tokio::task::spawn_blocking(move || slots.release(&host, slot, &holder)).await;
    }

    fn parts(&mut self) -> (Arc<dyn SharedHostSlots>, String, String, u32) {
        (
            self.slots.clone(),
            std::mem::take(&mut self.host),
            std::mem::take(&mut self.holder),
            self.slot,
        )
    }
}

impl Drop for SharedTurn {
    fn drop(&mut self) {
        if self.given_back {
            return;
        }
        let (slots, host, holder, slot) = self.parts();
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn_blocking(move || slots.release(&host, slot, &holder));
            }
            Err(_) => slots.release(&host, slot, &holder),
        }
    }
}

impl Fetcher {
    pub fn new(config: ClientConfig) -> Result<Fetcher, FetchError> {
        // reqwest is built without a default crypto provider (the ring one keeps the build
        // light); installing it twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let allow = config.allow_private_addresses;
        let max = config.max_redirects;
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > max {
                return attempt.error(Refusal::Redirects(max));
            }
            match check_url(attempt.url(), allow) {
                Ok(()) => attempt.follow(),
                Err(reason) => attempt.error(Refusal::Address(reason)),
            }
        });
        let mut builder = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .redirect(policy)
            // A proxy would connect on our behalf, past the address checks.
            .no_proxy();
        if !allow {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        let client = builder
            .build()
            .map_err(|e| FetchError::Transport(format!("cannot build the HTTP client: {e}")))?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        Ok(Fetcher {
            client,
            config,
            hosts: Mutex::new(HashMap::new()),
            shared: None,
            holder: format!("{}-{nanos:x}", std::process::id()),
        })
    }

    /// Takes a turn from `slots` too before each request, so this fetcher and every other
    /// process sharing them keep to `per_host` together.
    pub fn with_shared_slots(mut self, slots: Arc<dyn SharedHostSlots>) -> Fetcher {
        self.shared = Some(slots);
        self
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    fn host_slots(&self, key: &str) -> Arc<Semaphore> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        hosts
            .entry(key.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(self.config.per_host.max(1))))
            .clone()
    }

    /// Waits for a shared turn at `host`, trying again with growing pauses while other
    /// processes hold them all. The lease outlasts the request's own time-out.
    async fn shared_turn(
        &self,
        slots: &Arc<dyn SharedHostSlots>,
        host: &str,
    ) -> Result<SharedTurn, FetchError> {
        let limit = u32::try_from(self.config.per_host.max(1)).unwrap_or(u32::MAX);
        let lease = self.config.timeout + Duration::from_secs(30);
        let mut pause = Duration::from_millis(10);
        loop {
            let (s, h, who) = (slots.clone(), host.to_string(), self.holder.clone());
            let taken = tokio::task::spawn_blocking(move || s.take(&h, limit, &who, lease))
                .await
                .map_err(|e| FetchError::Transport(e.to_string()))?
                .map_err(|e| FetchError::Transport(format!("no turn at {host}: {e}")))?;
            if let Some(slot) = taken {
                return Ok(SharedTurn {
                    slots: slots.clone(),
                    host: host.to_string(),
                    slot,
                    holder: self.holder.clone(),
                    given_back: false,
                });
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(SHARED_WAIT_MAX);
        }
    }

    /// GETs `url`, reading at most `limit` bytes of (decompressed) body.
    pub async fn get(
        &self,
        url: &str,
        validators: Option<&Validators>,
        limit: usize,
    ) -> Result<Fetched, FetchError> {
        let parsed =
            Url::parse(url).map_err(|e| FetchError::Refused(format!("not a web address ({e})")))?;
        check_url(&parsed, self.config.allow_private_addresses).map_err(FetchError::Refused)?;
        let host = format!(
            "{}:{}",
            parsed.host_str().unwrap_or(""),
            parsed.port_or_known_default().unwrap_or(0)
        );
        let slots = self.host_slots(&host);
        let _slot = slots
            .acquire_owned()
            .await
            .map_err(|e| FetchError::Transport(e.to_string()))?;
        let shared = match &self.shared {
            Some(shared) => Some(self.shared_turn(shared, &host).await?),
            None => None,
        };
        let result = self.send(parsed, validators, limit).await;
        // Given back before the answer, so a caller that has it finds the turn free; a
        // fetch dropped midway gives it back from `Drop`.
        if let Some(turn) = shared {
            turn.give_back().await;
        }
        result
    }

    async fn send(
        &self,
        parsed: Url,
        validators: Option<&Validators>,
        limit: usize,
    ) -> Result<Fetched, FetchError> {
        let mut request = self.client.get(parsed);
        if let Some(v) = validators {
            if let Some(etag) = &v.etag {
                request = request.header(IF_NONE_MATCH, etag);
            }
            if let Some(lm) = &v.last_modified {
                request = request.header(IF_MODIFIED_SINCE, lm);
            }
        }
        let mut response = request.send().await.map_err(map_error)?;
        if !self.config.allow_private_addresses {
            // The resolver refuses non-public answers; this catches any other path.
            if let Some(addr) = response.remote_addr().filter(|a| !is_public(a.ip())) {
                return Err(FetchError::Refused(format!(
                    "connected to non-public address {addr}"
                )));
            }
        }
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if !status.is_success() {
            let retry_after_secs = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
            return Err(FetchError::Status {
                status: status.as_u16(),
                retry_after_secs,
            });
        }
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(FetchError::TooLarge { limit });
        }
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let validators = Validators {
            etag: header(ETAG),
            last_modified: header(LAST_MODIFIED),
        };
        let final_url = response.url().to_string();
        let mut bytes = Vec::new();
        // Chunks come decompressed, so a gzip bomb stops at the limit too.
        while let Some(chunk) = response.chunk().await.map_err(map_error)? {
            if bytes.len() + chunk.len() > limit {
                return Err(FetchError::TooLarge { limit });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Fetched::Body(Body {
            bytes,
            final_url,
            validators,
        }))
    }
}

fn map_error(e: reqwest::Error) -> FetchError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<Refusal>() {
            return match r {
                Refusal::Address(a) => FetchError::Refused(a.clone()),
                Refusal::Redirects(n) => FetchError::TooManyRedirects(*n),
            };
        }
        source = s.source();
    }
    if e.is_timeout() {
        return FetchError::Timeout;
    }
    // The innermost cause says most ("connection refused"), reqwest's own words least.
    let mut inner: &dyn std::error::Error = &e;
    while let Some(s) = inner.source() {
        inner = s;
    }
    FetchError::Transport(inner.to_string())
}

/// Whether `url` may be fetched at all: http or https, and no literal non-public address
/// unless allowed (a name is checked by the resolver).
pub fn check_url(url: &Url, allow_private: bool) -> Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "only http and https are fetched, not {}:",
            url.scheme()
        ));
    }
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        Some(url::Host::Domain(_)) => return Ok(()),
        None => return Err("no host in the address".into()),
    };
    if allow_private || is_public(ip) {
        Ok(())
    } else {
        Err(format!(
            "{ip} is not a public address (--allow-private-addresses fetches it)"
        ))
    }
}

/// Resolves names, keeping only public addresses.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = all.into_iter().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(Box::new(Refusal::Address(format!(
                    "{host} resolves only to non-public addresses (--allow-private-addresses fetches them)"
                ))) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// Whether an address is on the public internet: not loopback, private, link-local,
/// shared (CGNAT), documentation, benchmarking, multicast, reserved or unspecified.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            let nat64 = s[0] == 0x64 && s[1] == 0xff9b;
            if nat64 {
                let v4 =
                    Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
                return is_public_v4(v4);
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || v6 == Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 1)
                || (s[0..6] == [0, 0, 0, 0, 0, 0])) // IPv4-compatible, long deprecated
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_unspecified()
        || ip.is_multicast()
        || o[0] == 0
        || o[0] >= 240
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // shared address space (CGNAT)
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking
        || (o[0] == 192 && o[1] == 0 && o[2] == 0)) // IETF protocol assignments
}

/// `Retry-After` as seconds from `now`: a number of seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<i64> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<i64>() {
        return Some(secs.max(0));
    }
    chrono::DateTime::parse_from_rfc2822(value)
        .ok()
        .map(|t| (t.with_timezone(&chrono::Utc) - now).num_seconds().max(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_public_addresses_are_recognised() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(!is_public(a.parse().unwrap()), "{a}");
        }
        for a in ["93.184.216.34", "1.1.1.1", "2606:4700::1111"] {
            assert!(is_public(a.parse().unwrap()), "{a}");
        }
    }

    #[test]
    fn only_http_and_public_literals_pass() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(check_url(&u("file:///etc/passwd"), true).is_err());
        assert!(check_url(&u("ftp://x.example/"), true).is_err());
        assert!(check_url(&u("http://127.0.0.1:8080/"), false).is_err());
        assert!(check_url(&u("http://[::1]/"), false).is_err());
        assert!(check_url(&u("http://127.0.0.1:8080/"), true).is_ok());
        assert!(check_url(&u("https://news.example/feed"), false).is_ok());
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now: chrono::DateTime<chrono::Utc> = "2015-10-21T07:00:00Z".parse().unwrap();
        assert_eq!(parse_retry_after("120", now), Some(120));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(28 * 60)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
