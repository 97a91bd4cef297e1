//! Client-side pacing: a rate limiter, a cap on requests in flight, and a shared pause after a 429.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// A documented request budget: at most `requests` in any `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    requests: u32,
    window: Duration,
    burst: u32,
}

impl RateLimit {
    /// At most `requests` in any sliding `window` (e.g. 6,000 per 5 minutes).
    ///
    /// The limiter allows a burst of a tenth of the budget and spreads the rest evenly, so that no
    /// window of the given length ever sees more than `requests`.
    pub fn new(requests: u32, window: Duration) -> Self {
        let requests = requests.max(1);
        let burst = (requests / 10).max(1);
        Self {
            requests,
            window,
            burst,
        }
    }

    /// Change the burst (requests allowed at once after an idle period); capped at the budget.
    pub fn burst(mut self, burst: u32) -> Self {
        self.burst = burst.clamp(1, self.requests);
        self
    }

    /// The budget per window.
    pub fn requests(&self) -> u32 {
        self.requests
    }

    /// The window length.
    pub fn window(&self) -> Duration {
        self.window
    }

    fn quota(&self) -> Quota {
        // burst + window / period <= requests keeps every window within the budget.
        let steady = (self.requests - self.burst).max(1);
        let period = (self.window / steady).max(Duration::from_nanos(1));
        let burst = NonZeroU32::new(self.burst).unwrap_or(NonZeroU32::MIN);
        Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst)
    }
}

/// governor clock on tokio's time, so paused test time drives the limiter too.
#[derive(Debug, Clone)]
struct TokioClock {
    start: Instant,
}

impl Clock for TokioClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        Instant::now().saturating_duration_since(self.start)
    }
}

type Limiter = RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<Duration>>;

/// Everything a request waits for before it is sent.
#[derive(Debug)]
pub(crate) struct Gate {
    limiter: Option<(Limiter, TokioClock)>,
    in_flight: Option<Arc<Semaphore>>,
    paused_until: Mutex<Option<Instant>>,
}

/// Held while a request is in flight.
pub(crate) struct Pass {
    _permit: Option<OwnedSemaphorePermit>,
}

impl Gate {
    pub(crate) fn new(rate: Option<RateLimit>, max_in_flight: Option<usize>) -> Self {
        let limiter = rate.map(|r| {
            let clock = TokioClock {
                start: Instant::now(),
            };
            (
                RateLimiter::direct_with_clock(r.quota(), clock.clone()),
                clock,
            )
        });
        Self {
            limiter,
            in_flight: max_in_flight.map(|n| Arc::new(Semaphore::new(n.max(1)))),
            paused_until: Mutex::new(None),
        }
    }

    /// Wait for the shared pause, a rate-limit slot and an in-flight slot.
    pub(crate) async fn enter(&self) -> Pass {
        let permit = match &self.in_flight {
            Some(sem) => sem.clone().acquire_owned().await.ok(),
            None => None,
        };
        loop {
            let pause = self.paused_until.lock().ok().and_then(|p| *p);
            if let Some(until) = pause
                && until > Instant::now()
            {
                tokio::time::sleep_until(until).await;
                continue;
            }
            match &self.limiter {
                None => break,
                Some((limiter, clock)) => match limiter.check() {
                    Ok(()) => break,
                    Err(not_until) => {
                        let wait = not_until.wait_time_from(clock.now());
                        tokio::time::sleep(wait.max(Duration::from_millis(1))).await;
                    }
                },
            }
        }
        Pass { _permit: permit }
    }

    /// Make every request of this client wait until `until` (set by a 429).
    pub(crate) fn pause_until(&self, until: Instant) {
        if let Ok(mut p) = self.paused_until.lock()
            && p.is_none_or(|current| current < until)
        {
            *p = Some(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn limiter_spaces_requests_within_budget() {
        // 10 per second with a burst of 1: 10 requests take at least 0.9 s.
        let gate = Gate::new(
            Some(RateLimit::new(10, Duration::from_secs(1)).burst(1)),
            None,
        );
        let start = Instant::now();
        for _ in 0..10 {
            let _p = gate.enter().await;
        }
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(890), "{took:?}");
        assert!(took < Duration::from_millis(1500), "{took:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn no_window_exceeds_the_budget() {
        let gate = Gate::new(Some(RateLimit::new(50, Duration::from_secs(10))), None);
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..200 {
            let _p = gate.enter().await;
            times.push(start.elapsed());
        }
        for (i, t) in times.iter().enumerate() {
            let in_window = times[i..]
                .iter()
                .take_while(|u| **u < *t + Duration::from_secs(10))
                .count();
            assert!(in_window <= 50, "window at {t:?} holds {in_window}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn pause_holds_everyone() {
        let gate = Gate::new(None, None);
        let start = Instant::now();
        gate.pause_until(start + Duration::from_secs(5));
        let _p = gate.enter().await;
        assert!(start.elapsed() >= Duration::from_secs(5));
    }
}
