//! The plumbing every sandbox shares: serving an `axum` app on loopback, injected faults, a server-side
//! rate limit, and counts of the requests served.
//!
//! Each API crate builds its own router and state and answers throttling in its API's own shape; this
//! module serves it with hyper directly so that it can really drop a connection, either before the handler
//! runs or after it committed its change ("committed, then the response was lost").

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::time::Instant;
use tower::ServiceExt;
use url::Url;

/// Builds the API's own 429 response for a given wait.
pub type ThrottleResponder = Arc<dyn Fn(Duration) -> Response + Send + Sync>;

/// Faults and limits a sandbox applies to the requests it serves. Rates are per mille (10 = 1%).
#[derive(Clone)]
pub struct FaultConfig {
    /// Seed of the fault dice, so a failing run reproduces.
    pub seed: u64,
    /// Extra 429 answers, per mille of requests.
    pub throttle_per_mille: u32,
    /// 5xx answers (503), per mille of requests.
    pub server_error_per_mille: u32,
    /// Connections dropped before the request is handled, per mille.
    pub drop_per_mille: u32,
    /// Writes (POST, PUT, PATCH, DELETE) that are applied but whose response is lost, per mille.
    pub lost_response_per_mille: u32,
    /// Added latency per request.
    pub latency: Duration,
    /// Server-side rate limit: at most this many requests in any sliding window; over it, 429.
    pub rate_limit: Option<(u32, Duration)>,
    /// The `Retry-After` wait of injected 429s.
    pub throttle_wait: Duration,
    /// Paths (prefix match) that are never faulted, e.g. the token endpoint.
    pub exempt_paths: Vec<String>,
    /// The API's own 429 response.
    pub throttle_response: ThrottleResponder,
}

impl std::fmt::Debug for FaultConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultConfig")
            .field("seed", &self.seed)
            .field("throttle_per_mille", &self.throttle_per_mille)
            .field("server_error_per_mille", &self.server_error_per_mille)
            .field("drop_per_mille", &self.drop_per_mille)
            .field("lost_response_per_mille", &self.lost_response_per_mille)
            .field("latency", &self.latency)
            .field("rate_limit", &self.rate_limit)
            .finish_non_exhaustive()
    }
}

impl Default for FaultConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            throttle_per_mille: 0,
            server_error_per_mille: 0,
            drop_per_mille: 0,
            lost_response_per_mille: 0,
            latency: Duration::ZERO,
            rate_limit: None,
            throttle_wait: Duration::from_secs(1),
            exempt_paths: Vec::new(),
            throttle_response: Arc::new(|wait| {
                (
                    http::StatusCode::TOO_MANY_REQUESTS,
                    [(http::header::RETRY_AFTER, wait.as_secs().max(1).to_string())],
                    "Too Many Requests",
                )
                    .into_response()
            }),
        }
    }
}

impl FaultConfig {
    /// No faults, no limit.
    pub fn none() -> Self {
        Self::default()
    }

    /// The mix used by reliability tests: 10% extra 429s, 5% 5xx, 2% dropped connections, 1% lost
    /// responses on writes.
    pub fn chaos(seed: u64) -> Self {
        Self {
            seed,
            throttle_per_mille: 100,
            server_error_per_mille: 50,
            drop_per_mille: 20,
            lost_response_per_mille: 10,
            ..Self::default()
        }
    }
}

/// What a sandbox served.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServedStats {
    /// Requests received (faulted ones included).
    pub requests: u64,
    /// Requests by `METHOD /path` (no query).
    pub by_route: BTreeMap<String, u64>,
    /// Injected or limit 429s.
    pub throttled: u64,
    /// Injected 5xx.
    pub server_errors: u64,
    /// Connections dropped before handling.
    pub dropped: u64,
    /// Writes applied whose response was dropped.
    pub lost_responses: u64,
}

impl ServedStats {
    /// Requests whose route starts with `prefix` (e.g. `"POST /api/2.0/products"`).
    pub fn count(&self, prefix: &str) -> u64 {
        self.by_route
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, v)| *v)
            .sum()
    }
}

struct Shared {
    faults: Mutex<FaultConfig>,
    rng: Mutex<StdRng>,
    stats: Mutex<ServedStats>,
    window: Mutex<VecDeque<Instant>>,
}

/// Handle to change a running sandbox's faults.
#[derive(Clone)]
pub struct FaultHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for FaultHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FaultHandle")
    }
}

impl FaultHandle {
    /// Replace the fault configuration (the dice are re-seeded).
    pub fn set(&self, config: FaultConfig) {
        if let Ok(mut rng) = self.shared.rng.lock() {
            *rng = StdRng::seed_from_u64(config.seed);
        }
        if let Ok(mut f) = self.shared.faults.lock() {
            *f = config;
        }
    }

    /// Change the configuration in place.
    pub fn update(&self, change: impl FnOnce(&mut FaultConfig)) {
        if let Ok(mut f) = self.shared.faults.lock() {
            change(&mut f);
        }
    }

    /// Stop injecting faults (the rate limit and the throttle response stay).
    pub fn clear(&self) {
        self.update(|f| {
            f.throttle_per_mille = 0;
            f.server_error_per_mille = 0;
            f.drop_per_mille = 0;
            f.lost_response_per_mille = 0;
            f.latency = Duration::ZERO;
        });
    }
}

/// A sandbox app served on 127.0.0.1; stops when dropped.
pub struct SandboxServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for SandboxServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxServer")
            .field("addr", &self.addr)
            .finish()
    }
}

enum Decision {
    Pass,
    Throttle(Duration),
    ServerError,
    Drop,
}

#[derive(Debug)]
struct DroppedConnection;

impl std::fmt::Display for DroppedConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for DroppedConnection {}

impl SandboxServer {
    /// Serve `router` on a random loopback port.
    pub async fn start(router: Router, faults: FaultConfig) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            rng: Mutex::new(StdRng::seed_from_u64(faults.seed)),
            faults: Mutex::new(faults),
            stats: Mutex::new(ServedStats::default()),
            window: Mutex::new(VecDeque::new()),
        });
        let (shutdown, mut stop) = watch::channel(false);
        let accept_shared = shared.clone();
        let task = tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    _ = stop.changed() => break,
                    a = listener.accept() => a,
                };
                let Ok((stream, _)) = accepted else { continue };
                let router = router.clone();
                let shared = accept_shared.clone();
                let mut stop = stop.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        handle(router.clone(), shared.clone(), req)
                    });
                    let conn = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service);
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = stop.changed() => {}
                    }
                });
            }
        });
        Ok(Self {
            addr,
            shared,
            shutdown,
            task,
        })
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn base_url(&self) -> Url {
        let mut url = Url::parse("http://127.0.0.1/").unwrap_or_else(|_| unreachable!());
        let _ = url.set_port(Some(self.addr.port()));
        url
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What was served so far.
    pub fn stats(&self) -> ServedStats {
        self.shared
            .stats
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// Reset the served counts.
    pub fn reset_stats(&self) {
        if let Ok(mut s) = self.shared.stats.lock() {
            *s = ServedStats::default();
        }
    }

    /// Change faults at run time.
    pub fn faults(&self) -> FaultHandle {
        FaultHandle {
            shared: self.shared.clone(),
        }
    }

    /// Stop serving and wait for the accept loop to end.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        tokio::task::yield_now().await;
    }
}

impl Drop for SandboxServer {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        self.task.abort();
    }
}

fn decide(shared: &Shared, method: &http::Method, path: &str) -> (Decision, Duration, bool) {
    let Ok(faults) = shared.faults.lock() else {
        return (Decision::Pass, Duration::ZERO, false);
    };
    let exempt = faults.exempt_paths.iter().any(|p| path.starts_with(p));
    let latency = faults.latency;
    if let Some((limit, window)) = faults.rate_limit
        && let Ok(mut w) = shared.window.lock()
    {
        let now = Instant::now();
        while w.front().is_some_and(|t| now.duration_since(*t) >= window) {
            w.pop_front();
        }
        if w.len() as u64 >= u64::from(limit) {
            let wait = w
                .front()
                .map(|t| window.saturating_sub(now.duration_since(*t)))
                .unwrap_or(window);
            return (Decision::Throttle(wait), latency, false);
        }
        w.push_back(now);
    }
    if exempt {
        return (Decision::Pass, latency, false);
    }
    let Ok(mut rng) = shared.rng.lock() else {
        return (Decision::Pass, latency, false);
    };
    let mut roll = |per_mille: u32| per_mille > 0 && rng.random_range(0..1000u32) < per_mille;
    let decision = if roll(faults.drop_per_mille) {
        Decision::Drop
    } else if roll(faults.throttle_per_mille) {
        Decision::Throttle(faults.throttle_wait)
    } else if roll(faults.server_error_per_mille) {
        Decision::ServerError
    } else {
        Decision::Pass
    };
    let is_write = !matches!(*method, http::Method::GET | http::Method::HEAD);
    let lose =
        is_write && matches!(decision, Decision::Pass) && roll(faults.lost_response_per_mille);
    (decision, latency, lose)
}

async fn handle(
    router: Router,
    shared: Arc<Shared>,
    req: http::Request<Incoming>,
) -> Result<Response, DroppedConnection> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    if let Ok(mut s) = shared.stats.lock() {
        s.requests += 1;
        *s.by_route.entry(format!("{method} {path}")).or_default() += 1;
    }
    let (decision, latency, lose) = decide(&shared, &method, &path);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let bump = |f: fn(&mut ServedStats)| {
        if let Ok(mut s) = shared.stats.lock() {
            f(&mut s);
        }
    };
    match decision {
        Decision::Drop => {
            bump(|s| s.dropped += 1);
            return Err(DroppedConnection);
        }
        Decision::Throttle(wait) => {
            bump(|s| s.throttled += 1);
            let responder = shared
                .faults
                .lock()
                .map(|f| f.throttle_response.clone())
                .ok();
            return Ok(match responder {
                Some(r) => r(wait),
                None => http::StatusCode::TOO_MANY_REQUESTS.into_response(),
            });
        }
        Decision::ServerError => {
            bump(|s| s.server_errors += 1);
            return Ok((
                http::StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable (injected fault)",
            )
                .into_response());
        }
        Decision::Pass => {}
    }
    let response = match router.oneshot(req.map(Body::new)).await {
        Ok(r) => r,
        Err(infallible) => match infallible {},
    };
    if lose {
        bump(|s| s.lost_responses += 1);
        // The handler has committed; the client never hears about it.
        return Err(DroppedConnection);
    }
    Ok(response)
}
