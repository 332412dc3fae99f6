//! `garim scene status` and `garim scene accept`: the re-aim alarms of a site's cameras, and a 관리책임자's
//! acceptance of a camera's new view. Acceptance goes to the running service's API as a logged-in manager
//! (the service owns the reference view and writes the ledger row); it is refused here first when the view
//! moved enough that the camera's privacy masks and recording zones must be checked again.

use anyhow::{Result, anyhow};
use clap::Subcommand;
use policy::SiteConfig;
use stage::scene::{self, SceneState, SceneStore};
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum SceneCommand {
    /// Each camera's reference view and re-aim alarm
    Status {
        /// Site policy file
        #[arg(long)]
        config: PathBuf,
        /// Output format: text or json
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// Accept a camera's current view as its new reference view (clears its re-aim alarm)
    Accept {
        /// Site policy file
        #[arg(long)]
        config: PathBuf,
        /// Camera id
        #[arg(long)]
        camera: String,
        /// The manager accepting: a garim user with the manager role (password asked, or GARIM_PASSWORD;
        /// or a bearer token in GARIM_TOKEN) [env: GARIM_USER]
        #[arg(long)]
        user: Option<String>,
        /// The privacy masks and recording zones were checked against the new view
        #[arg(long)]
        zones_checked: bool,
    },
}

pub fn run(cmd: SceneCommand) -> Result<()> {
    match cmd {
        SceneCommand::Status { config, format } => status(&config, &format),
        SceneCommand::Accept {
            config,
            camera,
            user,
            zones_checked,
        } => accept(&config, &camera, user.as_deref(), zones_checked),
    }
}

fn load(config: &Path) -> Result<(SiteConfig, SceneStore)> {
    let cfg =
        SiteConfig::load(config).map_err(|e| anyhow!("{} is invalid:\n{e}", config.display()))?;
    let store = site::vaults::scene_store(&cfg);
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
        rows.push((cam.id.clone(), state, false));
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

fn accept(config: &Path, camera: &str, user: Option<&str>, zones_checked: bool) -> Result<()> {
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
    let (status, answer) = crate::client::call_service(
        &cfg,
        user,
        "POST",
        &format!("/api/v1/cameras/{camera}/scene/accept"),
        serde_json::json!({"zones_checked": zones_checked}),
    )?;
    let text = |k: &str| answer[k].as_str().unwrap_or_default().to_string();
    match status {
        200 => {
            println!("{camera}: {}", text("message"));
            Ok(())
        }
        _ => Err(anyhow!(
            "{camera}: refused by the service ({status}): {}",
            text("error")
        )),
    }
}
