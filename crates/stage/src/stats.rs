//! A small rolling window of durations for the status line and `garim bench` (p50/p99), where a
//! Prometheus histogram's buckets would be too coarse.

use std::collections::VecDeque;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct RollingStats {
    window: usize,
    samples: VecDeque<f64>,
}

impl RollingStats {
    pub fn new(window: usize) -> RollingStats {
        RollingStats {
            window: window.max(1),
            samples: VecDeque::with_capacity(window.max(1)),
        }
    }

    pub fn push(&mut self, d: Duration) {
        if self.samples.len() == self.window {
            self.samples.pop_front();
        }
        self.samples.push_back(d.as_secs_f64() * 1000.0);
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// The q-quantile in milliseconds (nearest rank), or None without samples.
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        if self.samples.is_empty() {
            return None;
        }
        let mut v: Vec<f64> = self.samples.iter().copied().collect();
        v.sort_by(f64::total_cmp);
        let rank = ((q.clamp(0.0, 1.0) * v.len() as f64).ceil() as usize).clamp(1, v.len());
        Some(v[rank - 1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_use_nearest_rank_over_the_window() {
        let mut s = RollingStats::new(4);
        assert_eq!(s.quantile_ms(0.5), None);
        for ms in [100, 1, 2, 3, 4] {
            s.push(Duration::from_millis(ms));
        }
        // 100 fell out of the 4-sample window.
        assert_eq!(s.quantile_ms(0.5), Some(2.0));
        assert_eq!(s.quantile_ms(0.99), Some(4.0));
        assert_eq!(s.len(), 4);
    }
}
