//! HTML → PDF with headless Chromium, which lays Korean text and A4 pages out as a browser prints them. The
//! page and the browser's profile live in a private temporary folder (0700) removed afterwards; the PDF
//! reaches its path only once it is whole (checked, synced, renamed) and readable by its owner alone (0600);
//! a browser that hangs is killed with everything it started after `PDF_TIMEOUT`.

use std::ffi::OsString;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// Longest a browser may take to print one form.
pub const PDF_TIMEOUT: Duration = Duration::from_secs(60);

/// Browsers looked for on PATH, in this order, when `GARIM_CHROMIUM` is not set.
const BROWSERS: [&str; 3] = ["chromium", "chromium-browser", "google-chrome"];

const INSTALL: &str =
    "install Chromium (apt-get install chromium) or set GARIM_CHROMIUM to a browser";

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("no browser to print PDFs with: none of {} is on PATH; {INSTALL}", BROWSERS.join(", "))]
    NoBrowser,
    #[error("GARIM_CHROMIUM={0:?} is not an executable file; {INSTALL}")]
    BadBrowser(OsString),
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("{} exited with {status} while printing the PDF: {stderr}", browser.display())]
    Failed {
        browser: PathBuf,
        status: ExitStatus,
        stderr: String,
    },
    #[error("{} did not print the PDF within {} s and was killed", browser.display(), timeout.as_secs())]
    Timeout { browser: PathBuf, timeout: Duration },
    #[error("{} wrote {found} instead of a PDF", browser.display())]
    NotPdf { browser: PathBuf, found: String },
}

fn io_error(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> PdfError {
    let path = path.to_path_buf();
    move |source| PdfError::Io { what, path, source }
}

/// Prints `html` (a standalone page, such as `claim_form`'s) to the PDF `out` with the browser of
/// `GARIM_CHROMIUM`, else the first of chromium, chromium-browser, google-chrome on PATH.
pub fn to_pdf(html: &str, out: &Path) -> Result<(), PdfError> {
    let browser = find_browser(std::env::var_os("GARIM_CHROMIUM"), std::env::var_os("PATH"))?;
    print_with(&browser, PDF_TIMEOUT, html, out)
}

fn find_browser(chosen: Option<OsString>, path: Option<OsString>) -> Result<PathBuf, PdfError> {
    let on_path = |name: &Path| {
        std::env::split_paths(path.as_deref().unwrap_or_default())
            .map(|dir| dir.join(name))
            .find(|p| is_executable(p))
    };
    match chosen.filter(|c| !c.is_empty()) {
        Some(c) => {
            let p = PathBuf::from(&c);
            let found = if p.components().count() > 1 {
                Some(p).filter(|p| is_executable(p))
            } else {
                on_path(&p)
            };
            found.ok_or(PdfError::BadBrowser(c))
        }
        None => BROWSERS
            .iter()
            .find_map(|b| on_path(Path::new(b)))
            .ok_or(PdfError::NoBrowser),
    }
}

fn is_executable(p: &Path) -> bool {
    fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// A folder only its owner can enter, removed with what it holds when dropped.
struct PrivateDir(PathBuf);

impl PrivateDir {
    fn new() -> Result<PrivateDir, PdfError> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let base = std::env::temp_dir();
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let p = base.join(format!("garim-forms-{}-{nanos:x}-{n}", std::process::id()));
            // `create` (not `create_all`) fails on anything already there, a planted link included.
            match DirBuilder::new().mode(0o700).create(&p) {
                Ok(()) => return Ok(PrivateDir(p)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 1000 => continue,
                Err(e) => return Err(io_error("cannot create the private folder", &p)(e)),
            }
        }
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// `file://` URL of an absolute path, its bytes percent-encoded where a URL needs it.
fn file_url(p: &Path) -> String {
    let mut url = String::from("file://");
    for &b in p.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            url.push(b as char);
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

/// The last lines the browser wrote, without the noise of a machine that has no D-Bus.
fn stderr_tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.contains("dbus"))
        .collect();
    let tail = lines[lines.len().saturating_sub(5)..].join(" | ");
    if tail.is_empty() {
        "(nothing on stderr)".into()
    } else {
        tail
    }
}

fn print_with(browser: &Path, timeout: Duration, html: &str, out: &Path) -> Result<(), PdfError> {
    let name = out
        .file_name()
        .ok_or_else(|| {
            io_error("no file name in", out)(io::Error::from(io::ErrorKind::InvalidInput))
        })?
        .to_os_string();
    let dir = PrivateDir::new()?;
    let page = dir.0.join("form.html");
    let printed = dir.0.join("form.pdf");
    let stderr = dir.0.join("browser.log");
    write_private(&page, html.as_bytes())?;
    let log = File::create(&stderr).map_err(io_error("cannot create", &stderr))?;

    let mut cmd = Command::new(browser);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-pdf-header-footer",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        // Not `--blink-settings=scriptEnabled=false`: Chromium 156 then prints nothing (and exits 0). The
        // forms hold no script; their text is escaped.
    ])
    .arg(format!(
        "--user-data-dir={}",
        dir.0.join("profile").display()
    ))
    .arg(format!("--print-to-pdf={}", printed.display()))
    .arg(file_url(&page))
    // A home of its own: nothing of the caller's profile is read, nothing is left in it.
    .env("HOME", &dir.0)
    .env("XDG_CONFIG_HOME", &dir.0)
    .env("XDG_CACHE_HOME", &dir.0)
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(log)
    // Its own process group, so a hung browser is killed with the processes it started.
    .process_group(0);
    let mut child = cmd.spawn().map_err(io_error("cannot start", browser))?;
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child
            .try_wait()
            .map_err(io_error("cannot wait for", browser))?
        {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                // SAFETY: kill(2) on the group this child leads (the id is its own pid); no memory is touched.
                unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
                let _ = child.wait();
                return Err(PdfError::Timeout {
                    browser: browser.to_path_buf(),
                    timeout,
                });
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    if !status.success() {
        return Err(PdfError::Failed {
            browser: browser.to_path_buf(),
            status,
            stderr: stderr_tail(&stderr),
        });
    }
    let pdf = match fs::read(&printed) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(PdfError::NotPdf {
                browser: browser.to_path_buf(),
                found: format!("no file ({})", stderr_tail(&stderr)),
            });
        }
        Err(e) => return Err(io_error("cannot read", &printed)(e)),
    };
    if !pdf.starts_with(b"%PDF") {
        return Err(PdfError::NotPdf {
            browser: browser.to_path_buf(),
            found: format!("{} bytes not starting with %PDF", pdf.len()),
        });
    }

    let mut part_name = name;
    part_name.push(".part");
    let part = out.with_file_name(part_name);
    write_private(&part, &pdf)?;
    fs::rename(&part, out).map_err(|e| {
        let _ = fs::remove_file(&part);
        io_error("cannot rename into", out)(e)
    })?;
    // The rename itself is durable once the folder is synced.
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(parent)
        .and_then(|d| d.sync_all())
        .map_err(io_error("cannot sync", parent))
}

/// Writes `bytes` to `path`, readable and writable by its owner alone, and syncs it.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), PdfError> {
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(io_error("cannot create", path))?;
    // `mode` applies only to a file it creates: one left by an earlier run is narrowed too.
    f.set_permissions(fs::Permissions::from_mode(0o600))
        .and_then(|()| f.write_all(bytes))
        .and_then(|()| f.sync_all())
        .map_err(io_error("cannot write", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_browser_says_how_to_install_one() {
        let e = find_browser(None, Some("/nonexistent-dir".into())).unwrap_err();
        assert!(
            e.to_string().contains("apt-get install chromium")
                && e.to_string()
                    .contains("chromium, chromium-browser, google-chrome"),
            "{e}"
        );
        let e = find_browser(Some("/no/such/chromium".into()), None).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("GARIM_CHROMIUM=\"/no/such/chromium\"")
                && e.to_string().contains("apt-get install chromium"),
            "{e}"
        );
        assert_eq!(
            find_browser(Some("sh".into()), Some("/usr/bin:/bin".into())).unwrap(),
            PathBuf::from("/usr/bin/sh")
        );
    }

    #[test]
    fn a_file_url_encodes_what_a_url_cannot_hold() {
        assert_eq!(
            file_url(Path::new("/tmp/a b/청.html")),
            "file:///tmp/a%20b/%EC%B2%AD.html"
        );
    }

    /// Fake browsers are shell scripts; they are all written before any is run, so no script is still open
    /// for writing in a forked child when another is executed (ETXTBSY).
    #[test]
    fn a_broken_or_hung_browser_is_an_error_not_a_hang() {
        let dir = PrivateDir::new().unwrap();
        let script = |name: &str, body: &str| {
            let p = dir.0.join(name);
            fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
            fs::set_permissions(&p, fs::Permissions::from_mode(0o700)).unwrap();
            p
        };
        let hung = script("hung", "sleep 30 & sleep 30");
        let failing = script("failing", "echo 'cannot open display' >&2; exit 3");
        let silent = script("silent", "exit 0");
        let not_pdf = script(
            "not-pdf",
            r#"for a; do case "$a" in --print-to-pdf=*) echo hello > "${a#--print-to-pdf=}";; esac; done"#,
        );
        let out = dir.0.join("out.pdf");

        let started = Instant::now();
        let e = print_with(&hung, Duration::from_millis(300), "<p>x</p>", &out).unwrap_err();
        assert!(matches!(e, PdfError::Timeout { .. }), "{e}");
        assert!(started.elapsed() < Duration::from_secs(5));

        let e = print_with(&failing, PDF_TIMEOUT, "<p>x</p>", &out).unwrap_err();
        assert!(e.to_string().contains("exit status: 3"), "{e}");
        assert!(e.to_string().contains("cannot open display"), "{e}");

        let e = print_with(&silent, PDF_TIMEOUT, "<p>x</p>", &out).unwrap_err();
        assert!(e.to_string().contains("wrote no file"), "{e}");

        let e = print_with(&not_pdf, PDF_TIMEOUT, "<p>x</p>", &out).unwrap_err();
        assert!(e.to_string().contains("not starting with %PDF"), "{e}");
        assert!(!out.exists(), "nothing reaches the output path");
    }
}
