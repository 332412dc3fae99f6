//! Every Prometheus metric garim exports, declared in one place. Names follow `garim_<what>_<unit>[_total]`;
//! labels are bounded (camera id, stage, reason, model) — never a URL or a user. Rates (fps) are left to
//! Prometheus, so there are counters and histograms here, not fps gauges.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};
use std::sync::OnceLock;

/// Metric names, so docs, dashboards and tests refer to one list.
pub mod names {
    pub const FRAMES_TOTAL: &str = "garim_frames_total";
    pub const FRAMES_DROPPED_TOTAL: &str = "garim_frames_dropped_total";
    pub const INFERENCE_SECONDS: &str = "garim_inference_seconds";
    pub const FRAME_LATENCY_SECONDS: &str = "garim_frame_latency_seconds";
    pub const FAIL_CLOSED_FRAMES_TOTAL: &str = "garim_fail_closed_frames_total";
    pub const CAMERA_UP: &str = "garim_camera_up";
    pub const CAMERA_RECONNECTS_TOTAL: &str = "garim_camera_reconnects_total";
    pub const CAMERA_RECONNECT_ATTEMPTS_TOTAL: &str = "garim_camera_reconnect_attempts_total";
    pub const SEGMENTS_TOTAL: &str = "garim_segments_total";
    pub const POLICY_RELOADS_TOTAL: &str = "garim_policy_reloads_total";
    pub const SEGMENTS_DESTROYED_TOTAL: &str = "garim_segments_destroyed_total";
    pub const RECORDING_UP: &str = "garim_recording_up";
    pub const STORAGE_BYTES: &str = "garim_storage_bytes";
    pub const OLDEST_SEGMENT_AGE_SECONDS: &str = "garim_oldest_segment_age_seconds";
    pub const STORAGE_LOW: &str = "garim_storage_low";
    pub const LEDGER_OK: &str = "garim_ledger_ok";
    pub const HTTP_CONNECTIONS_REFUSED_TOTAL: &str = "garim_http_connections_refused_total";
    pub const INSPECTIONS_UNSIGNED: &str = "garim_inspections_unsigned";
    pub const RETENTION_SECONDS: &str = "garim_retention_seconds";
    pub const SCENE_CHANGED: &str = "garim_scene_changed";
    pub const SCENE_CHANGES_TOTAL: &str = "garim_scene_changes_total";
    pub const SHARD_CONFLICT: &str = "garim_shard_conflict";
    pub const REQUESTS_OPEN: &str = "garim_requests_open";
    pub const REQUESTS_OVERDUE: &str = "garim_requests_overdue";
    pub const INFERENCE_PROVIDER: &str = "garim_inference_provider";

    /// Every name above, for dashboards and alert rules to be checked against.
    pub const ALL: [&str; 25] = [
        LEDGER_OK,
        INFERENCE_PROVIDER,
        HTTP_CONNECTIONS_REFUSED_TOTAL,
        INSPECTIONS_UNSIGNED,
        FRAMES_TOTAL,
        FRAMES_DROPPED_TOTAL,
        INFERENCE_SECONDS,
        FRAME_LATENCY_SECONDS,
        FAIL_CLOSED_FRAMES_TOTAL,
        CAMERA_UP,
        CAMERA_RECONNECTS_TOTAL,
        CAMERA_RECONNECT_ATTEMPTS_TOTAL,
        SEGMENTS_TOTAL,
        POLICY_RELOADS_TOTAL,
        SEGMENTS_DESTROYED_TOTAL,
        RECORDING_UP,
        STORAGE_BYTES,
        OLDEST_SEGMENT_AGE_SECONDS,
        STORAGE_LOW,
        RETENTION_SECONDS,
        SCENE_CHANGED,
        SCENE_CHANGES_TOTAL,
        SHARD_CONFLICT,
        REQUESTS_OPEN,
        REQUESTS_OVERDUE,
    ];
}

/// Pipeline stages counted by `garim_frames_total{stage}`.
pub mod stage {
    pub const INGESTED: &str = "ingested";
    pub const MASKED: &str = "masked";
    pub const ENCODED: &str = "encoded";
}

/// Reasons counted by `garim_frames_dropped_total{reason}`.
pub mod dropped {
    /// A frame that could not be read (size or layout wrong).
    pub const BAD_FRAME: &str = "bad_frame";
    /// The decoder was ahead of the stage: older frames dropped so the newest is masked.
    pub const BACKLOG: &str = "backlog";
    pub const ALL: [&str; 2] = [BAD_FRAME, BACKLOG];
}

pub struct Metrics {
    pub registry: Registry,
    pub frames_total: IntCounterVec,
    pub frames_dropped_total: IntCounterVec,
    pub inference_seconds: HistogramVec,
    pub frame_latency_seconds: HistogramVec,
    pub fail_closed_frames_total: IntCounterVec,
    pub camera_up: IntGaugeVec,
    pub camera_reconnects_total: IntCounterVec,
    pub camera_reconnect_attempts_total: IntCounterVec,
    pub segments_total: IntCounterVec,
    pub policy_reloads_total: IntCounterVec,
    pub segments_destroyed_total: IntCounterVec,
    pub recording_up: IntGaugeVec,
    /// 1 for the execution provider the models run on (cpu, cuda, tensorrt), 0 for the others.
    pub inference_provider: IntGaugeVec,
    pub storage_bytes: IntGaugeVec,
    pub oldest_segment_age_seconds: IntGaugeVec,
    pub storage_low: prometheus::IntGauge,
    /// 1 while the 관리대장's hash chain verifies (at start and daily), 0 when a row is broken.
    pub ledger_ok: prometheus::IntGauge,
    pub http_connections_refused_total: prometheus::IntCounter,
    /// 점검대장 rows still without a manager's countersignature after 7 days.
    pub inspections_unsigned: prometheus::IntGauge,
    pub retention_seconds: IntGaugeVec,
    pub scene_changed: IntGaugeVec,
    pub scene_changes_total: IntCounterVec,
    pub shard_conflict: prometheus::IntGauge,
    /// Data-subject requests not yet answered, and those past their due date (10 days at most).
    pub requests_open: prometheus::IntGauge,
    pub requests_overdue: prometheus::IntGauge,
}

const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.0,
];

impl Metrics {
    fn new() -> Metrics {
        let registry = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry
                .register(Box::new(c.clone()))
                .expect("unique metric");
            c
        };
        let histogram = |name: &str, help: &str, labels: &[&str]| {
            let h = HistogramVec::new(
                HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec()),
                labels,
            )
            .expect("valid metric");
            registry
                .register(Box::new(h.clone()))
                .expect("unique metric");
            h
        };
        let frames_total = counter(
            names::FRAMES_TOTAL,
            "Frames that passed a pipeline stage (ingested, masked, encoded).",
            &["camera", "stage"],
        );
        let frames_dropped_total = counter(
            names::FRAMES_DROPPED_TOTAL,
            "Frames dropped before masking (a bad frame, a decoder backlog).",
            &["camera", "reason"],
        );
        let inference_seconds = histogram(
            names::INFERENCE_SECONDS,
            "Time one model inference took, pre- and post-processing included.",
            &["model"],
        );
        let frame_latency_seconds = histogram(
            names::FRAME_LATENCY_SECONDS,
            "Time from a frame's arrival to its masked copy being handed to the encoders.",
            &["camera"],
        );
        let fail_closed_frames_total = counter(
            names::FAIL_CLOSED_FRAMES_TOTAL,
            "Frames masked whole because detection could not vouch for them.",
            &["camera", "reason"],
        );
        let camera_up = IntGaugeVec::new(
            Opts::new(
                names::CAMERA_UP,
                "1 while the camera delivers frames, 0 while starting, retrying or failed.",
            ),
            &["camera"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(camera_up.clone()))
            .expect("unique metric");
        let camera_reconnects_total = counter(
            names::CAMERA_RECONNECTS_TOTAL,
            "Times a camera streamed again after a failure (successful reconnections).",
            &["camera"],
        );
        let camera_reconnect_attempts_total = counter(
            names::CAMERA_RECONNECT_ATTEMPTS_TOTAL,
            "Times a failed camera's source was started again (attempts, successful or not).",
            &["camera"],
        );
        let segments_total = counter(
            names::SEGMENTS_TOTAL,
            "Recording segments closed and committed to storage.",
            &["camera"],
        );
        let policy_reloads_total = counter(
            names::POLICY_RELOADS_TOTAL,
            "Policy file reloads by result (applied, invalid, unchanged).",
            &["result"],
        );
        for r in ["applied", "invalid"] {
            policy_reloads_total.with_label_values(&[r]);
        }
        let segments_destroyed_total = counter(
            names::SEGMENTS_DESTROYED_TOTAL,
            "Recording segments destroyed at the end of retention (key destroyed, file deleted).",
            &["camera"],
        );
        let gauge = |name: &str, help: &str, labels: &[&str]| {
            let g = IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry
                .register(Box::new(g.clone()))
                .expect("unique metric");
            g
        };
        let inference_provider = gauge(
            names::INFERENCE_PROVIDER,
            "1 for the execution provider the models run on (cpu, cuda, tensorrt), 0 for the others.",
            &["provider"],
        );
        for p in ["cpu", "cuda", "tensorrt"] {
            inference_provider.with_label_values(&[p]).set(0);
        }
        let recording_up = gauge(
            names::RECORDING_UP,
            "1 while the camera's recording seals segments, 0 when it is degraded (disk, key).",
            &["camera"],
        );
        let storage_bytes = gauge(
            names::STORAGE_BYTES,
            "Bytes of encrypted recordings kept for the camera.",
            &["camera"],
        );
        let oldest_segment_age_seconds = gauge(
            names::OLDEST_SEGMENT_AGE_SECONDS,
            "Age of the camera's oldest kept segment (compare with its retention).",
            &["camera"],
        );
        let storage_low = prometheus::IntGauge::with_opts(Opts::new(
            names::STORAGE_LOW,
            "1 while free space is under storage.min_free_bytes (oldest recordings are being removed).",
        ))
        .expect("valid metric");
        registry
            .register(Box::new(storage_low.clone()))
            .expect("unique metric");
        let ledger_ok = prometheus::IntGauge::with_opts(Opts::new(
            names::LEDGER_OK,
            "1 while the ledger's hash chain verifies against its last signed checkpoint, 0 when broken.",
        ))
        .expect("valid metric");
        registry
            .register(Box::new(ledger_ok.clone()))
            .expect("unique metric");
        let http_connections_refused_total = prometheus::IntCounter::with_opts(Opts::new(
            names::HTTP_CONNECTIONS_REFUSED_TOTAL,
            "HTTP connections closed as they were accepted, because the connection budget was in use.",
        ))
        .expect("valid metric");
        registry
            .register(Box::new(http_connections_refused_total.clone()))
            .expect("unique metric");
        let inspections_unsigned = prometheus::IntGauge::with_opts(Opts::new(
            names::INSPECTIONS_UNSIGNED,
            "Inspections (점검대장) without a manager's countersignature after 7 days.",
        ))
        .expect("valid metric");
        registry
            .register(Box::new(inspections_unsigned.clone()))
            .expect("unique metric");
        let retention_seconds = gauge(
            names::RETENTION_SECONDS,
            "The camera's retention from the policy, for comparison with the oldest segment's age.",
            &["camera"],
        );
        let shard_conflict = prometheus::IntGauge::with_opts(Opts::new(
            names::SHARD_CONFLICT,
            "1 while another replica has recently tried to claim this replica's shard (misconfigured ordinal).",
        ))
        .expect("valid metric");
        registry
            .register(Box::new(shard_conflict.clone()))
            .expect("unique metric");
        let int_gauge = |name: &str, help: &str| {
            let g = prometheus::IntGauge::with_opts(Opts::new(name, help)).expect("valid metric");
            registry
                .register(Box::new(g.clone()))
                .expect("unique metric");
            g
        };
        let requests_open = int_gauge(
            names::REQUESTS_OPEN,
            "Data-subject requests (열람·존재확인·삭제) received and not yet answered.",
        );
        let requests_overdue = int_gauge(
            names::REQUESTS_OVERDUE,
            "Data-subject requests past their due date without an answer (the law allows 10 days).",
        );
        let scene_changed = gauge(
            names::SCENE_CHANGED,
            "1 while the camera's view differs from its accepted reference (turned, covered, blinded, defocused): every frame is masked whole until a manager accepts the view.",
            &["camera"],
        );
        let scene_changes_total = counter(
            names::SCENE_CHANGES_TOTAL,
            "Times the camera's view was found changed from its reference, by verdict (turned, covered, blinded, defocused).",
            &["camera", "verdict"],
        );
        Metrics {
            requests_open,
            requests_overdue,
            scene_changed,
            scene_changes_total,
            shard_conflict,
            retention_seconds,
            recording_up,
            inference_provider,
            storage_bytes,
            oldest_segment_age_seconds,
            storage_low,
            ledger_ok,
            http_connections_refused_total,
            inspections_unsigned,
            segments_destroyed_total,
            policy_reloads_total,
            registry,
            frames_total,
            frames_dropped_total,
            inference_seconds,
            frame_latency_seconds,
            fail_closed_frames_total,
            camera_up,
            camera_reconnects_total,
            camera_reconnect_attempts_total,
            segments_total,
        }
    }

    /// Prometheus text exposition of every registered metric.
    pub fn encode_text(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("text encoding never fails on a Vec");
        String::from_utf8(out).expect("prometheus text is utf-8")
    }

    /// Makes a camera's series exist at 0, so dashboards and rate() see it before the first event.
    pub fn register_camera(&self, camera: &str) {
        for s in [stage::INGESTED, stage::MASKED, stage::ENCODED] {
            self.frames_total.with_label_values(&[camera, s]);
        }
        self.camera_up.with_label_values(&[camera]).set(0);
        self.camera_reconnects_total.with_label_values(&[camera]);
        self.camera_reconnect_attempts_total
            .with_label_values(&[camera]);
        self.segments_total.with_label_values(&[camera]);
        self.segments_destroyed_total.with_label_values(&[camera]);
        self.recording_up.with_label_values(&[camera]);
        for r in dropped::ALL {
            self.frames_dropped_total.with_label_values(&[camera, r]);
        }
    }
}

/// The process-wide metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_name_is_exported() {
        let m = metrics();
        m.register_camera("cam-a");
        m.frames_dropped_total
            .with_label_values(&["cam-a", dropped::BACKLOG])
            .inc();
        m.inference_seconds
            .with_label_values(&["yolox_nano"])
            .observe(0.01);
        m.frame_latency_seconds
            .with_label_values(&["cam-a"])
            .observe(0.02);
        m.fail_closed_frames_total
            .with_label_values(&["cam-a", "late"])
            .inc();
        m.storage_bytes.with_label_values(&["cam-a"]).set(1);
        m.oldest_segment_age_seconds
            .with_label_values(&["cam-a"])
            .set(1);
        m.retention_seconds.with_label_values(&["cam-a"]).set(1);
        m.scene_changed.with_label_values(&["cam-a"]).set(0);
        m.scene_changes_total
            .with_label_values(&["cam-a", "turned"])
            .inc();
        let text = m.encode_text();
        for name in names::ALL {
            assert!(text.contains(&format!("# TYPE {name} ")), "{name} missing");
        }
        assert!(text.contains(r#"garim_fail_closed_frames_total{camera="cam-a",reason="late"} 1"#));
    }

    #[test]
    fn a_registered_camera_has_its_drop_reasons_at_zero() {
        let m = metrics();
        m.register_camera("cam-zero");
        let text = m.encode_text();
        for r in dropped::ALL {
            let series =
                format!(r#"garim_frames_dropped_total{{camera="cam-zero",reason="{r}"}} 0"#);
            assert!(text.contains(&series), "missing {series}");
        }
    }
}
