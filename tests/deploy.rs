//! The observability files in deploy/: alert rules pass `promtool check rules` and their unit tests, and every
//! Grafana panel's PromQL parses (checked by promtool as recording rules) and names only metrics garim exports.

mod common;

use common::*;
use std::process::Command;

fn promtool(args: &[&str], dir: &std::path::Path) -> String {
    let out = Command::new("promtool")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("promtool (Debian package prometheus) is installed by scripts/test");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool {args:?}: {text}");
    text
}

/// Metric names in a PromQL expression (garim_… words, histogram suffixes removed).
fn metric_names(expr: &str) -> Vec<String> {
    expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("garim_"))
        .map(|w| {
            w.trim_end_matches("_bucket")
                .trim_end_matches("_sum")
                .trim_end_matches("_count")
                .to_string()
        })
        .collect()
}

#[test]
fn alert_rules_are_valid_and_their_unit_tests_pass() {
    let dir = repo_root().join("deploy/prometheus");
    promtool(&["check", "rules", "alerts.yml"], &dir);
    promtool(&["test", "rules", "alerts.test.yml"], &dir);
    let rules = std::fs::read_to_string(dir.join("alerts.yml")).unwrap();
    for name in metric_names(&rules) {
        assert!(
            telemetry::names::ALL.contains(&name.as_str()),
            "alerts.yml uses {name}, which garim does not export"
        );
    }
}

#[test]
fn every_dashboard_query_parses_and_uses_exported_metrics() {
    let path = repo_root().join("deploy/grafana/garim.json");
    let dash: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut exprs = Vec::new();
    for p in dash["panels"].as_array().expect("panels") {
        for t in p["targets"].as_array().expect("targets") {
            exprs.push(t["expr"].as_str().expect("expr").to_string());
        }
    }
    assert!(exprs.len() >= 10, "{} queries", exprs.len());
    let mut used = std::collections::BTreeSet::new();
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (i, e) in exprs.iter().enumerate() {
        for name in metric_names(e) {
            assert!(
                telemetry::names::ALL.contains(&name.as_str()),
                "panel query uses {name}: {e}"
            );
            used.insert(name);
        }
        // Template variables become regexes so promtool can parse the query.
        let q = e.replace("$camera", ".*").replace("$site", ".*");
        rules.push_str(&format!(
            "      - record: dashboard:q{i}\n        expr: {}\n",
            serde_json::to_string(&q).unwrap()
        ));
    }
    for needed in [
        "garim_frames_total",
        "garim_frame_latency_seconds",
        "garim_inference_seconds",
        "garim_fail_closed_frames_total",
        "garim_camera_up",
        "garim_camera_reconnects_total",
        "garim_recording_up",
        "garim_storage_bytes",
        "garim_oldest_segment_age_seconds",
    ] {
        assert!(used.contains(needed), "no panel shows {needed}");
    }
    let dir = temp_dir("dashboard-rules");
    std::fs::write(dir.join("rules.yml"), rules).unwrap();
    promtool(&["check", "rules", "rules.yml"], &dir);
}
