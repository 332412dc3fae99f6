//! `garim mask` (offline file masking) and `garim bench` (end-to-end throughput on the bundled footage).
//! Both use the live pipeline's detectors, tracker and mask code through `MaskingStage`; only the deadline
//! differs (offline there is no real-time budget, so the stage waits for detection instead of failing closed).

use crate::{MaskArgs, ModelArgs};
use anyhow::{Context, Result, anyhow};
use clap::Args;
use detect::Class;
use indicatif::{ProgressBar, ProgressStyle};
use mask::MaskStyle;
use media::file::{FileSink, FileSource};
use site::DetectorPool;
use stage::{MaskingStage, RollingStats, StageConfig};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Offline work has no real-time deadline; this only guards against a hung detector.
const OFFLINE_DEADLINE: Duration = Duration::from_secs(60);

/// The classes a camera masks when its policy names none: the shipped default (policy `defaults.detect`).
pub(crate) fn default_classes() -> String {
    policy::CameraDefaults::default().detect.join(",")
}

#[derive(Args, Debug)]
pub struct MaskFileArgs {
    #[command(flatten)]
    pub models: crate::ModelArgs,
    /// Input video file
    pub input: PathBuf,
    /// Output video (.mp4 or .mkv); written to OUTPUT.part, renamed when complete
    pub output: PathBuf,
    /// Also write the boxes masked in each frame as CSV (frame,class,score,x0,y0,x1,y1; "whole" rows for
    /// frames masked whole), for audits and measurements
    #[arg(long)]
    pub boxes_csv: Option<PathBuf>,
    #[command(flatten)]
    pub mask: MaskArgs,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(flatten)]
    pub models: crate::ModelArgs,
    /// Footage (default: the fetched vtest.avi)
    #[arg(long)]
    pub video: Option<PathBuf>,
    /// Frames per run (default: the whole file)
    #[arg(long)]
    pub frames: Option<u64>,
    /// Runs to do, comma-separated; each is a class or classes joined by + (person, face, plate, vehicle)
    #[arg(long, default_value = "person,face,plate,person+face+plate")]
    pub runs: String,
    #[command(flatten)]
    pub mask: MaskArgs,
    /// Bench the service path instead (RTSP in, detect, mask, live RTSP out, encrypted recording) with this
    /// many simulated cameras: N sweeps 1..N and stops at the first that does not hold real time; a list
    /// (1,2,4) runs exactly those
    #[arg(long)]
    pub cameras: Option<String>,
    /// Service bench: the cameras' size (the footage is scaled once and looped)
    #[arg(long, default_value = "1920x1080")]
    pub resolution: String,
    /// Service bench: the cameras' frame rate
    #[arg(long, default_value_t = 15)]
    pub fps: u32,
    /// Service bench: seconds measured per run, after the warm-up
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// Service bench: seconds of warm-up per run (models loaded, streams up)
    #[arg(long, default_value_t = 10)]
    pub warmup: u64,
    /// Service bench: settings compared in the same run, comma-separated: `before` (garim before the cost
    /// work) or `shipped`, each optionally followed by +lever (shared, two-encodes, trellis, no-trellis,
    /// preset=NAME, threads=N, every=K (0: automatic), motion, no-motion, plate-cache, no-plate-cache, ort-threads=N)
    #[arg(long, default_value = "shipped")]
    pub variants: String,
    /// Service bench: print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

pub(crate) fn offline_stage(
    pool: &DetectorPool,
    classes: &[Class],
    m: &MaskArgs,
) -> Result<MaskingStage> {
    let style = MaskStyle::parse(m.style.as_deref().unwrap_or("pixelate"))
        .map_err(|e| anyhow!("--style: {e}"))?;
    let detector = pool.detector_for(classes)?;
    Ok(MaskingStage::new(
        StageConfig {
            camera: "offline".into(),
            deadline: OFFLINE_DEADLINE,
            detect_every: m.detect_every.unwrap_or(0),
            style,
            privacy_masks: Vec::new(),
            recording_zones: Vec::new(),
            motion_gate: true,
            tracker: m.tracker(),
        },
        detector,
    ))
}

pub fn mask_file(models: &ModelArgs, a: MaskFileArgs) -> Result<()> {
    let classes = Class::parse_list(&a.mask.detect.clone().unwrap_or_else(default_classes))
        .map_err(|e| anyhow!("--detect: {e}"))?;
    if a.input == a.output {
        return Err(anyhow!(
            "output {} would overwrite the input",
            a.output.display()
        ));
    }
    let pool = DetectorPool::verify(&models.options())?;
    let mut stage = offline_stage(&pool, &classes, &a.mask)?;
    pool.load_now()?;
    let mut source = FileSource::open(&a.input)?;
    // The first frame proves the input is a video before an output file is created.
    let first = source.next_frame()?;
    let mut sink = FileSink::create(&a.output)?;
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} frames  {per_sec}  eta {eta}")
            .expect("valid template"),
    );
    let started = Instant::now();
    let mut frames = 0u64;
    let mut fail_closed = 0u64;
    let mut boxes = match &a.boxes_csv {
        Some(p) => Some(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => None,
    };
    let mut next = first;
    while let Some(f) = next {
        if frames == 0 {
            if let (Some(d), true) = (source.duration(), f.fps.numer() > 0) {
                let total = d.nseconds() as f64 / 1e9 * f.fps.numer() as f64 / f.fps.denom() as f64;
                bar.set_length(total.round() as u64);
            }
        }
        stage.set_frame_rate(f.frame_rate());
        let masked = stage.mask(f.layout, f.data, Instant::now())?;
        fail_closed += u64::from(masked.outcome().fail_closed.is_some());
        if let Some(w) = &mut boxes {
            write_boxes(w, frames, &masked)?;
        }
        sink.push(&masked, f.fps, f.pts, f.duration)?;
        frames += 1;
        bar.inc(1);
        next = source.next_frame()?;
    }
    bar.finish_and_clear();
    if let Some(mut w) = boxes {
        w.flush()?;
    }
    let out = sink.finish()?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "masked {frames} frames of {} into {} in {secs:.1} s ({:.1} fps); {fail_closed} frames masked whole",
        a.input.display(),
        out.display(),
        frames as f64 / secs
    );
    Ok(())
}

fn write_boxes(w: &mut impl Write, frame: u64, masked: &stage::MaskedFrame) -> Result<()> {
    if let Some(reason) = masked.outcome().fail_closed {
        let l = masked.layout();
        writeln!(
            w,
            "{frame},whole,{},0,0,{},{}",
            reason.as_str(),
            l.width,
            l.height
        )?;
    }
    for d in masked.regions() {
        let b = d.bbox;
        writeln!(
            w,
            "{frame},{},{:.3},{:.1},{:.1},{:.1},{:.1}",
            d.class, d.score, b.x0, b.y0, b.x1, b.y1
        )?;
    }
    Ok(())
}

#[derive(Default)]
pub(crate) struct Usage {
    pub(crate) cpu_secs: f64,
    pub(crate) max_rss_kib: i64,
}

pub(crate) fn usage() -> Usage {
    // SAFETY: getrusage fills the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    Usage {
        cpu_secs: t(ru.ru_utime) + t(ru.ru_stime),
        max_rss_kib: ru.ru_maxrss,
    }
}

pub fn bench(models: &ModelArgs, a: BenchArgs) -> Result<()> {
    let video = match a.video.clone() {
        Some(v) => v,
        None => pool_store_path(models, "vtest")?,
    };
    if let Some(cameras) = &a.cameras {
        let (cameras, stop_at_failure) = crate::live_bench::parse_cameras(cameras)?;
        let (width, height) = crate::live_bench::parse_resolution(&a.resolution)?;
        if !(1..=120).contains(&a.fps) {
            return Err(anyhow!("--fps {}: from 1 to 120", a.fps));
        }
        return crate::live_bench::run(
            models,
            crate::live_bench::LiveBench {
                cameras,
                stop_at_failure,
                width,
                height,
                fps: a.fps,
                warmup: Duration::from_secs(a.warmup),
                seconds: Duration::from_secs(a.seconds.max(1)),
                variants: a
                    .variants
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .collect(),
                detect: a.mask.detect.clone(),
                json: a.json,
                video,
            },
        );
    }
    let pool = DetectorPool::verify(&models.options())?;
    let runs: Vec<(String, Vec<Class>)> = a
        .runs
        .split(',')
        .map(|r| {
            Class::parse_list(&r.replace('+', ","))
                .map(|c| (r.to_string(), c))
                .map_err(|e| anyhow!("--runs: {e}"))
        })
        .collect::<Result<_>>()?;
    let stages: Vec<MaskingStage> = runs
        .iter()
        .map(|(_, classes)| offline_stage(&pool, classes, &a.mask))
        .collect::<Result<_>>()?;
    pool.load_now()?;
    let out_dir = std::env::temp_dir().join(format!("garim-bench-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir)?;
    let mut results = Vec::new();
    for ((name, _), mut stage) in runs.iter().zip(stages) {
        let mut source = FileSource::open(&video)?;
        let out = out_dir.join(format!("{}.mp4", name.replace('+', "_")));
        let mut sink = FileSink::create(&out)?;
        let (mut decode, mut process, mut encode, mut total) = (
            RollingStats::new(1 << 20),
            RollingStats::new(1 << 20),
            RollingStats::new(1 << 20),
            RollingStats::new(1 << 20),
        );
        let before = usage();
        let started = Instant::now();
        let mut frames = 0u64;
        let mut fail_closed = 0u64;
        loop {
            if a.frames.is_some_and(|n| frames >= n) {
                break;
            }
            let t0 = Instant::now();
            let Some(f) = source.next_frame()? else { break };
            let t1 = Instant::now();
            stage.set_frame_rate(f.frame_rate());
            let masked = stage.mask(f.layout, f.data, t1)?;
            let t2 = Instant::now();
            sink.push(&masked, f.fps, f.pts, f.duration)?;
            let t3 = Instant::now();
            fail_closed += u64::from(masked.outcome().fail_closed.is_some());
            decode.push(t1 - t0);
            process.push(t2 - t1);
            encode.push(t3 - t2);
            total.push(t3 - t0);
            frames += 1;
        }
        sink.finish().context("bench output")?;
        let secs = started.elapsed().as_secs_f64();
        let after = usage();
        let q = |s: &RollingStats| serde_json::json!({"p50_ms": s.quantile_ms(0.5), "p99_ms": s.quantile_ms(0.99)});
        results.push(serde_json::json!({
            "run": name,
            "video": video.display().to_string(),
            "frames": frames,
            "seconds": secs,
            "fps": frames as f64 / secs,
            "detect_every": stage.every(),
            "fail_closed_frames": fail_closed,
            "stages": {
                "decode_wait": q(&decode),
                "detect": q(stage.inference_stats()),
                "detect_and_mask": q(&process),
                "encode_push": q(&encode),
                "frame_total": q(&total),
            },
            "cpu_seconds": after.cpu_secs - before.cpu_secs,
            "peak_rss_mib": after.max_rss_kib as f64 / 1024.0,
        }));
        eprintln!(
            "bench {name}: {frames} frames, {:.1} fps",
            frames as f64 / secs
        );
    }
    let _ = std::fs::remove_dir_all(&out_dir);
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({"runs": results}))?
    );
    Ok(())
}

fn pool_store_path(models: &ModelArgs, name: &str) -> Result<PathBuf> {
    Ok(onnx::ModelStore::locate(models.models_dir.as_deref())?.verified_path(name)?)
}
