//! How a running site is told to stop or reload: explicit messages on a channel, not global flags. Ctrl-C /
//! SIGTERM become `Control::Stop` and SIGHUP `Control::Reload` through a signal thread; tests and the API send
//! the same messages through a `Controller`.

use crossbeam_channel::{Receiver, Sender};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Stop cleanly: cameras stop, open segments are closed, servers stop.
    Stop,
    /// Re-read the policy file now.
    Reload,
}

/// Sends `Control` messages to a running site; cheap to clone.
#[derive(Clone)]
pub struct Controller {
    tx: Sender<Control>,
}

impl Controller {
    pub fn stop(&self) {
        let _ = self.tx.send(Control::Stop);
    }

    pub fn reload(&self) {
        let _ = self.tx.send(Control::Reload);
    }
}

/// A control channel: the controller side and the receiving side the site's loop waits on.
pub fn channel() -> (Controller, Receiver<Control>) {
    let (tx, rx) = crossbeam_channel::unbounded();
    (Controller { tx }, rx)
}

/// Forwards SIGINT/SIGTERM (stop) and SIGHUP (reload) to `controller` from a thread of its own. Also ignores
/// SIGXFSZ: a write past a file-size limit must fail (and degrade the recording), not kill the service.
pub fn forward_signals(controller: Controller) -> std::io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    // SAFETY: setting a signal's disposition to SIG_IGN installs no handler code.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                if sig == SIGHUP {
                    controller.reload();
                } else {
                    controller.stop();
                }
            }
        })?;
    Ok(())
}
