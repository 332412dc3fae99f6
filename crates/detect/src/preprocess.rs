//! Frame → model input: resampling straight from YUV planes (bilinear luma, nearest chroma) into NCHW
//! float tensors, with BT.601 limited-range YUV→RGB in integer math. Index tables are built once per call so
//! the inner loop is lookups and multiply-adds.

use crate::types::{BBox, Tensor};
use mask::FrameRef;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Order {
    Rgb,
    Bgr,
}

/// One axis of a resampling: for each output index, the two source indices and the weight of the second.
fn axis_map(out_len: usize, src_start: f32, step: f32, src_len: usize) -> Vec<(usize, usize, u32)> {
    (0..out_len)
        .map(|o| {
            let s = (src_start + (o as f32 + 0.5) * step - 0.5).clamp(0.0, (src_len - 1) as f32);
            let i0 = s.floor() as usize;
            let i1 = (i0 + 1).min(src_len - 1);
            let frac = ((s - i0 as f32) * 256.0) as u32;
            (i0, i1, frac)
        })
        .collect()
}

#[inline]
fn yuv_to_rgb(y: u8, u: u8, v: u8) -> (f32, f32, f32) {
    let c = (i32::from(y) - 16) * 298;
    let d = i32::from(u) - 128;
    let e = i32::from(v) - 128;
    let r = ((c + 409 * e + 128) >> 8).clamp(0, 255);
    let g = ((c - 100 * d - 208 * e + 128) >> 8).clamp(0, 255);
    let b = ((c + 516 * d + 128) >> 8).clamp(0, 255);
    (r as f32, g as f32, b as f32)
}

/// Resamples the source rectangle starting at (sx0, sy0) with steps (stepx, stepy) per output pixel into
/// `out` (3 planes of `plane_w`×`plane_h`), writing `w`×`h` pixels at the top-left.
#[allow(clippy::too_many_arguments)]
fn resample(
    frame: &FrameRef<'_>,
    sx0: f32,
    sy0: f32,
    stepx: f32,
    stepy: f32,
    w: usize,
    h: usize,
    out: &mut [f32],
    plane_w: usize,
    plane_h: usize,
    order: Order,
) {
    let (fw, fh) = (frame.width() as usize, frame.height() as usize);
    let xs = axis_map(w, sx0, stepx, fw);
    let ys = axis_map(h, sy0, stepy, fh);
    let plane = plane_w * plane_h;
    let l = frame.layout;
    let ystride = l.strides[0];
    let yoff = l.offsets[0];
    let d = frame.data;
    for (oy, &(y0, y1, fy)) in ys.iter().enumerate() {
        let row0 = yoff + y0 * ystride;
        let row1 = yoff + y1 * ystride;
        // Nearest chroma row for this output row.
        let cy = if fy >= 128 { y1 } else { y0 } / 2;
        for (ox, &(x0, x1, fx)) in xs.iter().enumerate() {
            let a = u32::from(d[row0 + x0]) * (256 - fx) + u32::from(d[row0 + x1]) * fx;
            let b = u32::from(d[row1 + x0]) * (256 - fx) + u32::from(d[row1 + x1]) * fx;
            let yv = ((a * (256 - fy) + b * fy + (1 << 15)) >> 16) as u8;
            let cx = if fx >= 128 { x1 } else { x0 } / 2;
            let (u, v) = frame.uv(cx, cy);
            let (r, g, bl) = yuv_to_rgb(yv, u, v);
            let i = oy * plane_w + ox;
            let (c0, c2) = if order == Order::Rgb {
                (r, bl)
            } else {
                (bl, r)
            };
            out[i] = c0;
            out[plane + i] = g;
            out[2 * plane + i] = c2;
        }
    }
}

/// Letterbox at top-left into size×size (pad value `pad` on all channels), NCHW BGR 0..255, as YOLOX expects.
/// Returns the tensor [1,3,size,size] and the scale (frame coords = model coords / scale).
pub fn letterbox_bgr(frame: &FrameRef<'_>, size: u32, pad: f32) -> (Tensor, f32) {
    let (fw, fh) = (frame.width() as f32, frame.height() as f32);
    let s = size as usize;
    let scale = (size as f32 / fw).min(size as f32 / fh);
    let w = ((fw * scale).round() as usize).clamp(1, s);
    let h = ((fh * scale).round() as usize).clamp(1, s);
    let mut data = vec![pad; 3 * s * s];
    resample(
        frame,
        0.0,
        0.0,
        fw / w as f32,
        fh / h as f32,
        w,
        h,
        &mut data,
        s,
        s,
        Order::Bgr,
    );
    (
        Tensor {
            shape: vec![1, 3, s, s],
            data,
        },
        scale,
    )
}

/// Where a letterboxed crop sits in the model input, to map model pixels back to frame pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Letterbox {
    /// Top-left of the crop in the frame.
    pub origin: (f32, f32),
    /// Top-left of the content in the model input.
    pub offset: (f32, f32),
    /// Model pixels per frame pixel, per axis (the content is rounded to whole pixels).
    pub scale: (f32, f32),
}

impl Letterbox {
    pub fn to_frame(&self, x: f32, y: f32) -> (f32, f32) {
        (
            self.origin.0 + (x - self.offset.0) / self.scale.0,
            self.origin.1 + (y - self.offset.1) / self.scale.1,
        )
    }
}

/// Crops `crop` (clipped to the frame) and letterboxes it *centred* into size×size, NCHW RGB multiplied by
/// `norm` (1/255 for HyperLPR3), padding `pad` — the preprocessing of HyperLPR3's `letter_box`: scale
/// r = min(size/h, size/w), content int(w·r)×int(h·r), offset int((size − content)/2).
pub fn letterbox_crop_rgb(
    frame: &FrameRef<'_>,
    crop: BBox,
    size: u32,
    pad: f32,
    norm: f32,
) -> (Tensor, Letterbox) {
    let c = crop.clip(frame.width(), frame.height());
    let s = size as usize;
    let (cw, ch) = (c.width().max(1.0), c.height().max(1.0));
    let r = (size as f32 / cw).min(size as f32 / ch);
    let w = ((cw * r) as usize).clamp(1, s);
    let h = ((ch * r) as usize).clamp(1, s);
    let (left, top) = ((s - w) / 2, (s - h) / 2);
    let mut data = vec![pad; 3 * s * s];
    // `resample` writes plane c at c·s² + y·s + x, so starting the slice at the content's offset places it.
    resample(
        frame,
        c.x0,
        c.y0,
        cw / w as f32,
        ch / h as f32,
        w,
        h,
        &mut data[top * s + left..],
        s,
        s,
        Order::Rgb,
    );
    if norm != 1.0 {
        data.iter_mut().for_each(|v| *v *= norm);
    }
    (
        Tensor {
            shape: vec![1, 3, s, s],
            data,
        },
        Letterbox {
            origin: (c.x0, c.y0),
            offset: (left as f32, top as f32),
            scale: (w as f32 / cw, h as f32 / ch),
        },
    )
}

/// Crops `crop` (clipped to the frame) and resizes it to out_w×out_h, NCHW RGB 0..255 ([1,3,out_h,out_w]).
pub fn crop_resize_rgb(frame: &FrameRef<'_>, crop: BBox, out_w: u32, out_h: u32) -> Tensor {
    let c = crop.clip(frame.width(), frame.height());
    let (ow, oh) = (out_w as usize, out_h as usize);
    let mut data = vec![0.0; 3 * ow * oh];
    let (cw, ch) = (c.width().max(1.0), c.height().max(1.0));
    resample(
        frame,
        c.x0,
        c.y0,
        cw / ow as f32,
        ch / oh as f32,
        ow,
        oh,
        &mut data,
        ow,
        oh,
        Order::Rgb,
    );
    Tensor {
        shape: vec![1, 3, oh, ow],
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mask::{Layout, PixelFormat};

    fn uniform(w: u32, h: u32, y: u8, u: u8, v: u8) -> (Layout, Vec<u8>) {
        let l = Layout::packed(PixelFormat::I420, w, h);
        let mut d = vec![0u8; l.min_len()];
        d[..(w * h) as usize].fill(y);
        let c = l.chroma_size();
        d[l.offsets[1]..l.offsets[1] + c.0 * c.1].fill(u);
        d[l.offsets[2]..l.offsets[2] + c.0 * c.1].fill(v);
        (l, d)
    }

    #[test]
    fn yuv_to_rgb_known_colours() {
        let near = |a: (f32, f32, f32), b: (f32, f32, f32)| {
            (a.0 - b.0).abs() <= 2.0 && (a.1 - b.1).abs() <= 2.0 && (a.2 - b.2).abs() <= 2.0
        };
        assert!(near(yuv_to_rgb(16, 128, 128), (0.0, 0.0, 0.0)));
        assert!(near(yuv_to_rgb(235, 128, 128), (255.0, 255.0, 255.0)));
        // BT.601 red: Y=81, U=90, V=240.
        let (r, g, b) = yuv_to_rgb(81, 90, 240);
        assert!(r > 240.0 && g < 10.0 && b < 10.0, "{r} {g} {b}");
    }

    #[test]
    fn letterbox_fills_top_left_and_pads_the_rest() {
        let (l, d) = uniform(64, 32, 81, 90, 240); // red, 2:1
        let f = FrameRef::new(l, &d).unwrap();
        let (t, scale) = letterbox_bgr(&f, 32, 114.0);
        assert_eq!(t.shape, vec![1, 3, 32, 32]);
        assert_eq!(scale, 0.5);
        let px = |c: usize, x: usize, y: usize| t.data[c * 1024 + y * 32 + x];
        // Content rows 0..16: BGR of red; rows 16.. are padding.
        assert!(px(2, 5, 5) > 240.0 && px(0, 5, 5) < 10.0);
        assert_eq!(
            (px(0, 5, 20), px(1, 5, 20), px(2, 31, 31)),
            (114.0, 114.0, 114.0)
        );
    }

    #[test]
    fn crop_resize_picks_the_requested_region() {
        let (l, mut d) = uniform(32, 16, 16, 128, 128);
        for y in 0..16 {
            for x in 16..32 {
                d[y * 32 + x] = 235; // right half white
            }
        }
        let f = FrameRef::new(l, &d).unwrap();
        let right = crop_resize_rgb(
            &f,
            BBox {
                x0: 16.0,
                y0: 0.0,
                x1: 32.0,
                y1: 16.0,
            },
            8,
            8,
        );
        assert_eq!(right.shape, vec![1, 3, 8, 8]);
        assert!(right.data.iter().all(|&v| v > 250.0));
        let left = crop_resize_rgb(
            &f,
            BBox {
                x0: 0.0,
                y0: 0.0,
                x1: 12.0,
                y1: 16.0,
            },
            8,
            8,
        );
        assert!(left.data.iter().all(|&v| v < 5.0));
    }

    #[test]
    fn crop_letterbox_is_centred_normalised_and_maps_back() {
        // 40x20 frame, right half white; crop the right half (20x20) into 16: fills it whole. Crop a 20x10
        // band instead: content 16x8, centred at rows 4..12, black (0) padding above and below.
        let (l, mut d) = uniform(40, 20, 16, 128, 128);
        for y in 0..20 {
            for x in 20..40 {
                d[y * 40 + x] = 235;
            }
        }
        let f = FrameRef::new(l, &d).unwrap();
        let band = BBox {
            x0: 20.0,
            y0: 5.0,
            x1: 40.0,
            y1: 15.0,
        };
        let (t, lb) = letterbox_crop_rgb(&f, band, 16, 0.0, 1.0 / 255.0);
        assert_eq!(t.shape, vec![1, 3, 16, 16]);
        let px = |c: usize, x: usize, y: usize| t.data[c * 256 + y * 16 + x];
        for c in 0..3 {
            assert!(px(c, 0, 4) > 0.98 && px(c, 15, 11) > 0.98);
            assert_eq!((px(c, 7, 3), px(c, 7, 12)), (0.0, 0.0));
        }
        assert_eq!(lb.offset, (0.0, 4.0));
        assert_eq!(lb.scale, (0.8, 0.8));
        // Model pixel (0, 4) is the crop's top-left; (16, 12) its bottom-right.
        assert_eq!(lb.to_frame(0.0, 4.0), (20.0, 5.0));
        assert_eq!(lb.to_frame(16.0, 12.0), (40.0, 15.0));
        // A tall crop is centred horizontally.
        let (_, tall) = letterbox_crop_rgb(
            &f,
            BBox {
                x0: 0.0,
                y0: 0.0,
                x1: 10.0,
                y1: 20.0,
            },
            16,
            0.0,
            1.0,
        );
        assert_eq!((tall.offset, tall.scale), ((4.0, 0.0), (0.8, 0.8)));
    }

    fn stripes(format: PixelFormat, w: u32, h: u32) -> (Layout, Vec<u8>) {
        // Same content in either layout: luma ramps along x, chroma varies along both axes.
        let l = Layout::packed(format, w, h);
        let mut d = vec![0u8; l.min_len()];
        for y in 0..h as usize {
            for x in 0..w as usize {
                d[y * w as usize + x] = (16 + (x * 7 + y * 3) % 220) as u8;
            }
        }
        let (cw, ch) = l.chroma_size();
        for cy in 0..ch {
            for cx in 0..cw {
                let (u, v) = ((60 + cx * 5) as u8, (200 - cy * 4) as u8);
                match format {
                    PixelFormat::I420 => {
                        d[l.offsets[1] + cy * l.strides[1] + cx] = u;
                        d[l.offsets[2] + cy * l.strides[2] + cx] = v;
                    }
                    PixelFormat::Nv12 => {
                        d[l.offsets[1] + cy * l.strides[1] + 2 * cx] = u;
                        d[l.offsets[1] + cy * l.strides[1] + 2 * cx + 1] = v;
                    }
                }
            }
        }
        (l, d)
    }

    #[test]
    fn nv12_and_i420_of_the_same_picture_give_the_same_tensor() {
        let (li, di) = stripes(PixelFormat::I420, 40, 30);
        let (ln, dn) = stripes(PixelFormat::Nv12, 40, 30);
        let fi = FrameRef::new(li, &di).unwrap();
        let fnv = FrameRef::new(ln, &dn).unwrap();
        assert_eq!(
            letterbox_bgr(&fi, 32, 114.0),
            letterbox_bgr(&fnv, 32, 114.0)
        );
        let crop = BBox {
            x0: 3.0,
            y0: 5.0,
            x1: 27.0,
            y1: 21.0,
        };
        assert_eq!(
            crop_resize_rgb(&fi, crop, 16, 16),
            crop_resize_rgb(&fnv, crop, 16, 16)
        );
    }

    /// `cargo test -p detect --release -- --ignored --nocapture` prints the per-frame cost.
    #[test]
    #[ignore = "timing; run in release"]
    fn letterbox_of_a_pal_frame_is_fast() {
        let (l, d) = stripes(PixelFormat::I420, 768, 576);
        let f = FrameRef::new(l, &d).unwrap();
        let n = 200;
        let t = std::time::Instant::now();
        for _ in 0..n {
            std::hint::black_box(letterbox_bgr(&f, 416, 114.0));
        }
        let per = t.elapsed() / n;
        println!("letterbox 768x576 -> 416: {per:?} per frame");
        let (l, d) = stripes(PixelFormat::Nv12, 768, 576);
        let f = FrameRef::new(l, &d).unwrap();
        let t = std::time::Instant::now();
        for _ in 0..n {
            std::hint::black_box(crop_resize_rgb(
                &f,
                BBox {
                    x0: 0.0,
                    y0: 0.0,
                    x1: 768.0,
                    y1: 576.0,
                },
                640,
                480,
            ));
        }
        println!(
            "crop_resize 768x576 -> 640x480 (NV12): {:?} per frame",
            t.elapsed() / n
        );
    }
}
