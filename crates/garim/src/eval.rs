//! `garim eval`: how often the masks fail the people they are for. The video goes through the very stage the
//! live pipeline uses (same detectors, tracker, dilation, detection schedule), and what each frame had masked
//! is scored against MOTChallenge ground truth by `stage::quality`.

use crate::offline::{default_classes, offline_stage};
use crate::{MaskArgs, ModelArgs};
use anyhow::{Context, Result, anyhow};
use clap::Args;
use detect::Class;
use media::file::FileSource;
use site::DetectorPool;
use stage::quality::{MaskedArea, QualityMeter, parse_mot};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct EvalArgs {
    #[command(flatten)]
    pub models: crate::ModelArgs,
    /// The footage
    #[arg(long)]
    pub video: PathBuf,
    /// Ground truth, MOTChallenge text: frame,id,x,y,w,h,conf,… (frame 1 is the first frame; conf 0 ignored)
    #[arg(long)]
    pub gt: PathBuf,
    /// Frames to process (default: up to the last frame with ground truth)
    #[arg(long)]
    pub frames: Option<u64>,
    /// Print JSON instead of the table
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub mask: MaskArgs,
}

pub fn eval(models: &ModelArgs, a: EvalArgs) -> Result<()> {
    let text = std::fs::read_to_string(&a.gt)
        .with_context(|| format!("cannot read ground truth {}", a.gt.display()))?;
    let gt = parse_mot(&text).map_err(|e| anyhow!("{}: {e}", a.gt.display()))?;
    let last_gt = *gt
        .keys()
        .next_back()
        .ok_or_else(|| anyhow!("{}: no ground-truth rows", a.gt.display()))?;
    let limit = a.frames.unwrap_or(last_gt);
    let detect = a.mask.detect.clone().unwrap_or_else(default_classes);
    let classes = Class::parse_list(&detect).map_err(|e| anyhow!("--detect: {e}"))?;
    let pool = DetectorPool::verify(&models.options())?;
    let mut stage = offline_stage(&pool, &classes, &a.mask)?;
    pool.load_now()?;
    let mut source = FileSource::open(&a.video)?;
    let mut meter = QualityMeter::new();
    let mut busy = Duration::ZERO;
    let mut frames = 0u64;
    let mut fps = 0.0;
    let none = Vec::new();
    while frames < limit {
        let t0 = Instant::now();
        let Some(f) = source.next_frame()? else { break };
        fps = f.frame_rate();
        stage.set_frame_rate(fps);
        let masked = stage.mask(f.layout, f.data, Instant::now())?;
        busy += t0.elapsed();
        frames += 1;
        let area = MaskedArea::of(&masked);
        let l = masked.layout();
        meter.add_frame(
            frames,
            l.width,
            l.height,
            gt.get(&frames).unwrap_or(&none),
            &area,
        );
    }
    if frames == 0 {
        return Err(anyhow!("{}: no frames decoded", a.video.display()));
    }
    let beyond = gt.keys().filter(|&&k| k > frames).count();
    if beyond > 0 && a.frames.is_none() {
        eprintln!(
            "warning: {beyond} ground-truth frames lie beyond the video's {frames} frames and were not scored"
        );
    }
    let report = meter.report(if fps > 0.0 { fps } else { 25.0 });
    let speed = frames as f64 / busy.as_secs_f64().max(1e-9);
    let t = a.mask.tracker();
    // f32 settings printed as typed (0.3, not 0.30000001192092896).
    let typed = |v: f32| v.to_string().parse::<f64>().unwrap_or(f64::from(v));
    let settings = serde_json::json!({
        "classes": detect,
        "detect_every": stage.every(),
        "dilate": typed(t.dilate_frac),
        "hold_secs": typed(t.hold_secs),
        "person_conf": typed(models.person_conf),
        "face_width": models.face_width,
        "threads": models.threads,
    });
    if a.json {
        let mut v = serde_json::to_value(&report)?;
        v["fps"] = serde_json::json!(speed);
        v["video_fps"] = serde_json::json!(fps);
        v["settings"] = settings;
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!("{} against {}", a.video.display(), a.gt.display());
        println!("settings {settings}");
        println!("speed {speed:.1} fps (decode + detect + mask; footage {fps:.1} fps)");
        print!("{report}");
    }
    Ok(())
}
