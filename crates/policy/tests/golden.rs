//! Golden notices: each example site's 운영·관리 방침 (Markdown and HTML) and 안내판, as reviewed once by
//! reading the whole rendered text against its published source in ../shared/notices/ (see
//! tests/golden/README.md), then pinned. A change to the wording shows here as a diff to read, not as a
//! silent drift. After reading the change, `GARIM_BLESS=1 cargo test -p policy --test golden` re-pins it.

use policy::SiteConfig;
use policy::notice::{Format, render, render_signs};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn load(site: &str) -> SiteConfig {
    let p = root()
        .join("../../examples/sites")
        .join(format!("{site}.toml"));
    SiteConfig::load(&p).unwrap_or_else(|e| panic!("{site}: {e}"))
}

/// Compares `text` with the pinned file (or writes it, when blessing); returns a problem to report.
fn pinned(name: &str, text: &str) -> Option<String> {
    let path = root().join("tests/golden").join(name);
    if std::env::var_os("GARIM_BLESS").is_some() {
        std::fs::write(&path, text).unwrap();
        return None;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with GARIM_BLESS=1 to pin it)", path.display()));
    if want == text {
        return None;
    }
    let (i, (w, g)) = want
        .lines()
        .zip(text.lines())
        .enumerate()
        .find(|(_, (w, g))| w != g)
        .unwrap_or((
            want.lines().count().min(text.lines().count()),
            ("<end>", "<end>"),
        ));
    Some(format!(
        "{name}: line {} differs\n  pinned:   {w}\n  rendered: {g}",
        i + 1
    ))
}

#[test]
fn example_notices_match_their_reviewed_text() {
    let mut cases: Vec<(String, String)> = Vec::new();
    for site in ["michuhol", "labour-office", "gimje-family", "demo"] {
        let cfg = load(site);
        cases.push((
            format!("{site}.md"),
            render(&cfg, Format::Markdown, None).unwrap(),
        ));
        cases.push((
            format!("{site}.html"),
            render(&cfg, Format::Html, None).unwrap(),
        ));
        cases.push((
            format!("{site}.signs.md"),
            render_signs(&cfg, Format::Markdown),
        ));
        // Sites published per facility (미추홀구's four notices): each one's own notice too.
        if site == "michuhol" {
            for f in &cfg.facilities {
                cases.push((
                    format!("{site}.{}.md", f.id),
                    render(&cfg, Format::Markdown, Some(&f.id)).unwrap(),
                ));
            }
        }
    }
    let problems: Vec<String> = cases.iter().filter_map(|(n, t)| pinned(n, t)).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
