//! Views of raw YUV frames (planar I420, semi-planar NV12) as plane slices with explicit strides and
//! offsets, so the same code works on tightly packed test planes and on GStreamer's mapped buffers.

use thiserror::Error;

/// Raw video layouts garim masks in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PixelFormat {
    /// Planar Y, U, V; chroma subsampled 2×2.
    I420,
    /// Planar Y, then interleaved UV; chroma subsampled 2×2.
    Nv12,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum FrameError {
    #[error("frame of {width}x{height} needs {needed} bytes, buffer has {actual}")]
    TooSmall {
        width: u32,
        height: u32,
        needed: usize,
        actual: usize,
    },
    #[error("frame size {width}x{height} is empty")]
    Empty { width: u32, height: u32 },
}

/// Byte layout of one frame: where each plane starts and how long its rows are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub format: PixelFormat,
    pub width: u32,
    pub height: u32,
    /// Row length in bytes of plane 0 (Y), 1 (U or UV), 2 (V; unused for NV12).
    pub strides: [usize; 3],
    /// Start of each plane in the buffer.
    pub offsets: [usize; 3],
}

impl Layout {
    /// Tightly packed layout (no row padding), as produced by `videoconvert` for even widths and by tests.
    pub fn packed(format: PixelFormat, width: u32, height: u32) -> Layout {
        let (w, h) = (width as usize, height as usize);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        match format {
            PixelFormat::I420 => Layout {
                format,
                width,
                height,
                strides: [w, cw, cw],
                offsets: [0, w * h, w * h + cw * ch],
            },
            PixelFormat::Nv12 => Layout {
                format,
                width,
                height,
                strides: [w, cw * 2, 0],
                offsets: [0, w * h, 0],
            },
        }
    }

    /// Chroma plane size in samples (width, height).
    pub fn chroma_size(&self) -> (usize, usize) {
        (
            (self.width as usize).div_ceil(2),
            (self.height as usize).div_ceil(2),
        )
    }

    /// Bytes the buffer must hold for this layout.
    pub fn min_len(&self) -> usize {
        let (h, ch) = (self.height as usize, self.chroma_size().1);
        let (cw, _) = self.chroma_size();
        let y_end = self.offsets[0] + self.strides[0] * (h - 1) + self.width as usize;
        match self.format {
            PixelFormat::I420 => {
                let u_end = self.offsets[1] + self.strides[1] * (ch - 1) + cw;
                let v_end = self.offsets[2] + self.strides[2] * (ch - 1) + cw;
                y_end.max(u_end).max(v_end)
            }
            PixelFormat::Nv12 => {
                let uv_end = self.offsets[1] + self.strides[1] * (ch - 1) + cw * 2;
                y_end.max(uv_end)
            }
        }
    }

    fn check(&self, len: usize) -> Result<(), FrameError> {
        if self.width == 0 || self.height == 0 {
            return Err(FrameError::Empty {
                width: self.width,
                height: self.height,
            });
        }
        let needed = self.min_len();
        if len < needed {
            return Err(FrameError::TooSmall {
                width: self.width,
                height: self.height,
                needed,
                actual: len,
            });
        }
        Ok(())
    }
}

/// A read-only frame.
#[derive(Debug, Clone, Copy)]
pub struct FrameRef<'a> {
    pub layout: Layout,
    pub data: &'a [u8],
}

/// A frame that may be masked in place.
#[derive(Debug)]
pub struct FrameMut<'a> {
    pub layout: Layout,
    pub data: &'a mut [u8],
}

impl<'a> FrameRef<'a> {
    pub fn new(layout: Layout, data: &'a [u8]) -> Result<Self, FrameError> {
        layout.check(data.len())?;
        Ok(FrameRef { layout, data })
    }

    pub fn width(&self) -> u32 {
        self.layout.width
    }

    pub fn height(&self) -> u32 {
        self.layout.height
    }

    /// Luma at (x, y); caller keeps x < width, y < height.
    #[inline]
    pub fn y(&self, x: usize, y: usize) -> u8 {
        self.data[self.layout.offsets[0] + y * self.layout.strides[0] + x]
    }

    /// Chroma (u, v) at chroma coordinates (cx, cy).
    #[inline]
    pub fn uv(&self, cx: usize, cy: usize) -> (u8, u8) {
        let l = &self.layout;
        match l.format {
            PixelFormat::I420 => (
                self.data[l.offsets[1] + cy * l.strides[1] + cx],
                self.data[l.offsets[2] + cy * l.strides[2] + cx],
            ),
            PixelFormat::Nv12 => {
                let i = l.offsets[1] + cy * l.strides[1] + cx * 2;
                (self.data[i], self.data[i + 1])
            }
        }
    }
}

impl<'a> FrameMut<'a> {
    pub fn new(layout: Layout, data: &'a mut [u8]) -> Result<Self, FrameError> {
        layout.check(data.len())?;
        Ok(FrameMut { layout, data })
    }

    pub fn as_ref(&self) -> FrameRef<'_> {
        FrameRef {
            layout: self.layout,
            data: self.data,
        }
    }

    #[inline]
    pub fn set_y(&mut self, x: usize, y: usize, v: u8) {
        self.data[self.layout.offsets[0] + y * self.layout.strides[0] + x] = v;
    }

    #[inline]
    pub fn set_uv(&mut self, cx: usize, cy: usize, u: u8, v: u8) {
        let l = self.layout;
        match l.format {
            PixelFormat::I420 => {
                self.data[l.offsets[1] + cy * l.strides[1] + cx] = u;
                self.data[l.offsets[2] + cy * l.strides[2] + cx] = v;
            }
            PixelFormat::Nv12 => {
                let i = l.offsets[1] + cy * l.strides[1] + cx * 2;
                self.data[i] = u;
                self.data[i + 1] = v;
            }
        }
    }
}
