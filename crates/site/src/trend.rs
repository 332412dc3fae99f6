//! A short memory of each camera's own figures for the console's charts: fps in and out, latency p99 and the
//! share of frames masked whole, sampled with the status line (every 5 s) for the last 3 hours, and the
//! camera's recent events (state changes, frames masked whole, scene alarms). Memory only: a restart starts
//! a new history (Prometheus keeps the long one).

use parking_lot::Mutex;
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::time::Instant;

/// 3 hours at one sample per 5 s.
pub const SAMPLES: usize = 2160;
/// Events kept per camera.
pub const EVENTS: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Sample {
    /// unix seconds
    pub t: i64,
    pub fps_in: f64,
    pub fps_out: f64,
    pub latency_p99_ms: Option<f64>,
    /// Frames masked whole over frames out since the previous sample (0..1).
    pub fail_closed_share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub t: i64,
    pub text: String,
}

/// What one reading of a camera gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub state: String,
    pub frames_in: u64,
    pub frames_out: u64,
    pub fail_closed: u64,
    pub latency_p99_ms: Option<f64>,
    pub scene_alarm: bool,
}

#[derive(Default)]
struct Camera {
    samples: VecDeque<Sample>,
    events: VecDeque<Event>,
    last: Option<(Instant, Reading)>,
}

#[derive(Default)]
pub struct Trends {
    cameras: Mutex<HashMap<String, Camera>>,
}

impl Trends {
    /// Records a reading of `camera` taken at `at` (unix second `t`, for the charts): a sample (from the
    /// second reading on; rates over the exact interval) and the events that the change makes.
    pub fn record(&self, camera: &str, at: Instant, t: i64, now: Reading) {
        let mut all = self.cameras.lock();
        let c = all.entry(camera.to_string()).or_default();
        let mut events = Vec::new();
        match &c.last {
            None => events.push(format!("state: {}", now.state)),
            Some((at0, before)) => {
                let secs = at.saturating_duration_since(*at0).as_secs_f64().max(0.001);
                let frames_out = now.frames_out.saturating_sub(before.frames_out);
                let whole = now.fail_closed.saturating_sub(before.fail_closed);
                c.samples.push_back(Sample {
                    t,
                    fps_in: now.frames_in.saturating_sub(before.frames_in) as f64 / secs,
                    fps_out: frames_out as f64 / secs,
                    latency_p99_ms: now.latency_p99_ms,
                    fail_closed_share: if frames_out == 0 {
                        0.0
                    } else {
                        (whole as f64 / frames_out as f64).min(1.0)
                    },
                });
                if c.samples.len() > SAMPLES {
                    c.samples.pop_front();
                }
                if before.state != now.state {
                    events.push(format!("state: {} → {}", before.state, now.state));
                }
                if whole > 0 {
                    events.push(format!("{whole} frames masked whole (fail-closed)"));
                }
                match (before.scene_alarm, now.scene_alarm) {
                    (false, true) => events.push("scene alarm: the view changed".into()),
                    (true, false) => events.push("scene alarm cleared".into()),
                    _ => {}
                }
            }
        }
        for text in events {
            c.events.push_back(Event { t, text });
            if c.events.len() > EVENTS {
                c.events.pop_front();
            }
        }
        c.last = Some((at, now));
    }

    /// The camera's samples (oldest first) and events (newest first).
    pub fn of(&self, camera: &str) -> (Vec<Sample>, Vec<Event>) {
        let all = self.cameras.lock();
        all.get(camera).map_or_else(Default::default, |c| {
            (
                c.samples.iter().copied().collect(),
                c.events.iter().rev().cloned().collect(),
            )
        })
    }

    /// The newest sample of a camera.
    pub fn latest(&self, camera: &str) -> Option<Sample> {
        self.cameras
            .lock()
            .get(camera)
            .and_then(|c| c.samples.back().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(state: &str, frames: u64, whole: u64, alarm: bool) -> Reading {
        Reading {
            state: state.into(),
            frames_in: frames,
            frames_out: frames,
            fail_closed: whole,
            latency_p99_ms: Some(60.0),
            scene_alarm: alarm,
        }
    }

    fn at(secs: u64) -> Instant {
        static BASE: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        *BASE.get_or_init(Instant::now) + std::time::Duration::from_secs(secs)
    }

    #[test]
    fn samples_are_rates_over_the_interval_and_changes_are_events() {
        let t = Trends::default();
        t.record("a", at(100), 100, reading("starting", 0, 0, false));
        assert!(t.latest("a").is_none());
        t.record("a", at(105), 105, reading("streaming", 50, 5, false));
        t.record("a", at(110), 110, reading("streaming", 100, 5, true));
        let (samples, events) = t.of("a");
        assert_eq!(samples.len(), 2);
        assert_eq!(samples[0].fps_in, 10.0);
        assert!((samples[0].fail_closed_share - 0.1).abs() < 1e-9);
        assert_eq!(samples[1].fail_closed_share, 0.0);
        let texts: Vec<&str> = events.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "scene alarm: the view changed",
                "5 frames masked whole (fail-closed)",
                "state: starting → streaming",
                "state: starting"
            ]
        );
        assert!(t.of("nobody").0.is_empty());
    }

    #[test]
    fn history_is_bounded() {
        let t = Trends::default();
        for i in 0..(SAMPLES as u64 + 10) {
            t.record(
                "a",
                at(i * 5),
                i as i64 * 5,
                reading("streaming", i * 50, i, false),
            );
        }
        let (samples, events) = t.of("a");
        assert_eq!(samples.len(), SAMPLES);
        assert_eq!(events.len(), EVENTS);
        // Counters going backwards (a restarted camera) never underflow.
        t.record(
            "a",
            at(1_000_000),
            1_000_000,
            reading("streaming", 0, 0, false),
        );
        assert_eq!(t.latest("a").unwrap().fps_in, 0.0);
    }
}
