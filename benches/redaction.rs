//! `cargo bench --bench redaction`: the redacted export's figures, measured. vtest.avi (frames 1–400); each
//! person of the ground truth (../shared/eval, read at run time, never committed) with ≥ 150 frames is the
//! requester in turn.
//!
//! The operator is simulated from the ground truth, doing only what the console lets a person do: mark the
//! requester on their middle frame, then look through the review frames (one a second) and, at the first
//! wrong one, click the requester there ("this is them", which also says the box shown is not) or say "not
//! them"; when every review frame is right, confirm. Each is one action; the number is printed (goal: the
//! usual case in ≤ 3).
//!
//! Judged from the output's pixels:
//! - requester visible: under half of their box hidden, share of their ground-truth frames (goal ≥ 95%);
//! - everyone else: ground-truth boxes at least half hidden (goal 100% of frames);
//! - lost frames are checked to be masked whole; speed in fps of detection + render (goal ≥ 30 at 768×576,
//!   3× real time).
//!
//! It prints what it measured and writes target/redaction/report.txt. `GARIM_REDACT_CACHE=1` reuses the
//! detections of an earlier run (target/redaction/window.txt) and says so. `GARIM_REDACT_MINUTES=10` measures
//! instead the speed of a 10-minute window (target/redaction/long.txt).

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use std::collections::BTreeMap;

/// Requesters tried: ground-truth ids with at least 150 frames in the first 400 (id 9 is in all 400).
const FRAMES: usize = 400;

/// Pass 1 written out (or read back), so tuning the follower need not detect again.
fn save_window(w: &site::redaction::Window, path: &std::path::Path, seconds: f64) {
    use std::fmt::Write;
    let mut out = format!(
        "window {} {} {} {seconds}\n",
        w.size.0,
        w.size.1,
        w.dets.len()
    );
    for (i, d) in w.dets.iter().enumerate() {
        writeln!(out, "F {} {}", u8::from(w.failed[i]), w.times[i]).unwrap();
        for p in &d.persons {
            write!(
                out,
                "P {} {} {} {}",
                p.bbox.x0, p.bbox.y0, p.bbox.x1, p.bbox.y1
            )
            .unwrap();
            for v in &p.hist.0 {
                write!(out, " {v}").unwrap();
            }
            out.push('\n');
        }
        for o in &d.others {
            let b = o.bbox;
            writeln!(
                out,
                "O {} {} {} {} {} {}",
                o.class.as_str(),
                o.score,
                b.x0,
                b.y0,
                b.x1,
                b.y1
            )
            .unwrap();
        }
    }
    std::fs::write(path, out).unwrap();
}

fn load_window(path: &std::path::Path) -> Option<(site::redaction::Window, f64)> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next()?.split(' ').collect();
    let mut w = site::redaction::Window {
        dets: Vec::new(),
        failed: Vec::new(),
        times: Vec::new(),
        size: (head[1].parse().ok()?, head[2].parse().ok()?),
    };
    let seconds: f64 = head[4].parse().ok()?;
    for l in lines {
        let f: Vec<&str> = l.split(' ').collect();
        let num = |i: usize| f[i].parse::<f32>().unwrap();
        let bbox = |i: usize| detect::BBox {
            x0: num(i),
            y0: num(i + 1),
            x1: num(i + 2),
            y1: num(i + 3),
        };
        match f[0] {
            "F" => {
                w.dets.push(redact::FrameDets::default());
                w.failed.push(f[1] == "1");
                w.times.push(f[2].parse().unwrap());
            }
            "P" => {
                let mut h = [0f32; redact::BINS];
                for (k, v) in h.iter_mut().enumerate() {
                    *v = num(5 + k);
                }
                w.dets.last_mut()?.persons.push(redact::Person {
                    bbox: bbox(1),
                    hist: redact::Hist(h),
                });
            }
            "O" => w.dets.last_mut()?.others.push(detect::Detection {
                class: f[1].parse().unwrap(),
                score: num(2),
                bbox: bbox(3),
            }),
            _ => return None,
        }
    }
    Some((w, seconds))
}

fn mark_of(b: &detect::BBox, at: usize) -> site::redaction::Mark {
    site::redaction::Mark {
        at: at as f64 / 10.0,
        bbox: [
            b.x0 / 768.0,
            b.y0 / 576.0,
            b.width() / 768.0,
            b.height() / 576.0,
        ],
    }
}

/// The simulated operator (see the top of this file): the review it ends with, its proposal and the actions.
fn operate(
    window: &site::redaction::Window,
    truth: &BTreeMap<usize, detect::BBox>,
    first: usize,
) -> (site::redaction::OperatorReview, redact::Proposal, usize) {
    let clickable =
        |f: usize, t: &detect::BBox| window.dets[f].persons.iter().any(|p| p.bbox.iou(t) >= 0.3);
    let mut review = site::redaction::OperatorReview {
        marks: vec![mark_of(&truth[&first], first)],
        ..Default::default()
    };
    let mut actions = 1;
    loop {
        let p = window
            .propose(&review)
            .expect("the marks lie on detected people");
        if std::env::var_os("GARIM_REDACT_DEBUG").is_some() && actions == 1 {
            let t = truth[&first];
            let d: Vec<_> = window.dets[first]
                .persons
                .iter()
                .map(|p| (p.bbox, p.bbox.iou(&t)))
                .collect();
            eprintln!(
                "  mark on {first}: truth {t:?}; shown {:?}; detections {d:?}",
                p.track[first]
            );
        }
        // Looked through outward from the first mark, nearest first.
        let mut frames = p.review_frames(10);
        frames.sort_by_key(|&f| f.abs_diff(first));
        // Where they are on a frame: the ground truth, or between its boxes on either side (the annotation
        // skips frames where they are hidden); what the operator would see of them.
        let at = |f: usize| truth_at(truth, f);
        let wrong = frames.into_iter().find_map(|f| {
            let shown = p.track[f];
            let real = at(f);
            let real = real.as_ref();
            match (shown, real) {
                (Some(s), Some(t)) if s.iou(t) >= 0.3 => None,
                (None, None) => None,
                (Some(s), Some(t)) if clickable(f, t) => Some((f, Some(*t), Some(s))),
                (Some(s), Some(_)) => Some((f, None, Some(s))),
                // Not in this frame: before they came in or after they left, "not in this frame" (which
                // says so); hidden meanwhile (no ground truth for a while), "not them".
                (Some(s), None) => {
                    let (seen_before, seen_after) = (
                        truth.range(..f).next().is_some(),
                        truth.range(f..).next().is_some(),
                    );
                    if (f < first && !seen_before) || (f > first && !seen_after) {
                        Some((f, None, None))
                    } else {
                        Some((f, None, Some(s)))
                    }
                }
                // Lost while they are there: the operator scrubs to a frame nearby where they can be
                // clicked (within the second).
                (None, Some(_)) => (0..=5)
                    .flat_map(|k| [f + k, f.saturating_sub(k)])
                    .find(|g| {
                        p.track.get(*g) == Some(&None) && at(*g).is_some_and(|t| clickable(*g, &t))
                    })
                    .map(|g| (g, at(g), None)),
            }
        });
        match wrong {
            Some((f, them, not)) if actions < 12 => {
                if std::env::var_os("GARIM_REDACT_DEBUG").is_some() {
                    eprintln!(
                        "  operator: frame {f}: them {them:?}, not {not:?}, suggested {}, truth {:?}",
                        p.suggested[f],
                        truth.get(&f)
                    );
                }
                if let Some(t) = them {
                    review.marks.push(mark_of(&t, f));
                }
                match (them, not) {
                    (_, Some(s)) => review.not_them.push(mark_of(&s, f)),
                    (None, None) => review.absent.push(f as f64 / 10.0),
                    _ => {}
                }
                actions += 1;
            }
            // Right everywhere: confirmed. Still wrong after 12 actions: the operator gives up unconfirmed
            // (only what the follower decided alone is kept).
            Some(_) => return (review, p, actions),
            None => {
                review.confirmed = true;
                actions += 1;
                return (review, p, actions);
            }
        }
    }
}

/// Person, face and plate detection as a redacted export runs it (2 inference threads); the pool holds it.
fn detector() -> (site::DetectorPool, std::sync::Arc<dyn detect::Detector>) {
    let pool = site::DetectorPool::verify(&site::ModelOptions {
        models_dir: Some(models_dir()),
        ort_lib: None,
        threads: 2,
        face_width: 384,
        person_conf: detect::YoloxDecoder::default().conf_threshold,
        plate_recheck: detect::plate::PLATE_RECHECK,
        hardware: None,
        engine_cache: None,
    })
    .unwrap();
    let detector = pool
        .loaded_footage_detector_for(&[
            detect::Class::Person,
            detect::Class::Face,
            detect::Class::Plate,
        ])
        .unwrap();
    (pool, detector)
}

/// The first `frames` frames of `video` (looped when shorter), each with its time at 10 fps.
fn play(
    video: &std::path::Path,
    frames: usize,
    f: &mut dyn FnMut(media::file::RawFrame, f64) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut i = 0usize;
    while i < frames {
        let start = i;
        let mut s = media::file::FileSource::open(video)?;
        while let Some(frame) = s.next_frame()? {
            if i == frames {
                break;
            }
            f(frame, i as f64 / 10.0)?;
            i += 1;
        }
        anyhow::ensure!(i > start, "{}: no frames", video.display());
    }
    Ok(())
}

/// Peak resident memory of this process (MiB).
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// `GARIM_REDACT_MINUTES=10`: the speed of a long window, vtest (768×576@10, 4+ people) looped to that many
/// minutes: pass 1, then the render of a confirmed one-mark review (the first person on the middle frame).
fn long_window(minutes: f64) {
    let frames = (minutes * 600.0).round() as usize;
    let video = asset("vtest");
    let source = |f: &mut dyn FnMut(media::file::RawFrame, f64) -> anyhow::Result<()>| {
        play(&video, frames, f)
    };
    let (_pool, detector) = detector();
    let t = std::time::Instant::now();
    let window = site::redaction::detect_window(&source, detector.as_ref()).unwrap();
    let detect_secs = t.elapsed().as_secs_f64();
    let (at, p) = (frames / 2..frames)
        .find_map(|i| window.dets[i].persons.first().map(|p| (i, p.bbox)))
        .expect("someone on the middle frames");
    let review = site::redaction::OperatorReview {
        marks: vec![mark_of(&p, at)],
        confirmed: true,
        ..Default::default()
    };
    let proposal = window.propose(&review).unwrap();
    let out = repo_root().join("target/redaction/long.mp4");
    let r =
        site::redaction::render(&source, &window, &proposal, true, "DSR-LONG", &[], &out).unwrap();
    let total = detect_secs + r.seconds;
    let line = format!(
        "{minutes} min of 768×576@10 ({frames} frames, vtest looped): pass 1 {detect_secs:.1} s, render {:.1} s: {:.2}× real time; peak RSS {:.0} MiB",
        r.seconds,
        minutes * 60.0 / total,
        peak_rss_mib()
    );
    println!("{line}");
    std::fs::write(repo_root().join("target/redaction/long.txt"), line + "\n").unwrap();
}

fn main() {
    if let Some(m) = std::env::var("GARIM_REDACT_MINUTES")
        .ok()
        .and_then(|m| m.parse().ok())
    {
        std::fs::create_dir_all(repo_root().join("target/redaction")).unwrap();
        return long_window(m);
    }
    let gt =
        stage::quality::parse_mot(&std::fs::read_to_string(vtest_truth_file()).unwrap()).unwrap();
    let mut frames_of: BTreeMap<i64, Vec<u64>> = BTreeMap::new();
    for (f, boxes) in &gt {
        for b in boxes {
            frames_of.entry(b.track).or_default().push(*f);
        }
    }
    let video = asset("vtest");
    let source = |f: &mut dyn FnMut(media::file::RawFrame, f64) -> anyhow::Result<()>| {
        play(&video, FRAMES, f)
    };
    let work = repo_root().join("target/redaction");
    std::fs::create_dir_all(&work).unwrap();
    let cache = work.join("window.txt");
    let cached = std::env::var_os("GARIM_REDACT_CACHE")
        .and_then(|_| load_window(&cache))
        .filter(|(w, _)| w.dets.len() == FRAMES);
    let (window, detect_secs) = match cached {
        Some(c) => {
            eprintln!(
                "detections read back from {} (GARIM_REDACT_CACHE)",
                cache.display()
            );
            c
        }
        None => {
            let (_pool, detector) = detector();
            let t = std::time::Instant::now();
            let w = site::redaction::detect_window(&source, detector.as_ref()).unwrap();
            let secs = t.elapsed().as_secs_f64();
            save_window(&w, &cache, secs);
            (w, secs)
        }
    };
    assert_eq!(window.dets.len(), FRAMES);
    let sources = decode_file(&video, FRAMES);
    let mut report = vec![format!(
        "pass 1 (detect person, face, plate on {FRAMES} frames): {detect_secs:.1} s ({:.1} fps)",
        FRAMES as f64 / detect_secs
    )];
    let requesters: Vec<i64> = match std::env::var("GARIM_REDACT_ONLY") {
        Ok(id) => vec![id.parse().unwrap()],
        Err(_) => frames_of
            .iter()
            .filter(|(_, f)| f.len() >= 150)
            .map(|(id, _)| *id)
            .collect(),
    };
    for &id in &requesters {
        // The operator marks the requester's ground-truth box on their middle frame, then reviews.
        // What the operator sees: every annotated box of theirs, those the scoring ignores (flag 0, mostly
        // hidden) too.
        let truth: BTreeMap<usize, detect::BBox> = std::fs::read_to_string(vtest_truth_file())
            .unwrap()
            .lines()
            .filter_map(|l| {
                let v: Vec<f32> = l.split(',').filter_map(|x| x.trim().parse().ok()).collect();
                (v.len() >= 6 && v[1] as i64 == id).then(|| {
                    let b = detect::BBox {
                        x0: v[2],
                        y0: v[3],
                        x1: v[2] + v[4],
                        y1: v[3] + v[5],
                    };
                    (v[0] as usize - 1, b)
                })
            })
            .collect();
        let fs = &frames_of[&id];
        let mid = (fs[fs.len() / 2] - 1) as usize;
        let (review, proposal, actions) = operate(&window, &truth, mid);
        // Frames where another ground-truth person lies mostly (70%) inside the requester's proposed box,
        // against the frames the proposal masks whole as uncertain.
        let (mut caught, mut missed, mut needless) = (0, 0, 0);
        for (i, t) in proposal.track.iter().enumerate() {
            let Some(t) = t else { continue };
            let inside = gt
                .get(&(i as u64 + 1))
                .into_iter()
                .flatten()
                .any(|o| o.track != id && redact::within(&o.bbox, t) >= 0.7);
            match (inside, proposal.uncertain[i]) {
                (true, true) => caught += 1,
                (true, false) => missed += 1,
                (false, true) => needless += 1,
                _ => {}
            }
        }
        let out = work.join(format!("requester-{id}.mp4"));
        let r = site::redaction::render(
            &source,
            &window,
            &proposal,
            review.confirmed,
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
        // Why a frame of theirs is hidden: masked whole as uncertain, their track lost, the track on someone
        // else, or their box covered by others' masks.
        let (mut uncertain, mut lost_here, mut wrong, mut covered) = (0, 0, 0, 0);
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
                    black_covered(f, &src[i], &mid) > 0.97,
                    "requester {id}: lost frame {i} is not masked whole"
                );
            }
            for g in gt.get(&(i as u64 + 1)).into_iter().flatten() {
                let c = black_covered(f, &src[i], &g.bbox);
                if g.track == id {
                    theirs += 1;
                    seen += usize::from(c < 0.5);
                    if c >= 0.5 {
                        let box_of = |t: [f32; 4]| detect::BBox {
                            x0: t[0],
                            y0: t[1],
                            x1: t[2],
                            y1: t[3],
                        };
                        match r.requester[i].map(box_of) {
                            None if proposal.uncertain[i] => uncertain += 1,
                            None => lost_here += 1,
                            Some(t) if t.iou(&g.bbox) < 0.3 => wrong += 1,
                            Some(_) => covered += 1,
                        }
                    }
                    if std::env::var_os("GARIM_REDACT_DEBUG").is_some() {
                        let iou = r.requester[i].map(|t| {
                            g.bbox.iou(&detect::BBox {
                                x0: t[0],
                                y0: t[1],
                                x1: t[2],
                                y1: t[3],
                            })
                        });
                        let near = gt
                            .get(&(i as u64 + 1))
                            .into_iter()
                            .flatten()
                            .filter(|o| o.track != id)
                            .map(|o| o.bbox.iou(&g.bbox))
                            .fold(0.0f32, f32::max);
                        eprintln!(
                            "  {id} frame {i}: track iou {iou:?} covered {c:.2} nearest other gt iou {near:.2}"
                        );
                        if c >= 0.5 && near < 0.2 {
                            let d: Vec<_> = window.dets[i]
                                .persons
                                .iter()
                                .map(|p| (p.bbox.iou(&g.bbox) * 100.0).round())
                                .collect();
                            let o: Vec<_> = window.dets[i]
                                .others
                                .iter()
                                .map(|p| (p.class.as_str(), (p.bbox.iou(&g.bbox) * 100.0).round()))
                                .collect();
                            eprintln!(
                                "     persons iou% {d:?} others {o:?} track {:?} suggested {}",
                                r.requester[i], proposal.suggested[i]
                            );
                            let track = proposal.decided(review.confirmed);
                            let carried = redact::others(
                                &window.dets,
                                &proposal.theirs(review.confirmed),
                                site::redaction::carry(),
                            );
                            if let redact::Plan::Boxes { hide, .. } =
                                redact::plan(&window.dets, &track, &carried, i)
                            {
                                let h: Vec<_> = hide
                                    .iter()
                                    .map(|b| (b.iou(&g.bbox) * 100.0).round())
                                    .filter(|v| *v > 0.0)
                                    .collect();
                                eprintln!(
                                    "     hide iou% {h:?}; carried {:?}",
                                    carried[i]
                                        .iter()
                                        .filter(|b| b.iou(&g.bbox) > 0.0)
                                        .collect::<Vec<_>>()
                                );
                            } else {
                                eprintln!("     whole");
                            }
                        }
                    }
                } else {
                    others += 1;
                    others_ok += usize::from(c >= 0.5);
                    // Under half covered is a leak; under 60%, near one (the margin against noise).
                    if c < 0.6 && std::env::var_os("GARIM_REDACT_DEBUG").is_some() {
                        eprintln!(
                            "  {} frame {i}: person {} covered {c:.2} (requester {:?})",
                            if c < 0.5 { "LEAK" } else { "NEAR" },
                            g.track,
                            r.requester[i]
                        );
                        let d: Vec<_> = window.dets[i]
                            .persons
                            .iter()
                            .map(|p| ((p.bbox.iou(&g.bbox) * 100.0).round(), p.bbox))
                            .filter(|x| x.0 > 0.0)
                            .collect();
                        eprintln!("     their gt {:?}; detections on them {d:?}", g.bbox);
                    }
                    worst_other = worst_other.min(c);
                }
            }
        }
        let visible = seen as f64 / theirs as f64;
        let line = format!(
            "requester {id:>2}: {actions} operator actions ({} marks, {} not-them, {} not-in-frame, {}confirmed), visible in {seen}/{theirs} of their frames ({:.1}%), others ≥ 50% covered {others_ok}/{others} (least {:.0}%), {whole} frames masked whole ({} uncertain, {} lost, {} unconfirmed suggestion), render {:.1} s, detect + render {:.1} fps; hidden where uncertain {uncertain}, lost {lost_here}, on someone else {wrong}, under others' masks {covered}; uncertain frames with someone inside their box {caught}, without {needless}, such frames missed {missed}",
            review.marks.len(),
            review.not_them.len(),
            review.absent.len(),
            if review.confirmed { "" } else { "NOT " },
            100.0 * visible,
            100.0 * worst_other,
            proposal.uncertain.iter().filter(|c| **c).count(),
            proposal.track.iter().filter(|t| t.is_none()).count(),
            if review.confirmed {
                0
            } else {
                proposal.suggested.iter().filter(|c| **c).count()
            },
            r.seconds,
            FRAMES as f64 / (detect_secs + r.seconds)
        );
        eprintln!("{line}");
        report.push(line);
    }
    std::fs::write(work.join("report.txt"), report.join("\n") + "\n").unwrap();
    println!("{}", report.join("\n"));
}
