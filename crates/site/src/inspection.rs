//! What a 점검대장 row says about the site: each camera (up, fps, last frame age, scene alarm, fail-closed
//! share), the server (CPU, memory, models), storage (free space, oldest segment against retention, last
//! sweep) and the ledger's verify. Pure over its inputs, so it is tested without cameras.

use crate::status::SiteStatus;
use policy::SiteConfig;
use std::time::Duration;

/// A daily inspection of this shard (`shard`: "1/1", "2/4", …; replicas of a site share one ledger) is due
/// when the ledger holds none of it from the last 24 hours (by the ledger's clock, so a restart neither skips
/// a day nor inspects twice).
pub fn daily_due(ledger: &ledger::Ledger, shard: &str) -> Result<bool, ledger::LedgerError> {
    let now = ledger.now_ms();
    let recent = ledger.inspections(Some(now - DAY_MS))?;
    Ok(!recent
        .iter()
        .any(|i| i.kind == ledger::InspectionKind::Daily && i.report["shard"] == shard))
}

const DAY_MS: i64 = 24 * 3600 * 1000;

/// The report and whether everything was in order.
pub fn report(
    status: &SiteStatus,
    cameras: &[(media::CameraStatus, Option<Duration>)],
    (vault, scene): (&vault::Vault, &stage::scene::SceneStore),
    cfg: &SiteConfig,
    verify: &ledger::VerifyReport,
    last_sweep_unix: i64,
    shard: &str,
) -> (serde_json::Value, bool) {
    let now = vault::time::unix_now();
    let mut ok = status.models == crate::ModelsState::Loaded;
    let cams: Vec<_> = cameras
        .iter()
        .map(|(s, age)| {
            let up = s.state == media::CameraState::Streaming;
            let alarm = scene
                .load(&s.id)
                .ok()
                .flatten()
                .is_some_and(|st| st.alarm.is_some());
            let fail_closed_share = if s.frames_out > 0 {
                s.fail_closed as f64 / s.frames_out as f64
            } else {
                0.0
            };
            ok &= up && !alarm;
            serde_json::json!({
                "camera": s.id, "up": up, "state": s.state.to_string(),
                "frames_in": s.frames_in, "fail_closed_share": fail_closed_share,
                "last_frame_age_secs": age.map(|a| a.as_secs_f64()),
                "scene_alarm": alarm,
                "inference_p50_ms": s.inference_p50_ms,
            })
        })
        .collect();
    let usage = vault.usage().unwrap_or_default();
    let oldest: Vec<_> = usage
        .iter()
        .map(|(camera, bytes, oldest)| {
            let retention_days = crate::vaults::retention_of(cfg, vocab::camera_of(camera));
            let age_days = (now - oldest) as f64 / 86_400.0;
            // A day's footage may stay until its day ends past the retention, plus a sweep period.
            let within = age_days <= f64::from(retention_days) + 1.1;
            ok &= within;
            serde_json::json!({
                "camera": camera, "bytes": bytes, "oldest_age_days": age_days,
                "retention_days": retention_days, "within_retention": within,
            })
        })
        .collect();
    let free = vault.free_bytes().ok();
    ok &= free.is_some_and(|f| f >= cfg.storage.min_free_bytes);
    ok &= verify.problem.is_none();
    // An overdue data-subject request is a finding; one due within 3 days is listed.
    ok &= status.requests.overdue == 0;
    let report = serde_json::json!({
        "shard": shard,
        "requests": status.requests,
        "cameras": cams,
        "server": {
            "models": status.models,
            "load_average": load_average(),
            "memory_rss_bytes": rss_bytes(),
        },
        "storage": {
            "free_bytes": free, "min_free_bytes": cfg.storage.min_free_bytes,
            "segments": oldest,
            "last_sweep": vault::time::utc_stamp(last_sweep_unix),
        },
        "ledger": {
            "rows": verify.rows, "ok": verify.problem.is_none(),
            "problem": verify.problem.as_ref().map(|p| p.to_string()),
        },
    });
    (report, ok)
}

/// 1-, 5- and 15-minute load averages (CPU), from /proc.
fn load_average() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut it = text.split_whitespace().map(|v| v.parse::<f64>().ok());
    Some([it.next()??, it.next()??, it.next()??])
}

/// This process's resident memory.
fn rss_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = text
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI64, Ordering};

    #[test]
    fn a_daily_inspection_is_due_once_a_day_by_the_ledgers_clock() {
        let dir = std::env::temp_dir().join(format!("garim-inspection-due-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let now = Arc::new(AtomicI64::new(1_795_000_000_000));
        let clock = now.clone();
        let ledger = ledger::Ledger::open_sqlite(&dir.join("l.sqlite"))
            .unwrap()
            .with_clock(Arc::new(move || clock.load(Ordering::SeqCst)));
        assert!(daily_due(&ledger, "1/2").unwrap(), "none yet");
        ledger
            .record_inspection(
                ledger::InspectionKind::Daily,
                serde_json::json!({"shard": "1/2"}),
                true,
                "system",
            )
            .unwrap();
        assert!(!daily_due(&ledger, "1/2").unwrap());
        assert!(
            daily_due(&ledger, "2/2").unwrap(),
            "the other shard's cameras are its own to inspect"
        );
        // An on-demand one does not stand in for the daily one.
        now.fetch_add(DAY_MS - 1000, Ordering::SeqCst);
        ledger
            .record_inspection(
                ledger::InspectionKind::OnDemand,
                serde_json::json!({}),
                true,
                "m",
            )
            .unwrap();
        assert!(!daily_due(&ledger, "1/2").unwrap(), "23:59:59 later");
        now.fetch_add(2000, Ordering::SeqCst);
        assert!(daily_due(&ledger, "1/2").unwrap(), "a day later");
        // Unsigned for 7 days: what /healthz and the alert count.
        now.fetch_add(7 * DAY_MS, Ordering::SeqCst);
        let unsigned = ledger
            .unsigned_older_than(ledger.now_ms(), 7 * DAY_MS)
            .unwrap();
        assert_eq!(unsigned.len(), 2);
        let _ = std::fs::remove_dir_all(dir);
    }
}
