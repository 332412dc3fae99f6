//! `cargo bench --bench redaction`: the redacted export's figures, measured. vtest.avi (frames 1–400); each
//! person of the ground truth (../shared/eval, read at run time, never committed) with ≥ 150 frames is the
//! requester in turn, marked on their middle frame by their ground-truth box. Judged from the output's pixels:
//! - requester visible: under half of their box hidden, share of their ground-truth frames (goal ≥ 95%);
//! - everyone else: ground-truth boxes at least half hidden (goal 100%);
//! - lost frames are checked to be masked whole; speed in fps (goal ≥ 30 at 768×576, 3× real time).
//!
//! It prints what it measured and writes target/redaction/report.txt; it fails only when a lost frame is not
//! masked whole. The goals are not met yet (docs/measurements.md), so this is a bench, not a test.

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use std::collections::BTreeMap;

/// Requesters tried: ground-truth ids with at least 150 frames in the first 400 (id 9 is in all 400).
const FRAMES: usize = 400;

fn eval_file() -> std::path::PathBuf {
    let p = std::env::var_os("GARIM_EVAL_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/eval"))
        .join("vtest-persons-gt-frames-1-400.txt");
    assert!(
        p.is_file(),
        "{}: the person ground truth of vtest.avi is needed (../shared/eval beside the checkout, or GARIM_EVAL_DIR)",
        p.display()
    );
    p
}

/// Share of the box's pixels that are hidden: black fill (Y ≤ 30, neutral chroma) in the output where the
/// source was not already that dark (pixels dark in the source tell nothing and are not counted), every 2 px.
fn covered(f: &Frame, src: &Frame, b: &detect::BBox) -> f64 {
    let (mut n, mut hit) = (0u32, 0u32);
    let x0 = b.x0.max(0.0) as u32;
    let y0 = b.y0.max(0.0) as u32;
    let x1 = (b.x1 as u32).min(f.width - 1);
    let y1 = (b.y1 as u32).min(f.height - 1);
    for y in (y0..=y1).step_by(2) {
        for x in (x0..=x1).step_by(2) {
            if src.luma(x, y) <= 45 {
                continue;
            }
            n += 1;
            let (u, v) = f.chroma(x, y);
            if f.luma(x, y) <= 30 && u.abs_diff(128) <= 10 && v.abs_diff(128) <= 10 {
                hit += 1;
            }
        }
    }
    if n == 0 {
        0.0
    } else {
        f64::from(hit) / f64::from(n)
    }
}

fn main() {
    let gt = stage::quality::parse_mot(&std::fs::read_to_string(eval_file()).unwrap()).unwrap();
    let mut frames_of: BTreeMap<i64, Vec<u64>> = BTreeMap::new();
    for (f, boxes) in &gt {
        for b in boxes {
            frames_of.entry(b.track).or_default().push(*f);
        }
    }
    let pool = site::DetectorPool::verify(&site::ModelOptions {
        models_dir: Some(models_dir()),
        ort_lib: None,
        threads: 2,
        face_width: 384,
        person_conf: detect::YoloxDecoder::default().conf_threshold,
        plate_recheck: detect::plate::PLATE_RECHECK,
    })
    .unwrap();
    let detector = pool
        .detector_for(&[
            detect::Class::Person,
            detect::Class::Face,
            detect::Class::Plate,
        ])
        .unwrap();
    pool.load_now().unwrap();
    let video = asset("vtest");
    let source = |f: &mut dyn FnMut(media::file::RawFrame, f64) -> anyhow::Result<()>| {
        let mut s = media::file::FileSource::open(&video)?;
        let mut i = 0usize;
        while let Some(frame) = s.next_frame()? {
            if i == FRAMES {
                break;
            }
            f(frame, i as f64 / 10.0)?;
            i += 1;
        }
        Ok(())
    };
    let sources = decode_file(&video, FRAMES);
    let work = repo_root().join("target/redaction");
    std::fs::create_dir_all(&work).unwrap();
    let mut report = Vec::new();
    let requesters: Vec<i64> = match std::env::var("GARIM_REDACT_ONLY") {
        Ok(id) => vec![id.parse().unwrap()],
        Err(_) => frames_of
            .iter()
            .filter(|(_, f)| f.len() >= 150)
            .map(|(id, _)| *id)
            .collect(),
    };
    for &id in &requesters {
        // The mark: the requester's ground-truth box on their middle frame.
        let fs = &frames_of[&id];
        let mid = fs[fs.len() / 2];
        let b = gt[&mid].iter().find(|g| g.track == id).unwrap().bbox;
        let mark = site::redaction::Mark {
            at: (mid - 1) as f64 / 10.0,
            bbox: [
                b.x0 / 768.0,
                b.y0 / 576.0,
                b.width() / 768.0,
                b.height() / 576.0,
            ],
        };
        let out = work.join(format!("requester-{id}.mp4"));
        let r = site::redaction::redacted_export(
            &source,
            detector.as_ref(),
            &mark,
            &format!("DSR-TEST-{id} 2026-12-01"),
            &[],
            &out,
        )
        .unwrap();
        assert_eq!(r.frames, FRAMES);
        let decoded = decode_file(&out, FRAMES + 10);
        let src = &sources;
        assert_eq!(decoded.len(), FRAMES, "output frames");
        let (mut seen, mut theirs, mut others, mut others_ok, mut whole) = (0, 0, 0, 0, 0);
        let mut worst_other = 1.0f64;
        for (i, f) in decoded.iter().enumerate() {
            let lost = r.lost_frames.contains(&i);
            if lost {
                whole += 1;
                // A lost frame is masked whole (the watermark band aside).
                let mid = detect::BBox {
                    x0: 0.0,
                    y0: 40.0,
                    x1: 767.0,
                    y1: 575.0,
                };
                assert!(
                    covered(f, &src[i], &mid) > 0.97,
                    "requester {id}: lost frame {i} is not masked whole"
                );
            }
            for g in gt.get(&(i as u64 + 1)).into_iter().flatten() {
                let c = covered(f, &src[i], &g.bbox);
                if g.track == id {
                    theirs += 1;
                    seen += usize::from(c < 0.5);
                    if std::env::var_os("GARIM_REDACT_DEBUG").is_some() {
                        let iou = r.requester[i].map(|t| {
                            g.bbox.iou(&detect::BBox {
                                x0: t[0],
                                y0: t[1],
                                x1: t[2],
                                y1: t[3],
                            })
                        });
                        eprintln!("  {id} frame {i}: track iou {iou:?} covered {c:.2}");
                    }
                } else {
                    others += 1;
                    others_ok += usize::from(c >= 0.5);
                    if c < 0.5 && std::env::var_os("GARIM_REDACT_DEBUG").is_some() {
                        eprintln!(
                            "  LEAK frame {i}: person {} covered {c:.2} (requester {:?})",
                            g.track, r.requester[i]
                        );
                    }
                    worst_other = worst_other.min(c);
                }
            }
        }
        let visible = seen as f64 / theirs as f64;
        let line = format!(
            "requester {id:>2}: visible in {seen}/{theirs} of their frames ({:.1}%), others ≥ 50% covered {others_ok}/{others} (least {:.0}%), {whole} frames masked whole, {:.1} s ({:.1} fps)",
            100.0 * visible,
            100.0 * worst_other,
            r.seconds,
            FRAMES as f64 / r.seconds
        );
        eprintln!("{line}");
        report.push(line);
    }
    std::fs::write(work.join("report.txt"), report.join("\n") + "\n").unwrap();
    println!("{}", report.join("\n"));
}
