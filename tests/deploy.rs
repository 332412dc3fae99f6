//! The files in deploy/: alert rules pass `promtool check rules` and their unit tests, and every
//! Grafana panel's PromQL parses (checked by promtool as recording rules) and names only metrics garim exports.
//! The Dockerfiles, compose file and Helm chart are checked for their invariants (images are not built here:
//! there is no Docker daemon); the chart is linted and rendered with Helm's Go SDK when it is installed.

mod common;

use common::*;
use serde::Deserialize;
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

// ---- Container images, compose and the Helm chart (images are not built here: there is no Docker daemon) ----

/// A Dockerfile as (instruction, arguments) per build stage; continuation lines joined, comments dropped.
struct Stage {
    name: Option<String>,
    from: String,
    lines: Vec<(String, String)>,
}

fn dockerfile_stages(path: &std::path::Path) -> Vec<Stage> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut joined = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('#') || (t.is_empty() && cur.is_empty()) {
            continue;
        }
        match t.strip_suffix('\\') {
            Some(head) => {
                cur.push_str(head);
                cur.push(' ');
            }
            None => {
                cur.push_str(t);
                joined.push(std::mem::take(&mut cur));
            }
        }
    }
    let mut stages: Vec<Stage> = Vec::new();
    for l in joined {
        let (ins, args) = l.split_once(' ').unwrap_or((&l, ""));
        let (ins, args) = (ins.to_ascii_uppercase(), args.trim().to_string());
        if ins == "FROM" {
            let parts: Vec<&str> = args.split_whitespace().collect();
            let name = (parts.len() == 3 && parts[1].eq_ignore_ascii_case("as"))
                .then(|| parts[2].to_string());
            stages.push(Stage {
                name,
                from: parts[0].to_string(),
                lines: Vec::new(),
            });
        } else if let Some(s) = stages.last_mut() {
            s.lines.push((ins, args));
        }
    }
    stages
}

impl Stage {
    fn all(&self, ins: &str) -> Vec<&str> {
        self.lines
            .iter()
            .filter(|(i, _)| i == ins)
            .map(|(_, a)| a.as_str())
            .collect()
    }
    /// Packages of every `apt-get install` in the stage's RUN lines.
    fn apt_packages(&self) -> Vec<String> {
        let mut out = Vec::new();
        for run in self.all("RUN") {
            for cmd in run.split("&&") {
                if let Some((_, rest)) = cmd.split_once("apt-get install") {
                    out.extend(
                        rest.split_whitespace()
                            .filter(|w| !w.starts_with('-'))
                            .map(str::to_string),
                    );
                }
            }
        }
        out
    }
}

/// The GST_PACKAGES list of scripts/lib/setup.sh (what the native set-up installs).
fn setup_packages() -> Vec<String> {
    let text = std::fs::read_to_string(repo_root().join("scripts/lib/setup.sh")).unwrap();
    let start = text
        .find("GST_PACKAGES=(")
        .expect("GST_PACKAGES in setup.sh");
    let body = &text[start + "GST_PACKAGES=(".len()..];
    body[..body.find(')').unwrap()]
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

const RUNTIME_PACKAGES: [&str; 7] = [
    "libgstreamer1.0-0",
    "gstreamer1.0-plugins-base",
    "gstreamer1.0-plugins-good",
    "gstreamer1.0-plugins-bad",
    "gstreamer1.0-plugins-ugly",
    "gstreamer1.0-libav",
    "libgstrtspserver-1.0-0",
];

#[test]
fn dockerfiles_run_as_non_root_with_volumes_healthcheck_and_existing_sources() {
    let root = repo_root();
    let manifest = std::fs::read_to_string(root.join("models/manifest.toml")).unwrap();
    let setup = setup_packages();
    for file in ["deploy/Dockerfile", "deploy/Dockerfile.cuda"] {
        let stages = dockerfile_stages(&root.join(file));
        assert!(stages.len() >= 2, "{file}: multi-stage build expected");
        let build = &stages[0];
        assert!(
            build.from.starts_with("rust:") && build.from.contains("bookworm"),
            "{file}: {}",
            build.from
        );
        let last = stages.last().unwrap();
        // Non-root, read-only-root friendly, health-checked, stopped with SIGTERM.
        let user = last.all("USER");
        let user = user.last().unwrap_or_else(|| panic!("{file}: no USER"));
        let uid = user.split(':').next().unwrap();
        assert!(uid != "root" && uid != "0", "{file}: runs as {user}");
        let volumes = last.all("VOLUME").join(" ");
        for v in ["/etc/garim", "/var/lib/garim"] {
            assert!(volumes.contains(v), "{file}: no VOLUME {v}");
        }
        let health = last.all("HEALTHCHECK").join(" ");
        assert!(
            health.contains("garim")
                && health.contains("healthcheck")
                && health.contains("/healthz"),
            "{file}: HEALTHCHECK {health:?}"
        );
        assert_eq!(last.all("STOPSIGNAL"), ["SIGTERM"], "{file}");
        let env = last.all("ENV").join(" ");
        for var in [
            "GARIM_MODELS_DIR=/usr/share/garim/models",
            "ORT_DYLIB_PATH=",
            "GST_REGISTRY=/var/lib/garim/",
            "HOME=/var/lib/garim",
        ] {
            assert!(env.contains(var), "{file}: ENV lacks {var}");
        }
        assert!(
            last.all("CMD").join(" ").contains("/etc/garim/site.toml"),
            "{file}"
        );
        // Every COPY source exists: in the repository, or as a stage built before it.
        for (i, stage) in stages.iter().enumerate() {
            for copy in stage.all("COPY") {
                let words: Vec<&str> = copy.split_whitespace().collect();
                let from = words.iter().find_map(|w| w.strip_prefix("--from="));
                let paths: Vec<&str> = words
                    .iter()
                    .filter(|w| !w.starts_with("--"))
                    .copied()
                    .collect();
                let sources = &paths[..paths.len() - 1];
                match from {
                    Some(name) => {
                        assert!(
                            stages[..i].iter().any(|s| s.name.as_deref() == Some(name)),
                            "{file}: COPY --from={name} names no earlier stage"
                        );
                        let src_stage = stages
                            .iter()
                            .find(|s| s.name.as_deref() == Some(name))
                            .unwrap();
                        for src in sources {
                            // A source from the build stage comes from the copied repository or the build.
                            let rel = src.trim_start_matches("/src/");
                            let made = rel.starts_with("target/release/garim")
                                || rel.starts_with("models/cache")
                                || src.starts_with("/opt/ort");
                            assert!(
                                made || root.join(rel).exists(),
                                "{file}: COPY --from={name} {src}: not in the repository nor built"
                            );
                            if src.starts_with("/opt/ort") {
                                assert!(
                                    src_stage.all("RUN").join(" ").contains("/opt/ort"),
                                    "{file}"
                                );
                            }
                        }
                    }
                    None => {
                        for src in sources {
                            assert!(
                                root.join(src).exists(),
                                "{file}: COPY {src}: no such file in the repository"
                            );
                        }
                    }
                }
            }
        }
        // The build stage installs the -dev packages the native set-up uses.
        for p in build.apt_packages() {
            assert!(
                setup.contains(&p),
                "{file}: build package {p} is not in scripts/lib/setup.sh GST_PACKAGES"
            );
        }
        // The runtime has the GStreamer runtime packages and no compiler or -dev package.
        let runtime = last.apt_packages();
        for p in RUNTIME_PACKAGES {
            assert!(runtime.iter().any(|r| r == p), "{file}: runtime lacks {p}");
        }
        for p in &runtime {
            assert!(
                !p.ends_with("-dev") && p != "gcc",
                "{file}: runtime installs {p}"
            );
        }
        // The build fetches (and verifies) the models with the project's script, honouring the mirror.
        let runs = build.all("RUN").join(" ");
        assert!(
            runs.contains("scripts/fetch-models") && runs.contains("GARIM_MODEL_MIRROR"),
            "{file}"
        );
    }
    // The CPU image's ORT_DYLIB_PATH is the library the manifest pins.
    let cpu = dockerfile_stages(&root.join("deploy/Dockerfile"));
    let env = cpu.last().unwrap().all("ENV").join(" ");
    let lib = env
        .split_whitespace()
        .find_map(|w| w.strip_prefix("ORT_DYLIB_PATH=/usr/share/garim/models/"))
        .expect("ORT_DYLIB_PATH under the models dir");
    assert!(
        manifest.contains(&format!("file = \"{lib}\"")),
        "{lib} not in models/manifest.toml"
    );
    assert!(cpu.last().unwrap().from.starts_with("debian:bookworm-slim"));
    let cuda = dockerfile_stages(&root.join("deploy/Dockerfile.cuda"));
    assert!(
        cuda.last().unwrap().from.starts_with("nvidia/cuda:12."),
        "{}",
        cuda.last().unwrap().from
    );
    assert!(cuda[0].all("RUN").join(" ").contains("onnxruntime-gpu"));
}

#[test]
fn runtime_packages_exist_in_debian() {
    // apt-cache knows Debian 12's archive here (scripts/test runs apt-get update when it installs anything).
    let Ok(out) = Command::new("apt-cache")
        .arg("show")
        .args(RUNTIME_PACKAGES)
        .output()
    else {
        eprintln!("apt-cache not available: package names not checked against the archive");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    for p in RUNTIME_PACKAGES {
        assert!(
            text.lines().any(|l| l == format!("Package: {p}")),
            "apt-cache show {p}: not in the archive\n{err}"
        );
    }
}

/// A one-shot HTTP server answering `status` once; returns its address.
fn one_reply(status: &'static str) -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        if let Ok((mut s, _)) = l.accept() {
            let (mut req, mut buf) = (Vec::new(), [0u8; 1024]);
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let body = r#"{"ok":false}"#;
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    addr
}

#[test]
fn healthcheck_subcommand_passes_on_200_and_fails_on_503_or_no_answer() {
    let check = |addr: &str, extra: &[&str]| {
        garim()
            .args([
                "healthcheck",
                "--url",
                &format!("http://{addr}/healthz"),
                "--timeout-secs",
                "2",
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    assert!(check(&one_reply("200 OK"), &[]).status.success());
    let out = check(&one_reply("503 Service Unavailable"), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("503"));
    assert!(
        check(&one_reply("503 Service Unavailable"), &["--allow-degraded"])
            .status
            .success()
    );
    // Nothing listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    assert_eq!(check(&closed, &[]).status.code(), Some(1));
}

fn yaml(path: &std::path::Path) -> serde_yaml::Value {
    let mut v: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    v.apply_merge().unwrap();
    v
}

fn strs(v: &serde_yaml::Value) -> Vec<String> {
    v.as_sequence()
        .map(|s| {
            s.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The port of a site file's [server] http_bind.
fn http_port(site: &std::path::Path) -> u16 {
    let cfg = policy::SiteConfig::load(site).unwrap();
    cfg.server
        .http_bind
        .rsplit_once(':')
        .unwrap()
        .1
        .parse()
        .unwrap()
}

#[test]
fn compose_refers_to_existing_files_and_prometheus_scrapes_garim() {
    let deploy = repo_root().join("deploy");
    let compose = yaml(&deploy.join("compose.yaml"));
    let services = compose["services"].as_mapping().expect("services");
    for s in ["garim", "sim-camera", "prometheus", "grafana", "keys"] {
        assert!(services.contains_key(s), "no service {s}");
    }
    // Every bind mount and build input exists (paths are relative to deploy/).
    let mut mounts = std::collections::BTreeMap::new();
    for (name, svc) in services {
        let name = name.as_str().unwrap().to_string();
        if let Some(b) = svc.get("build") {
            let ctx = deploy.join(b["context"].as_str().unwrap());
            assert!(
                ctx.join(b["dockerfile"].as_str().unwrap()).is_file(),
                "{name}: build"
            );
        }
        for m in strs(&svc["volumes"]) {
            let mut parts = m.split(':');
            let (src, dst) = (parts.next().unwrap(), parts.next().unwrap());
            if src.starts_with('.') {
                assert!(
                    deploy.join(src).exists(),
                    "{name}: mounts {src}, which does not exist"
                );
                mounts.insert((name.clone(), dst.to_string()), deploy.join(src));
            } else {
                assert!(
                    compose["volumes"].get(src).is_some(),
                    "{name}: volume {src} is not declared"
                );
            }
        }
    }
    // garim runs the mounted site file, which is valid, binds every interface and uses the sim camera.
    let garim_cmd = strs(&compose["services"]["garim"]["command"]);
    let cfg_in_container = &garim_cmd[garim_cmd.iter().position(|a| a == "--config").unwrap() + 1];
    let site = mounts
        .get(&("garim".to_string(), cfg_in_container.clone()))
        .expect("garim's --config is a mounted file")
        .clone();
    assert_valid_policy_file(&site, "compose site file");
    let text = std::fs::read_to_string(&site).unwrap();
    assert!(
        text.contains("http_bind = \"0.0.0.0:"),
        "site must bind 0.0.0.0 in a container"
    );
    let sim = strs(&compose["services"]["sim-camera"]["command"]);
    let arg = |name: &str| sim[sim.iter().position(|a| a == name).unwrap() + 1].clone();
    let cam_url = format!("rtsp://sim-camera:{}/{}", arg("--port"), arg("--name"));
    assert!(text.contains(&cam_url), "site file does not use {cam_url}");
    assert_eq!(arg("--address"), "0.0.0.0");
    let port = http_port(&site);
    assert!(
        strs(&compose["services"]["garim"]["ports"]).contains(&format!("{port}:{port}")),
        "garim's HTTP port {port} is not published"
    );
    // Prometheus scrapes garim's service and port, with the alert rules mounted where its config says.
    let prom_cfg = mounts
        .get(&(
            "prometheus".to_string(),
            "/etc/prometheus/prometheus.yml".to_string(),
        ))
        .expect("prometheus config mounted")
        .clone();
    let prom = yaml(&prom_cfg);
    let targets: Vec<String> = prom["scrape_configs"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|j| {
            j["static_configs"]
                .as_sequence()
                .unwrap()
                .iter()
                .flat_map(|s| strs(&s["targets"]))
        })
        .collect();
    assert!(
        targets.contains(&format!("garim:{port}")),
        "targets {targets:?}"
    );
    for rule_file in strs(&prom["rule_files"]) {
        let src = mounts
            .get(&("prometheus".to_string(), rule_file.clone()))
            .unwrap_or_else(|| panic!("rule file {rule_file} is not mounted"));
        assert!(src.ends_with("prometheus/alerts.yml"), "{}", src.display());
    }
    // promtool accepts the config (rule paths pointed at the repository's files).
    let dir = temp_dir("compose-prom");
    let local = std::fs::read_to_string(&prom_cfg).unwrap().replace(
        "/etc/prometheus/alerts.yml",
        deploy.join("prometheus/alerts.yml").to_str().unwrap(),
    );
    std::fs::write(dir.join("prometheus.yml"), local).unwrap();
    promtool(&["check", "config", "prometheus.yml"], &dir);
    // Grafana: anonymous viewer, garim's dashboard as the home page, provisioning and datasource in place.
    let env = &compose["services"]["grafana"]["environment"];
    assert_eq!(env["GF_AUTH_ANONYMOUS_ENABLED"].as_str(), Some("true"));
    assert_eq!(env["GF_AUTH_ANONYMOUS_ORG_ROLE"].as_str(), Some("Viewer"));
    let home = env["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
        .as_str()
        .unwrap();
    let dash = mounts
        .get(&("grafana".to_string(), home.to_string()))
        .expect("home dashboard mounted");
    assert!(dash.ends_with("grafana/garim.json"));
    let prov = mounts
        .get(&(
            "grafana".to_string(),
            "/etc/grafana/provisioning".to_string(),
        ))
        .expect("provisioning mounted");
    let ds = yaml(&prov.join("datasources/prometheus.yml"));
    assert_eq!(
        ds["datasources"][0]["url"].as_str(),
        Some("http://prometheus:9090")
    );
    let dashboards = yaml(&prov.join("dashboards/garim.yml"));
    let dash_dir = dashboards["providers"][0]["options"]["path"]
        .as_str()
        .unwrap();
    assert!(
        home.starts_with(dash_dir),
        "{home} is not under the provisioned {dash_dir}"
    );
}

/// `.Values.a.b` paths used by the chart's templates.
fn values_paths(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices(".Values.") {
        let rest = &text[i + ".Values.".len()..];
        let path: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '_')
            .collect();
        out.push(
            path.trim_end_matches('.')
                .split('.')
                .map(str::to_string)
                .collect(),
        );
    }
    out
}

/// Renders the chart with real Helm: Helm's Go SDK through the helm-python-sdk wheel (PyPI; Debian 12 has no
/// helm package), installed by scripts/test. Returns lint findings and rendered manifests, or None without it.
fn helm_render(
    chart: &std::path::Path,
    values_json: &str,
) -> Option<Result<serde_json::Value, String>> {
    let script = r#"
import json, sys
import helm_python as helm
chart, values = sys.argv[1], json.loads(sys.argv[2])
out = {"lint": helm.lint(chart, values=values)}
try:
    with helm.Chart.load(chart) as c:
        out["manifests"] = c.render(values, name="garim", namespace="video")
except Exception as e:
    out["error"] = str(e)
print(json.dumps(out))
"#;
    // scripts/test installs the wheel here.
    let pythonpath = repo_root().join("models/cache/pytools");
    let probe = Command::new("python3")
        .env("PYTHONPATH", &pythonpath)
        .args(["-c", "import helm_python"])
        .output()
        .ok()?;
    if !probe.status.success() {
        return None;
    }
    let out = Command::new("python3")
        .env("PYTHONPATH", &pythonpath)
        .args(["-c", script, chart.to_str().unwrap(), values_json])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    Some(match v.get("error") {
        Some(e) => Err(e.as_str().unwrap_or_default().to_string()),
        None => Ok(v),
    })
}

#[test]
fn helm_chart_uses_only_defined_values_and_renders_a_sharded_statefulset() {
    let chart = repo_root().join("deploy/helm/garim");
    let chart_yaml = yaml(&chart.join("Chart.yaml"));
    assert_eq!(chart_yaml["apiVersion"].as_str(), Some("v2"));
    let values = yaml(&chart.join("values.yaml"));
    // Every .Values path a template reads is defined in values.yaml.
    for entry in std::fs::read_dir(chart.join("templates")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for p in values_paths(&text) {
            let mut v = &values;
            for key in &p {
                v = v.get(key.as_str()).unwrap_or_else(|| {
                    panic!(
                        "{}: .Values.{} is not in values.yaml",
                        path.display(),
                        p.join(".")
                    )
                });
            }
        }
    }
    // The default policy in values.yaml is a valid site file that fits the pod.
    let policy = values["site"]["policy"].as_str().unwrap();
    assert_valid_policy(policy, "values.yaml site.policy");
    assert!(
        policy.contains("http_bind = \"0.0.0.0:8080\"")
            && policy.contains("path = \"/var/lib/garim\"")
    );
    assert!(
        !policy.contains("key_file"),
        "the key comes from the Secret (GARIM_SITE_KEY)"
    );

    let key = "ab".repeat(32);
    let vals = serde_json::json!({
        "replicas": 3, "siteKey": {"value": key}, "serviceMonitor": {"enabled": true},
        "gpu": {"enabled": true, "count": 1}, "cameraSecret": "garim-cameras",
    });
    let rendered = helm_render(&chart, &vals.to_string())
        .expect("helm-python-sdk not found in models/cache/pytools: scripts/test installs it");
    let rendered = rendered.unwrap_or_else(|e| panic!("helm template failed: {e}"));
    let lint = &rendered["lint"];
    assert_eq!(
        lint["errors"].as_array().map(Vec::len),
        Some(0),
        "helm lint: {lint}"
    );
    for m in lint["messages"].as_array().unwrap() {
        // Severity 1 is INFO (e.g. "icon is recommended"); warnings and errors fail.
        assert!(m["severity"].as_i64().unwrap() <= 1, "helm lint: {m}");
    }
    let mut docs = Vec::new();
    for (name, text) in rendered["manifests"].as_object().unwrap() {
        if name.ends_with("NOTES.txt") {
            continue;
        }
        for doc in serde_yaml::Deserializer::from_str(text.as_str().unwrap()) {
            let v = serde_yaml::Value::deserialize(doc).unwrap_or_else(|e| panic!("{name}: {e}"));
            if !v.is_null() {
                docs.push(v);
            }
        }
    }
    let kind = |k: &str| {
        docs.iter()
            .filter(|d| d["kind"].as_str() == Some(k))
            .collect::<Vec<_>>()
    };
    let sts = kind("StatefulSet");
    assert_eq!(sts.len(), 1);
    let sts = sts[0];
    assert_eq!(sts["spec"]["replicas"].as_i64(), Some(3));
    let c = &sts["spec"]["template"]["spec"]["containers"][0];
    let env: Vec<(String, serde_yaml::Value)> = c["env"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap().to_string(), e.clone()))
        .collect();
    let get = |n: &str| {
        env.iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no env {n}"))
    };
    assert_eq!(get("GARIM_SHARD")["value"].as_str(), Some("hostname/3"));
    assert!(get("GARIM_SITE_KEY")["valueFrom"]["secretKeyRef"]["name"].is_string());
    assert_eq!(c["resources"]["limits"]["nvidia.com/gpu"].as_i64(), Some(1));
    assert!(
        c["image"].as_str().unwrap().contains("cuda"),
        "gpu.enabled uses the CUDA image"
    );
    assert_eq!(
        c["securityContext"]["readOnlyRootFilesystem"].as_bool(),
        Some(true)
    );
    assert!(
        sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"]
            .is_string()
    );
    assert_eq!(
        sts["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"].as_bool(),
        Some(true)
    );
    let services = kind("Service");
    assert_eq!(services.len(), 4, "headless + one per replica");
    assert!(
        services
            .iter()
            .any(|s| s["spec"]["clusterIP"].as_str() == Some("None"))
    );
    for k in 0..3 {
        assert!(
            services.iter().any(
                |s| s["spec"]["selector"]["statefulset.kubernetes.io/pod-name"].as_str()
                    == Some(&format!("garim-{k}"))
            ),
            "no Service for replica {k}"
        );
    }
    assert_eq!(kind("ServiceMonitor").len(), 1);
    assert_eq!(
        kind("ConfigMap")[0]["data"]["site.toml"]
            .as_str()
            .unwrap()
            .trim(),
        policy.trim()
    );
    assert_eq!(
        kind("Secret")[0]["stringData"]["site.key"].as_str(),
        Some(key.as_str())
    );
    // Not implemented yet: asking for S3 storage fails loudly instead of pretending.
    let s3 = serde_json::json!({"siteKey": {"value": key}, "s3": {"enabled": true}});
    let err = helm_render(&chart, &s3.to_string())
        .unwrap()
        .expect_err("s3 must fail");
    assert!(err.contains("not implemented"), "{err}");
    postgres_index_is_passed_from_a_secret_and_named_in_the_policy(&chart, &key, policy);
    // Replicas sharing one claim would share one vault: refused.
    let shared = serde_json::json!({"siteKey": {"value": key}, "replicas": 2,
        "persistence": {"existingClaim": "nfs-claim"}});
    let err = helm_render(&chart, &shared.to_string())
        .unwrap()
        .expect_err("a shared claim with 2 replicas must fail");
    assert!(err.contains("existingClaim"), "{err}");
}

/// The documents `helm template` renders for `vals` (NOTES.txt left out), or the chart's error.
fn rendered_docs(
    chart: &std::path::Path,
    vals: &serde_json::Value,
) -> Result<Vec<serde_yaml::Value>, String> {
    let rendered = helm_render(chart, &vals.to_string()).expect("helm-python-sdk is installed")?;
    let mut docs = Vec::new();
    for (name, text) in rendered["manifests"].as_object().unwrap() {
        if name.ends_with("NOTES.txt") {
            continue;
        }
        for doc in serde_yaml::Deserializer::from_str(text.as_str().unwrap()) {
            let v = serde_yaml::Value::deserialize(doc).unwrap_or_else(|e| panic!("{name}: {e}"));
            if !v.is_null() {
                docs.push(v);
            }
        }
    }
    Ok(docs)
}

/// postgres.enabled: GARIM_INDEX_URL comes from a Secret (made from postgres.url, or an existing one) and the
/// mounted policy names it in [storage] index_url_env; the URL itself never reaches the ConfigMap.
fn postgres_index_is_passed_from_a_secret_and_named_in_the_policy(
    chart: &std::path::Path,
    key: &str,
    policy: &str,
) {
    let url = "postgres://garim:pw-in-values@db.garim.svc:5432/garim";
    let of_kind = |docs: &[serde_yaml::Value], k: &str| {
        docs.iter()
            .filter(|d| d["kind"].as_str() == Some(k))
            .cloned()
            .collect::<Vec<_>>()
    };
    let index_env = |docs: &[serde_yaml::Value]| {
        of_kind(docs, "StatefulSet")[0]["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|e| e["name"].as_str() == Some("GARIM_INDEX_URL"))
            .cloned()
    };
    let site_toml = |docs: &[serde_yaml::Value]| {
        of_kind(docs, "ConfigMap")[0]["data"]["site.toml"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let check = |toml: &str| assert_valid_policy(toml, "rendered policy");
    // Without postgres: no index variable.
    let docs = rendered_docs(chart, &serde_json::json!({"siteKey": {"value": key}})).unwrap();
    assert!(index_env(&docs).is_none());
    assert!(!site_toml(&docs).contains("index_url_env"));

    // postgres.url: the chart makes the Secret.
    let vals = serde_json::json!({"siteKey": {"value": key}, "replicas": 2,
        "postgres": {"enabled": true, "url": url}});
    let docs = rendered_docs(chart, &vals).unwrap_or_else(|e| panic!("postgres.enabled: {e}"));
    let env = index_env(&docs).expect("GARIM_INDEX_URL in the StatefulSet");
    let secret_name = env["valueFrom"]["secretKeyRef"]["name"].as_str().unwrap();
    assert_eq!(
        env["valueFrom"]["secretKeyRef"]["key"].as_str(),
        Some("url")
    );
    let secret = of_kind(&docs, "Secret")
        .into_iter()
        .find(|s| s["metadata"]["name"].as_str() == Some(secret_name))
        .expect("the index Secret");
    assert_eq!(secret["stringData"]["url"].as_str(), Some(url));
    let toml = site_toml(&docs);
    assert!(
        toml.contains("[storage]\nindex_url_env = \"GARIM_INDEX_URL\"\n"),
        "{toml}"
    );
    assert!(!toml.contains("pw-in-values"));
    check(&toml);

    // An existing Secret and key: referenced, none made.
    let vals = serde_json::json!({"siteKey": {"value": key},
        "postgres": {"enabled": true, "existingSecret": "garim-db", "key": "dsn"}});
    let docs = rendered_docs(chart, &vals).unwrap();
    let env = index_env(&docs).unwrap();
    assert_eq!(
        env["valueFrom"]["secretKeyRef"]["name"].as_str(),
        Some("garim-db")
    );
    assert_eq!(
        env["valueFrom"]["secretKeyRef"]["key"].as_str(),
        Some("dsn")
    );
    assert_eq!(of_kind(&docs, "Secret").len(), 1, "only the site key's");

    // A policy without [storage] gets one; a policy that already names the variable keeps it.
    let bare: String = policy
        .lines()
        .filter(|l| {
            !(l.starts_with("[storage]")
                || l.starts_with("path =")
                || l.starts_with("segment_secs")
                || l.starts_with("place ="))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(!bare.contains("[storage]"));
    let vals = serde_json::json!({"siteKey": {"value": key}, "site": {"policy": bare},
        "postgres": {"enabled": true, "url": url}});
    let toml = site_toml(&rendered_docs(chart, &vals).unwrap());
    assert!(
        toml.trim_end()
            .ends_with("[storage]\nindex_url_env = \"GARIM_INDEX_URL\""),
        "{toml}"
    );
    check(&toml);
    let named = policy.replace(
        "[storage]\n",
        "[storage]\nindex_url_env = \"GARIM_INDEX_URL\"\n",
    );
    let vals = serde_json::json!({"siteKey": {"value": key}, "site": {"policy": named},
        "postgres": {"enabled": true, "url": url}});
    let toml = site_toml(&rendered_docs(chart, &vals).unwrap());
    assert_eq!(toml.matches("index_url_env").count(), 1, "{toml}");

    // Refused: another variable name in the policy, or no URL at all.
    let other = policy.replace("[storage]\n", "[storage]\nindex_url_env = \"DB_URL\"\n");
    let vals = serde_json::json!({"siteKey": {"value": key}, "site": {"policy": other},
        "postgres": {"enabled": true, "url": url}});
    let err = rendered_docs(chart, &vals).expect_err("another index_url_env");
    assert!(err.contains("storage.index_url_env"), "{err}");
    let vals = serde_json::json!({"siteKey": {"value": key}, "postgres": {"enabled": true}});
    let err = rendered_docs(chart, &vals).expect_err("no URL");
    assert!(err.contains("postgres.url"), "{err}");
}
