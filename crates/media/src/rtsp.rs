//! The RTSP server that serves masked video (`rtsp://HOST:PORT/<camera-id>`) and, in the demo, the simulated
//! camera. Each mount's pipeline starts with an `appsrc`; the app pushes frames to every connected media
//! through a `LiveOut`, so what a client receives is exactly what the app pushed.

use anyhow::{Context, Result, anyhow};
use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use gstreamer_rtsp_server as rtsp;
use gstreamer_rtsp_server::prelude::*;
use parking_lot::Mutex;
use stage::MaskedFrame;
use std::sync::Arc;

/// One NVR's login to the masked mounts (RTSP digest authentication: the password never crosses the network).
#[derive(Clone)]
pub struct NvrLogin {
    pub id: String,
    pub user: String,
    pub password: String,
    /// The mounts it may pull; every one when empty.
    pub cameras: Vec<String>,
}

impl std::fmt::Debug for NvrLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NvrLogin({}, user {}, password ***)", self.id, self.user)
    }
}

/// Who may pull the masked mounts: the NVRs by digest login, and anonymous clients when allowed.
#[derive(Clone, Debug, Default)]
pub struct RtspAccess {
    pub nvrs: Vec<NvrLogin>,
    pub anonymous: bool,
}

const ANONYMOUS_ROLE: &str = "anonymous";

fn role_of(nvr: &NvrLogin) -> String {
    format!("nvr-{}", nvr.id)
}

/// One RTSP server (one port) with its own GLib main loop thread.
pub struct RtspOut {
    server: rtsp::RTSPServer,
    main_loop: glib::MainLoop,
    thread: Option<std::thread::JoinHandle<()>>,
    _source: glib::SourceId,
    port: u16,
    /// None: no authentication at all (the simulated camera).
    access: Option<RtspAccess>,
}

impl RtspOut {
    /// Starts serving on `address:port` (port 0 picks a free one; see `port()`), to anyone.
    pub fn start(address: &str, port: u16) -> Result<RtspOut> {
        RtspOut::start_with(address, port, None)
    }

    /// Starts serving on `address:port` to those `access` lets in (everyone when None).
    pub fn start_with(address: &str, port: u16, access: Option<RtspAccess>) -> Result<RtspOut> {
        RtspOut::start_tls(address, port, access, None)
    }

    /// The same, as RTSPS (RTSP over TLS) with the PEM certificate and key files `tls` when given.
    pub fn start_tls(
        address: &str,
        port: u16,
        access: Option<RtspAccess>,
        tls: Option<(&std::path::Path, &std::path::Path)>,
    ) -> Result<RtspOut> {
        crate::init()?;
        let ctx = glib::MainContext::new();
        let server = rtsp::RTSPServer::new();
        server.set_address(address);
        server.set_service(&port.to_string());
        let certificate = match tls {
            Some((cert, key)) => Some(
                gio::TlsCertificate::from_files(cert, key)
                    .map_err(|e| anyhow!("RTSPS certificate {}: {e}", cert.display()))?,
            ),
            None => None,
        };
        // TLS needs an auth object; without access rules everyone may pull, as on a plain port.
        let access = match (access, &certificate) {
            (None, Some(_)) => Some(RtspAccess {
                nvrs: Vec::new(),
                anonymous: true,
            }),
            (a, _) => a,
        };
        if let Some(a) = &access {
            let auth = rtsp::RTSPAuth::new();
            if let Some(c) = &certificate {
                auth.set_tls_certificate(Some(c));
            }
            auth.set_supported_methods(gstreamer_rtsp::RTSPAuthMethod::Digest);
            for nvr in &a.nvrs {
                let token = rtsp::RTSPToken::builder()
                    .field(rtsp::RTSP_TOKEN_MEDIA_FACTORY_ROLE, role_of(nvr))
                    .build();
                auth.add_digest(&nvr.user, &nvr.password, &token);
            }
            if a.anonymous {
                let mut token = rtsp::RTSPToken::builder()
                    .field(rtsp::RTSP_TOKEN_MEDIA_FACTORY_ROLE, ANONYMOUS_ROLE)
                    .build();
                auth.set_default_token(Some(&mut token));
            }
            server.set_auth(Some(&auth));
        }
        let source = server
            .attach(Some(&ctx))
            .map_err(|e| anyhow!("cannot listen for RTSP on {address}:{port}: {e}"))?;
        let bound = server.bound_port();
        if bound <= 0 {
            return Err(anyhow!("cannot listen for RTSP on {address}:{port}"));
        }
        let main_loop = glib::MainLoop::new(Some(&ctx), false);
        let ml = main_loop.clone();
        let thread = std::thread::Builder::new()
            .name(format!("rtsp-{bound}"))
            .spawn(move || {
                ctx.with_thread_default(|| ml.run())
                    .expect("fresh context is free");
            })
            .context("spawn rtsp thread")?;
        Ok(RtspOut {
            server,
            main_loop,
            thread: Some(thread),
            _source: source,
            port: bound as u16,
            access,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Adds `/<name>` fed with raw frames (encoded per mount) by the returned `LiveOut`.
    pub fn mount(&self, name: &str) -> Result<LiveOut> {
        self.mount_fed(name, Feed::Raw { trellis: false })
    }

    /// Adds `/<name>` fed by the returned `LiveOut` with raw frames or with H.264 access units.
    pub fn mount_fed(&self, name: &str, feed: Feed) -> Result<LiveOut> {
        let live = LiveOut::default();
        self.mount_into(name, feed, &live)?;
        Ok(live)
    }

    /// Adds `/<name>` fed by an existing `LiveOut` (the same stream on a second server, such as RTSPS).
    pub fn mount_into(&self, name: &str, feed: Feed, live: &LiveOut) -> Result<()> {
        let factory = rtsp::RTSPMediaFactory::new();
        let launch = match feed {
            Feed::Raw { trellis } => crate::pipelines::render(
                crate::pipelines::LIVE_OUT,
                &[("trellis", if trellis { "true" } else { "false" })],
            ),
            Feed::H264 => crate::pipelines::render(crate::pipelines::LIVE_OUT_H264, &[]),
        };
        factory.set_launch(&launch);
        factory.set_shared(true);
        if let Some(a) = &self.access {
            let allow = |role: &str| {
                gst::Structure::builder(role)
                    .field(rtsp::RTSP_PERM_MEDIA_FACTORY_ACCESS, true)
                    .field(rtsp::RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, true)
                    .build()
            };
            for nvr in a
                .nvrs
                .iter()
                .filter(|n| n.cameras.is_empty() || n.cameras.iter().any(|c| c == name))
            {
                factory.add_role_from_structure(&allow(&role_of(nvr)));
            }
            if a.anonymous {
                factory.add_role_from_structure(&allow(ANONYMOUS_ROLE));
            }
        }
        let sinks = live.inner.clone();
        factory.connect_media_configure(move |_, media| {
            let Some(bin) = media.element().downcast::<gst::Bin>().ok() else {
                return;
            };
            let Some(src) = bin
                .by_name("src")
                .and_then(|e| e.downcast::<gst_app::AppSrc>().ok())
            else {
                return;
            };
            let mut inner = sinks.lock();
            if let Some(caps) = &inner.caps {
                src.set_caps(Some(caps));
            }
            inner.sinks.push(LiveSink {
                src: src.clone(),
                keyed: false,
                offset: None,
                last: 0,
            });
            // A new client of an H.264 mount starts at a key frame: the encoder is asked for one now.
            inner.want_key = true;
            drop(inner);
            // Pushes fail while a media is still starting, so a media leaves the list only when it is torn down.
            let sinks = sinks.clone();
            media.connect_unprepared(move |_| sinks.lock().sinks.retain(|s| s.src != src));
        });
        let mounts = self
            .server
            .mount_points()
            .ok_or_else(|| anyhow!("rtsp server has no mount points"))?;
        mounts.add_factory(&format!("/{name}"), factory);
        Ok(())
    }
}

impl Drop for RtspOut {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            // A quit before the thread's loop has begun running is lost (GLib's run() starts by marking the
            // loop running), and the join then waited forever: a site failing to start right after opening its
            // RTSP port hung instead of saying why. So quit until the thread has ended.
            while !t.is_finished() {
                self.main_loop.quit();
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            let _ = t.join();
        }
    }
}

/// What a mount is fed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    /// Raw frames, encoded by the mount's own pipeline while a client is connected.
    Raw { trellis: bool },
    /// H.264 access units encoded once by the app (see `encoder::Encoder`).
    H264,
}

struct LiveSink {
    src: gst_app::AppSrc,
    /// H.264 feed: this client has had its key frame (access units before it are not sent).
    keyed: bool,
    /// H.264 feed: the encoder's timestamps → this media's running time (ns), set at its first access unit.
    offset: Option<i64>,
    /// The last timestamp pushed (ns), to keep them increasing when the encoder restarts.
    last: u64,
}

impl LiveSink {
    /// The access unit restamped on this media's clock. The encoder stamped it when its frame was pushed, so
    /// the spacing the NVR sees is the camera thread's, whatever the encode took; a timestamp that would go
    /// back (a restarted encoder) re-anchors at the media's running time now.
    fn restamp(&mut self, buffer: &gst::Buffer) -> gst::Buffer {
        let mut b = buffer.clone();
        let now = self.src.current_running_time().map(|t| t.nseconds() as i64);
        let t = match (buffer.pts().map(|p| p.nseconds() as i64), now) {
            (Some(pts), Some(now)) => {
                let off = *self.offset.get_or_insert(now - pts);
                let t = pts + off;
                if t <= self.last as i64 {
                    self.offset = Some(now.max(self.last as i64 + 1) - pts);
                    Some(now.max(self.last as i64 + 1))
                } else {
                    Some(t)
                }
            }
            _ => None,
        };
        let ts = t.map(|t| {
            self.last = t.max(0) as u64;
            gst::ClockTime::from_nseconds(self.last)
        });
        {
            let m = b.make_mut();
            // Without a timestamp (or a clock yet), the media's appsrc stamps it on arrival (do-timestamp).
            m.set_pts(ts);
            m.set_dts(ts);
        }
        b
    }
}

#[derive(Default)]
struct LiveInner {
    caps: Option<gst::Caps>,
    sinks: Vec<LiveSink>,
    /// A client joined an H.264 mount since the last key frame.
    want_key: bool,
}

/// Fan-out of masked frames to the clients of one RTSP mount.
#[derive(Clone, Default)]
pub struct LiveOut {
    inner: Arc<Mutex<LiveInner>>,
}

impl LiveOut {
    /// Pushes one masked frame to every connected media; media whose clients left are forgotten.
    pub fn push(&self, frame: &MaskedFrame, fps: gst::Fraction) {
        let caps = crate::frames::caps_for(&frame.layout(), fps);
        if self.inner.lock().sinks.is_empty() {
            self.inner.lock().caps = Some(caps);
            return;
        }
        self.push_raw(crate::frames::masked_to_buffer(frame), caps);
    }

    /// Only for the simulated camera, whose frames are the source footage itself (it stands in for a real
    /// camera and is never an output of garim).
    pub(crate) fn push_raw(&self, buffer: gst::Buffer, caps: gst::Caps) {
        let mut inner = self.inner.lock();
        if inner.caps.as_ref() != Some(&caps) {
            for s in &inner.sinks {
                s.src.set_caps(Some(&caps));
            }
            inner.caps = Some(caps);
        }
        for s in &inner.sinks {
            let _ = s.src.push_buffer(buffer.clone());
        }
    }

    /// Pushes one encoded access unit of an H.264 mount to every client that has had a key frame (`key`
    /// starts a client), restamped on each client's clock (see `LiveSink::restamp`).
    pub fn push_encoded(&self, buffer: gst::Buffer, caps: &gst::Caps, key: bool) {
        let mut inner = self.inner.lock();
        if inner.sinks.is_empty() {
            inner.caps = Some(caps.clone());
            return;
        }
        if key {
            inner.want_key = false;
        }
        if inner.caps.as_ref() != Some(caps) {
            for s in &inner.sinks {
                s.src.set_caps(Some(caps));
            }
            inner.caps = Some(caps.clone());
        }
        for s in &mut inner.sinks {
            s.keyed |= key;
            if s.keyed {
                let b = s.restamp(&buffer);
                let _ = s.src.push_buffer(b);
            }
        }
    }

    /// A client joined since the last key frame (the encoder should make one now).
    pub fn wants_key_frame(&self) -> bool {
        self.inner.lock().want_key
    }

    /// Number of media currently receiving frames.
    pub fn clients(&self) -> usize {
        self.inner.lock().sinks.len()
    }
}
