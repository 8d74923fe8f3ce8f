//! Exponential reconnect backoff: 0.5 s doubling to 10 s, with jitter so that many clients
//! cut off by one gateway restart do not all come back in the same instant.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
    /// Fraction of the delay that is randomised (0.2 = up to 20% shorter).
    pub jitter: f64,
    current: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(Duration::from_millis(500), Duration::from_secs(10), 0.2)
    }
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration, jitter: f64) -> Backoff {
        Backoff { initial, max, jitter: jitter.clamp(0.0, 1.0), current: initial }
    }

    /// The delay before the next attempt; each call doubles the base up to `max`.
    pub fn next_delay(&mut self) -> Duration {
        let base = self.current;
        self.current = (self.current * 2).min(self.max);
        let cut = base.as_secs_f64() * self.jitter * fastrand::f64();
        Duration::from_secs_f64(base.as_secs_f64() - cut)
    }

    pub fn reset(&mut self) {
        self.current = self.initial;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_to_the_cap_with_bounded_jitter() {
        let mut b = Backoff::default();
        let bases = [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0];
        for base in bases {
            let d = b.next_delay().as_secs_f64();
            assert!(d <= base && d >= base * 0.8 - 1e-9, "{d} vs {base}");
        }
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(500));
    }

    #[test]
    fn no_jitter_is_exact() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(300), 0.0);
        let got: Vec<_> = (0..4).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(got, vec![100, 200, 300, 300]);
    }
}
