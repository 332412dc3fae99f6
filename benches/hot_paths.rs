//! Micro-benchmarks of the per-frame hot paths (no models, no GStreamer): mask styles on a 1280×720 frame,
//! model input preparation, tracker update. `cargo bench -p garim --bench hot_paths` prints the median and
//! p90 of each; the end-to-end figures come from `garim bench`.

use detect::{BBox, Class, Detection, Tracker, TrackerConfig, crop_resize_rgb, letterbox_bgr};
use mask::{Coverage, FrameMut, FrameRef, Layout, MaskStyle, PixelFormat, RectPx};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn measure(name: &str, iters: usize, mut f: impl FnMut()) {
    f(); // warm-up
    let mut samples: Vec<Duration> = (0..iters)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name:<44} median {:>8.3} ms   p90 {:>8.3} ms   ({iters} runs)",
        ms(samples[iters / 2]),
        ms(samples[iters * 9 / 10])
    );
}

fn textured(w: u32, h: u32) -> (Layout, Vec<u8>) {
    let l = Layout::packed(PixelFormat::I420, w, h);
    let data = (0..l.min_len()).map(|i| (i * 31 % 251) as u8).collect();
    (l, data)
}

/// Encrypting a segment (STREAM, ChaCha20-Poly1305) against writing it in the clear, in MB/s.
fn vault_throughput() {
    let dir = std::env::temp_dir().join(format!("garim-bench-vault-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data: Vec<u8> = (0..(64 << 20)).map(|i| (i % 251) as u8).collect();
    let key = vault::SecretKey::random();
    let t = Instant::now();
    let mut w = vault::SegmentWriter::create(&dir.join("a.gseg"), &key).unwrap();
    for c in data.chunks(1 << 16) {
        w.write(c).unwrap();
    }
    w.finish().unwrap();
    let enc = t.elapsed();
    let t = Instant::now();
    std::fs::write(dir.join("b.mp4"), &data).unwrap();
    std::fs::File::open(dir.join("b.mp4"))
        .unwrap()
        .sync_all()
        .unwrap();
    let plain = t.elapsed();
    let mbps = |d: Duration| 64.0 / d.as_secs_f64();
    // A 2 Mbit/s camera writes 0.25 MB/s.
    println!(
        "vault: encrypt+write {:.0} MB/s, plain write {:.0} MB/s; one core encrypts ~{:.0} cameras at 2 Mbit/s",
        mbps(enc),
        mbps(plain),
        mbps(enc) / 0.25
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    vault_throughput();
    let (l, data) = textured(1280, 720);
    let mut cov = Coverage::new(1280, 720);
    for i in 0..10 {
        let x = 40 + i * 120;
        cov.add_rect(RectPx {
            x0: x,
            y0: 200,
            x1: x + 100,
            y1: 400,
        });
    }
    for (name, style) in [
        ("mask 10 boxes 100x200, pixelate", MaskStyle::pixelate()),
        ("mask 10 boxes 100x200, blur", MaskStyle::blur()),
        ("mask 10 boxes 100x200, fill", MaskStyle::BLACK),
    ] {
        let mut frame = data.clone();
        measure(name, 200, || {
            mask::apply(&mut FrameMut::new(l, &mut frame).unwrap(), &cov, style).unwrap();
        });
    }
    let mut frame = data.clone();
    measure("mask whole frame (fail-closed), pixelate", 100, || {
        mask::mask_whole(
            &mut FrameMut::new(l, &mut frame).unwrap(),
            MaskStyle::pixelate(),
        );
    });
    let f = FrameRef::new(l, &data).unwrap();
    measure("letterbox 1280x720 → 416x416 BGR", 200, || {
        black_box(letterbox_bgr(&f, 416, 114.0));
    });
    let whole = BBox {
        x0: 0.0,
        y0: 0.0,
        x1: 1280.0,
        y1: 720.0,
    };
    measure("resize 1280x720 → 384x224 RGB", 200, || {
        black_box(crop_resize_rgb(&f, whole, 384, 224));
    });
    let dets: Vec<Detection> = (0..30)
        .map(|i| Detection {
            bbox: BBox {
                x0: i as f32 * 40.0,
                y0: 100.0,
                x1: i as f32 * 40.0 + 30.0,
                y1: 180.0,
            },
            score: 0.8,
            class: Class::Person,
        })
        .collect();
    let mut tracker = Tracker::new(TrackerConfig::default());
    let mut k = 0.0f32;
    measure("tracker update, 30 people", 1000, || {
        k += 1.0;
        let moved: Vec<Detection> = dets
            .iter()
            .map(|d| Detection {
                bbox: d.bbox.translate(k % 5.0, 0.0),
                ..*d
            })
            .collect();
        tracker.update(&moved);
        black_box(tracker.boxes());
    });
}
