//! The console's files, embedded at build time (nothing is built by npm; nothing is read from disk at run
//! time, so a changed file on the host cannot change what the browser runs).

/// Sent with every console page: scripts and styles only from this origin, none inline, no framing.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; \
media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; \
form-action 'self'";

const FILES: &[(&str, &str, &[u8])] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_bytes!("../assets/index.html"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/app.css"),
    ),
];

/// A console file by name (`index.html`, `app.js`, `app.css`): its content type and bytes.
pub fn asset(name: &str) -> Option<(&'static str, &'static [u8])> {
    FILES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, t, b)| (*t, *b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_is_there_and_the_page_loads_only_its_own_script() {
        let (t, html) = asset("index.html").unwrap();
        assert!(t.starts_with("text/html"));
        let html = std::str::from_utf8(html).unwrap();
        assert!(html.contains("/console/app.js") && html.contains("/console/app.css"));
        // No inline script or style: the CSP would refuse it.
        assert!(!html.contains("<script>") && !html.contains("style=") && !html.contains("<style"));
        assert!(asset("app.js").is_some() && asset("app.css").is_some());
        assert!(asset("../Cargo.toml").is_none());
    }
}
