//! The camera's one encode: with no recording zones the recording is the live stream's H.264 (muxed, encrypted,
//! never re-encoded) and still decrypts and plays; with zones the recording keeps only the zones while the
//! live picture stays whole. A fake detector that finds nothing keeps detection out of it (no models needed).

use detect::{DetectError, Detection, Detector, TrackerConfig};
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use mask::{FrameRef, MaskStyle, Polygon};
use media::{CameraRunner, EncodeSettings, Feed, RtspOut, SimCamera};
use stage::StageConfig;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Nothing;
impl Detector for Nothing {
    fn detect(&self, _: &FrameRef<'_>) -> Result<Vec<Detection>, DetectError> {
        Ok(Vec::new())
    }
    fn name(&self) -> &str {
        "nothing"
    }
}

fn temp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("garim-encode-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Colour bars (no black anywhere), 320×240 at 10 fps, 8 s.
fn bars(dir: &Path) -> PathBuf {
    media::init().unwrap();
    let out = dir.join("bars.mp4");
    let p = gst::parse::launch(&format!(
        "videotestsrc num-buffers=80 pattern=smpte ! video/x-raw,width=320,height=240,framerate=10/1 \
         ! x264enc speed-preset=ultrafast key-int-max=10 ! h264parse ! mp4mux ! filesink location={}",
        out.display()
    ))
    .unwrap();
    run_to_eos(&p);
    out
}

fn run_to_eos(p: &gst::Element) {
    p.set_state(gst::State::Playing).unwrap();
    let msg = p
        .bus()
        .unwrap()
        .timed_pop_filtered(
            gst::ClockTime::from_seconds(60),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        )
        .expect("pipeline finished");
    assert!(matches!(msg.view(), gst::MessageView::Eos(_)), "{msg:?}");
    p.set_state(gst::State::Null).unwrap();
}

/// Luma planes of every frame of a file (or of `max` frames of an RTSP URL).
fn frames(desc: &str, max: usize) -> Vec<Vec<u8>> {
    let p = gst::parse::launch(&format!(
        "{desc} ! decodebin ! videoconvert ! video/x-raw,format=GRAY8 ! appsink name=s sync=false"
    ))
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let sink = p
        .by_name("s")
        .unwrap()
        .downcast::<gst_app::AppSink>()
        .unwrap();
    p.set_state(gst::State::Playing).unwrap();
    let mut out = Vec::new();
    let until = Instant::now() + Duration::from_secs(20);
    while out.len() < max && Instant::now() < until {
        match sink.try_pull_sample(gst::ClockTime::from_mseconds(500)) {
            Some(s) => {
                let b = s.buffer().unwrap().map_readable().unwrap();
                out.push(b.as_slice().to_vec());
            }
            None if sink.is_eos() => break,
            None => {}
        }
    }
    p.set_state(gst::State::Null).unwrap();
    out
}

struct Run {
    exported: Vec<Vec<u8>>,
    live: Vec<Vec<u8>>,
    segments: usize,
    frames_out: u64,
}

fn record(tag: &str, zones: Vec<Polygon>) -> Run {
    let dir = temp(tag);
    let video = bars(&dir);
    let sim = SimCamera::start(&video, "127.0.0.1", 0, "cam").unwrap();
    let vault =
        Arc::new(vault::Vault::open(&dir.join("vault"), vault::SecretKey::random()).unwrap());
    let rtsp = RtspOut::start("127.0.0.1", 0).unwrap();
    let id = format!("enc-{tag}");
    let spec = media::camera::CameraSpec {
        id: id.clone(),
        url: policy::SecretUrl::new(sim.url()),
        stage: StageConfig {
            camera: id.clone(),
            deadline: Duration::from_millis(500),
            detect_every: 1,
            style: MaskStyle::BLACK,
            privacy_masks: Vec::new(),
            recording_zones: zones,
            motion_gate: false,
            tracker: TrackerConfig::default(),
        },
        detector: Arc::new(Nothing),
        live: Some(rtsp.mount_fed(&id, Feed::H264).unwrap()),
        record: Some((vault.clone(), Duration::from_secs(2))),
        sealed: None,
        scene: None,
        encode: EncodeSettings::default(),
    };
    let cam = CameraRunner::spawn(spec).unwrap();
    let live = frames(
        &format!(
            "rtspsrc location=rtsp://127.0.0.1:{}/{id} protocols=tcp latency=0",
            rtsp.port()
        ),
        30,
    );
    std::thread::sleep(Duration::from_secs(3));
    let frames_out = cam.status().frames_out;
    let segments = cam.stop();
    let out = dir.join("export.mp4");
    let (file, _) = media::export::export(&vault, &id, 0, i64::MAX, None, &out).unwrap();
    let exported = frames(&format!("filesrc location={}", file.display()), usize::MAX);
    Run {
        exported,
        live,
        segments: segments.len(),
        frames_out,
    }
}

const W: usize = 320;

fn luma(f: &[u8], x: usize, y: usize) -> u8 {
    f[y * W + x]
}

#[test]
fn without_zones_the_recording_is_the_live_encode_and_plays() {
    let encoded_before = telemetry::metrics()
        .frames_total
        .with_label_values(&["enc-shared", telemetry::stage::ENCODED])
        .get();
    let run = record("shared", Vec::new());
    assert!(run.live.len() >= 20, "live: {} frames", run.live.len());
    // Several segments, each starting at a key frame: together they play as one file.
    assert!(run.segments >= 2, "{} segments", run.segments);
    let n = run.exported.len() as u64;
    assert!(
        n * 10 >= run.frames_out * 8 && n <= run.frames_out,
        "{n} frames exported of {} sent",
        run.frames_out
    );
    // The picture is whole: the bars' white bar (left) is bright in the recording.
    let f = &run.exported[run.exported.len() / 2];
    assert!(luma(f, 20, 60) > 150, "bar luma {}", luma(f, 20, 60));
    let encoded = telemetry::metrics()
        .frames_total
        .with_label_values(&["enc-shared", telemetry::stage::ENCODED])
        .get()
        - encoded_before;
    assert!(encoded >= n, "{encoded} frames encoded, {n} recorded");
}

#[test]
fn with_zones_the_recording_keeps_only_the_zone_and_live_stays_whole() {
    // The right half is the recording zone.
    let zone = Polygon(vec![[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]);
    let run = record("zones", vec![zone]);
    assert!(!run.exported.is_empty() && !run.live.is_empty());
    let rec = &run.exported[run.exported.len() / 2];
    let live = &run.live[run.live.len() / 2];
    assert!(
        luma(rec, 20, 60) < 40,
        "outside the zone recorded: {}",
        luma(rec, 20, 60)
    );
    assert!(
        luma(live, 20, 60) > 150,
        "live lost the left half: {}",
        luma(live, 20, 60)
    );
    // Inside the zone both show the bars (the right of the top row is not black).
    assert!(luma(rec, 250, 60) > 40 && luma(live, 250, 60) > 40);
}

/// Every sample of `desc ! appsink name=s` until EOS (or 10 s without one).
fn samples(desc: &str) -> Vec<gst::Sample> {
    let p = gst::parse::launch(&format!("{desc} ! appsink name=s sync=false"))
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
    let sink = p
        .by_name("s")
        .unwrap()
        .downcast::<gst_app::AppSink>()
        .unwrap();
    p.set_state(gst::State::Playing).unwrap();
    let mut out = Vec::new();
    while let Some(s) = sink.try_pull_sample(gst::ClockTime::from_seconds(10)) {
        out.push(s);
    }
    p.set_state(gst::State::Null).unwrap();
    out
}

/// H.264 access units of `n` frames of bars (320×240), as the camera's one encode gives them.
fn access_units(n: usize) -> Vec<(gst::Buffer, gst::Caps, bool)> {
    samples(&format!(
        "videotestsrc num-buffers={n} ! video/x-raw,width=320,height=240,framerate=10/1 \
         ! x264enc tune=zerolatency key-int-max=10 ! video/x-h264,stream-format=byte-stream,alignment=au"
    ))
    .into_iter()
    .map(|s| {
        let b = s.buffer_owned().unwrap();
        let key = !b.flags().contains(gst::BufferFlags::DELTA_UNIT);
        (b, s.caps().unwrap().to_owned(), key)
    })
    .collect()
}

/// A camera's first frames can come in a burst on one time. The recording keeps its times strictly increasing,
/// so the export (whose muxer refuses a frame without a PTS) plays every frame.
#[test]
fn access_units_on_one_time_still_export() {
    let dir = temp("burst");
    let vault =
        Arc::new(vault::Vault::open(&dir.join("vault"), vault::SecretKey::random()).unwrap());
    let mut rec =
        media::recorder::Recorder::start("burst", vault.clone(), Duration::from_secs(60), None)
            .unwrap();
    let units = access_units(30);
    assert_eq!(units.len(), 30);
    for (i, (mut b, caps, key)) in units.into_iter().enumerate() {
        // The first 5 on the time of the 5th; then 100 ms apart.
        let t = gst::ClockTime::from_mseconds(100 * i.max(4) as u64);
        {
            let b = b.make_mut();
            b.set_pts(t);
            b.set_dts(t);
        }
        rec.push_encoded(b, &caps, key);
    }
    let segments = rec.finish(Duration::from_secs(10)).unwrap();
    assert_eq!(segments.len(), 1);
    // The segment itself: every sample later than the one before.
    let plain = vault.read(&segments[0]).unwrap();
    let seg = dir.join("segment.mp4");
    std::fs::write(&seg, &plain).unwrap();
    let times: Vec<_> = samples(&format!("filesrc location={} ! qtdemux", seg.display()))
        .iter()
        .map(|s| s.buffer().unwrap().pts())
        .collect();
    assert_eq!(times.len(), 30);
    assert!(
        times.iter().all(Option::is_some) && times.windows(2).all(|w| w[1] > w[0]),
        "sample times: {times:?}"
    );
    let out = dir.join("burst.mp4");
    let (file, _) =
        media::export::export(&vault, "burst", 0, i64::MAX, None, &out).expect("the burst exports");
    let n = frames(&format!("filesrc location={}", file.display()), usize::MAX).len();
    assert_eq!(n, 30, "{n} of 30 frames exported");
}

/// An export joins segment after segment, decrypting each only as the join nears it; a segment that fails
/// authentication stops it, and neither the output nor its `.part` is left.
#[test]
fn an_export_joins_many_segments_and_a_tampered_one_leaves_no_output() {
    let dir = temp("many");
    let vault =
        Arc::new(vault::Vault::open(&dir.join("vault"), vault::SecretKey::random()).unwrap());
    let mut rec =
        media::recorder::Recorder::start("many", vault.clone(), Duration::from_secs(1), None)
            .unwrap();
    // 6 s at 10 fps, a key frame each second, pushed in real time: a segment a second.
    for (i, (mut b, caps, key)) in access_units(60).into_iter().enumerate() {
        let t = gst::ClockTime::from_mseconds(100 * i as u64);
        {
            let b = b.make_mut();
            b.set_pts(t);
            b.set_dts(t);
        }
        rec.push_encoded(b, &caps, key);
        std::thread::sleep(Duration::from_millis(100));
    }
    let segments = rec.finish(Duration::from_secs(10)).unwrap();
    assert!(segments.len() >= 4, "{} segments", segments.len());
    let out = dir.join("all.mp4");
    let (file, joined) =
        media::export::export(&vault, "many", 0, i64::MAX, None, &out).expect("exports");
    assert_eq!(joined, segments.len());
    let n = frames(&format!("filesrc location={}", file.display()), usize::MAX).len();
    assert_eq!(n, 60, "{n} of 60 frames exported");
    // One byte of the third segment flipped.
    let victim = &segments[2].path;
    let mut bytes = std::fs::read(victim).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    std::fs::write(victim, bytes).unwrap();
    let out = dir.join("tampered.mp4");
    let e = media::export::export(&vault, "many", 0, i64::MAX, None, &out)
        .expect_err("a tampered segment stops the export");
    assert!(format!("{e:#}").contains("export stopped"), "{e:#}");
    assert!(
        !out.exists() && !dir.join("tampered.mp4.part").exists(),
        "an output was left"
    );
}

/// A server dropped at once (a site that fails to start right after opening its RTSP port) stops: it used to
/// wait forever for a thread whose loop had not begun when it was told to quit.
#[test]
fn an_rtsp_server_dropped_at_once_stops() {
    media::init().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for _ in 0..50 {
            drop(RtspOut::start("127.0.0.1", 0).unwrap());
        }
        tx.send(()).unwrap();
    });
    assert!(
        rx.recv_timeout(Duration::from_secs(60)).is_ok(),
        "50 servers started and dropped at once did not all stop within 60 s"
    );
}
