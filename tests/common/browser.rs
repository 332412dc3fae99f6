//! The console in a real browser for the tests: Debian's chromium, headless, driven through chromedriver over
//! WebDriver.

use super::{Guard, wait_for};
use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
use fantoccini::{Client, ClientBuilder, Locator};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// chromedriver on a free loopback port, killed with the guard.
pub fn chromedriver() -> (Guard, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bin = ["chromedriver", "/usr/bin/chromedriver"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .expect("chromedriver (Debian's chromium-driver; scripts/test installs it)");
    let child = Command::new(bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    assert!(
        wait_for(Duration::from_secs(20), || std::net::TcpStream::connect((
            "127.0.0.1",
            port
        ))
        .is_ok()),
        "chromedriver did not listen"
    );
    (Guard::new(child), url)
}

/// A browser session with blocking calls (the tests themselves are plain threads).
pub struct Browser {
    rt: tokio::runtime::Runtime,
    c: Client,
    base: String,
    shots: PathBuf,
}

impl Browser {
    pub fn open(driver: &str, base: &str, shots: &Path) -> Browser {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1366,768", "--lang=ko-KR"],
            }),
        );
        let c = rt
            .block_on(
                ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                    .capabilities(caps)
                    .connect(driver),
            )
            .expect("a chromium session (is Debian's chromium installed?)");
        Browser {
            rt,
            c,
            base: base.to_string(),
            shots: shots.to_path_buf(),
        }
    }

    pub fn go(&self, path: &str) {
        self.rt
            .block_on(self.c.goto(&format!("{}{path}", self.base)))
            .unwrap();
    }

    pub fn js(&self, script: &str) -> serde_json::Value {
        self.rt
            .block_on(self.c.execute(script, vec![]))
            .unwrap_or_else(|e| panic!("{script}: {e}"))
    }

    /// Waits until the script returns true.
    pub fn until(&self, what: &str, script: &str) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if self.js(script) == serde_json::Value::Bool(true) {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        self.shot(&format!("failed-{}", what.replace(' ', "-")));
        panic!("{what}: not within 30 s ({script})");
    }

    pub fn present(&self, css: &str) -> bool {
        self.js(&format!(
            "const e = document.querySelector({css:?}); return !!e && e.offsetParent !== null;"
        )) == serde_json::Value::Bool(true)
    }

    pub fn text(&self, css: &str) -> String {
        self.js(&format!(
            "const e = document.querySelector({css:?}); return e ? e.textContent : null;"
        ))
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    pub fn click(&self, css: &str) {
        // In the middle of the view: not under the sticky header.
        self.js(&format!(
            "const e = document.querySelector({css:?}); if (e) e.scrollIntoView({{block: 'center'}}); return true;"
        ));
        self.rt
            .block_on(async { self.c.find(Locator::Css(css)).await?.click().await })
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    pub fn type_into(&self, css: &str, text: &str) {
        self.rt
            .block_on(async {
                let e = self.c.find(Locator::Css(css)).await?;
                e.clear().await?;
                e.send_keys(text).await
            })
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Sends keys (WebDriver key codes allowed) to an element.
    pub fn keys(&self, css: &str, keys: &str) {
        self.rt
            .block_on(async { self.c.find(Locator::Css(css)).await?.send_keys(keys).await })
            .unwrap_or_else(|e| panic!("keys to {css}: {e}"));
    }

    pub fn login(&self, user: &str, password: &str) {
        self.go("/");
        self.until(
            "login form",
            "return !!document.querySelector('#login-form');",
        );
        self.type_into("#login-user", user);
        self.type_into("#login-password", password);
        self.click("#login-submit");
        self.until(
            "logged in",
            "return !!document.querySelector('#whoami') && document.querySelector('#whoami').textContent.length > 0 && !document.querySelector('#login-form');",
        );
    }

    pub fn logout(&self) {
        self.click("#logout");
        self.until(
            "logged out",
            "return !!document.querySelector('#login-form');",
        );
    }

    /// Clicks on the canvas at fractions (fx, fy) of its drawn size, with real pointer events.
    pub fn click_canvas(&self, css: &str, points: &[(f64, f64)]) {
        // In view, and laid out: a canvas still taking its size (its picture arriving) once moved under the
        // measured offsets ("move target out of bounds"). Its box must hold still for one poll (200 ms).
        self.js(&format!(
            "document.querySelector({css:?}).scrollIntoView({{block: 'center'}}); window.__box = ''; return true;"
        ));
        self.until(
            "the canvas laid out",
            &format!(
                "const r = document.querySelector({css:?}).getBoundingClientRect(); \
                 const k = [r.left, r.top, r.width, r.height].join(','); \
                 const still = window.__box === k; window.__box = k; return still && r.width > 0;"
            ),
        );
        self.rt
            .block_on(async {
                let canvas = self.c.find(Locator::Css(css)).await?;
                let (w, h) = canvas.rectangle().await.map(|(_, _, w, h)| (w, h))?;
                let mut mouse = MouseActions::new("mouse".into());
                for (fx, fy) in points {
                    // Offsets are from the element's centre.
                    mouse = mouse
                        .then(PointerAction::MoveToElement {
                            element: canvas.clone(),
                            duration: Some(Duration::from_millis(20)),
                            x: ((fx - 0.5) * w).round(),
                            y: ((fy - 0.5) * h).round(),
                        })
                        .then(PointerAction::Down {
                            button: MOUSE_BUTTON_LEFT,
                        })
                        .then(PointerAction::Up {
                            button: MOUSE_BUTTON_LEFT,
                        })
                        .then(PointerAction::Pause {
                            duration: Duration::from_millis(60),
                        });
                }
                self.c.perform_actions(mouse).await
            })
            .unwrap_or_else(|e| panic!("drawing on {css}: {e}"));
    }

    pub fn resize(&self, w: u32, h: u32) {
        self.rt
            .block_on(self.c.set_window_size(w, h))
            .unwrap_or_else(|e| panic!("resize to {w}x{h}: {e}"));
    }

    pub fn shot(&self, name: &str) {
        if let Ok(png) = self.rt.block_on(self.c.screenshot()) {
            std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
        }
    }

    pub fn close(self) {
        drop(self);
    }
}

/// The session ends with the browser, also when a test fails part way: a chromium left behind by a panic
/// kept a core busy for the rest of the suite, and the console tests after it timed out.
impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.rt.block_on(self.c.clone().close());
    }
}
