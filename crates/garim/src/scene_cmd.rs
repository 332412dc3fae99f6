//! `garim scene status` and `garim scene accept`: the re-aim alarms of a site's cameras, and a 관리책임자's
//! acceptance of a camera's new view. Acceptance is a request file the running service picks up at its next
//! check (the service owns the reference view; this command only asks), refused here first when the view
//! moved enough that the camera's privacy masks and recording zones must be checked again.

use anyhow::{Result, anyhow};
use clap::Subcommand;
use policy::SiteConfig;
use policy::legal::Role;
use stage::scene::{self, AcceptRequest, SceneState, SceneStore};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Subcommand)]
pub enum SceneCommand {
    /// Each camera's reference view and re-aim alarm
    Status {
        #[arg(long)]
        config: PathBuf,
        /// Output format: text or json
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// Accept a camera's current view as its new reference view (clears its re-aim alarm)
    Accept {
        #[arg(long)]
        config: PathBuf,
        #[arg(long)]
        camera: String,
        /// The 관리책임자 accepting (people id or name, role manager)
        #[arg(long)]
        by: String,
        /// The privacy masks and recording zones were checked against the new view
        #[arg(long)]
        zones_checked: bool,
        /// How long to wait for the running service to apply the request
        #[arg(long, default_value_t = 15)]
        wait_secs: u64,
    },
}

pub fn run(cmd: SceneCommand) -> Result<()> {
    match cmd {
        SceneCommand::Status { config, format } => status(&config, &format),
        SceneCommand::Accept {
            config,
            camera,
            by,
            zones_checked,
            wait_secs,
        } => accept(
            &config,
            &camera,
            &by,
            zones_checked,
            Duration::from_secs(wait_secs),
        ),
    }
}

fn load(config: &Path) -> Result<(SiteConfig, SceneStore)> {
    let cfg =
        SiteConfig::load(config).map_err(|e| anyhow!("{} is invalid:\n{e}", config.display()))?;
    let store = SceneStore::new(Path::new(&cfg.storage.path));
    Ok((cfg, store))
}

fn stamp(unix: i64) -> String {
    vault::time::utc_stamp(unix)
}

fn status(config: &Path, format: &str) -> Result<()> {
    let (cfg, store) = load(config)?;
    let mut rows = Vec::new();
    for cam in &cfg.cameras {
        let state = store.load(&cam.id).map_err(|e| anyhow!("{e}"))?;
        rows.push((cam.id.clone(), state, store.pending_request(&cam.id)));
    }
    if format == "json" {
        let cams: Vec<_> = rows
            .iter()
            .map(|(id, s, pending)| {
                serde_json::json!({
                    "camera": id,
                    "reference": s.as_ref().and_then(|s| s.reference.as_ref()).is_some(),
                    "reference_since": s.as_ref().filter(|s| s.reference.is_some()).map(|s| stamp(s.reference_since_unix)),
                    "reference_by": s.as_ref().and_then(|s| s.reference_by.clone()),
                    "alarm": s.as_ref().and_then(|s| s.alarm.as_ref()).map(|a| serde_json::json!({
                        "since": stamp(a.since_unix), "verdict": a.verdict, "reason": a.reason,
                    })),
                    "shift": s.as_ref().filter(|s| s.alarm.is_some()).and_then(SceneState::current_shift),
                    "last_acceptance": s.as_ref().and_then(|s| s.last_acceptance.clone()),
                    "request_pending": pending,
                })
            })
            .collect();
        println!("{}", serde_json::json!({ "cameras": cams }));
        return Ok(());
    }
    for (id, s, pending) in &rows {
        let Some(s) = s.as_ref().filter(|s| s.reference.is_some()) else {
            println!(
                "{id:<12} no reference view yet (taken a few seconds after the camera first streams)"
            );
            continue;
        };
        let by = s
            .reference_by
            .as_deref()
            .unwrap_or("automatic, first start");
        match &s.alarm {
            None => println!(
                "{id:<12} ok: reference view since {} ({by})",
                stamp(s.reference_since_unix)
            ),
            Some(a) => {
                println!(
                    "{id:<12} SCENE CHANGED since {}: {} — {}; every frame is masked whole",
                    stamp(a.since_unix),
                    a.verdict.as_str(),
                    a.reason
                );
                if let Some(shift) = s.current_shift() {
                    println!(
                        "{:<12} the view moved by {} from the reference",
                        "",
                        scene::describe_shift(&shift)
                    );
                }
            }
        }
        if let Some(o) = &s.last_acceptance {
            println!(
                "{:<12} last acceptance {} by {}: {} — {}",
                "",
                stamp(o.at_unix),
                o.by,
                if o.accepted { "accepted" } else { "refused" },
                o.message
            );
        }
        if *pending {
            println!(
                "{:<12} an acceptance request is waiting for the service",
                ""
            );
        }
    }
    Ok(())
}

fn accept(
    config: &Path,
    camera: &str,
    by: &str,
    zones_checked: bool,
    wait: Duration,
) -> Result<()> {
    let (cfg, store) = load(config)?;
    let cam = cfg.cameras.iter().find(|c| c.id == camera).ok_or_else(|| {
        anyhow!(
            "--camera: no camera {camera:?} in {}; cameras: {}",
            config.display(),
            cfg.cameras
                .iter()
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    let managers: Vec<_> = cfg
        .people
        .iter()
        .filter(|p| p.role == Role::Manager)
        .collect();
    let person = managers
        .iter()
        .find(|p| p.id == by || p.name.as_deref() == Some(by))
        .ok_or_else(|| {
            anyhow!(
                "--by: {by:?} is not a 관리책임자 (manager) of this site; managers: {}",
                managers
                    .iter()
                    .map(|p| match &p.name {
                        Some(n) => format!("{} ({n})", p.id),
                        None => p.id.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
    let by = match &person.name {
        Some(n) => format!("{} ({n}, {})", person.id, person.title),
        None => format!("{} ({})", person.id, person.title),
    };
    let state = store
        .load(camera)
        .map_err(|e| anyhow!("{e}"))?
        .filter(|s| s.reference.is_some())
        .ok_or_else(|| anyhow!("camera {camera} has no reference view yet: nothing to accept"))?;
    let Some(alarm) = &state.alarm else {
        return Err(anyhow!(
            "camera {camera} has no scene alarm: its view is its reference view, nothing to accept"
        ));
    };
    let shift = state.current_shift();
    let zones = scene::zone_names(cam.privacy_masks.len(), cam.recording_zones.len());
    if !scene::zones_still_fit(shift) && !zones.is_empty() && !zones_checked {
        let moved = shift.map_or("an unknown amount".to_string(), |s| {
            scene::describe_shift(&s)
        });
        return Err(anyhow!(
            "camera {camera} ({}) moved by {moved} since its reference view: cameras[{camera}].{} may no \
             longer cover what they were drawn for. Check them against the new view (edit the policy if they \
             do not fit), then accept again with --zones-checked",
            alarm.verdict.as_str(),
            zones.join(format!(", cameras[{camera}].").as_str())
        ));
    }
    let requested = vault::time::unix_now();
    store.request(
        camera,
        &AcceptRequest {
            by: by.clone(),
            zones_checked,
            requested_unix: requested,
        },
    )?;
    println!(
        "{camera}: acceptance by {by} requested; the running service applies it at its next check"
    );
    // The service saves its answer, then removes the request.
    let until = Instant::now() + wait;
    while Instant::now() < until {
        std::thread::sleep(Duration::from_millis(200));
        if store.pending_request(camera) {
            continue;
        }
        let outcome = store
            .load(camera)
            .ok()
            .flatten()
            .and_then(|s| s.last_acceptance)
            .filter(|o| o.at_unix >= requested && o.by == by);
        return match outcome {
            Some(o) if o.accepted => {
                println!("{camera}: {}", o.message);
                Ok(())
            }
            Some(o) => Err(anyhow!("{camera}: refused by the service: {}", o.message)),
            None => Err(anyhow!(
                "{camera}: the request was removed before the service answered it"
            )),
        };
    }
    println!(
        "{camera}: the request is still pending (is `garim run` running?); see `garim scene status --config {}`",
        config.display()
    );
    Ok(())
}
