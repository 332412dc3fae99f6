//! `garim import cameras.csv --into site.toml`: sites keep camera lists in spreadsheets. Rows add or replace
//! `[[cameras]]` tables by id; every other line of the site file (comments included) is kept. The result is
//! validated as a whole before anything is written, so a bad row changes nothing.

use crate::config::{ConfigError, ConfigErrors, SiteConfig};
use std::collections::{BTreeSet, HashMap};

/// Columns a camera CSV may have: every field of `[[cameras]]` (`id` is required). Lists are written
/// `a;b`, polygons as JSON (`[[[0,0],[0.5,0],[0.5,0.5]]]`), switches as true/false.
pub const COLUMNS: [&str; 24] = [
    "id",
    "facility",
    "kind",
    "location",
    "range",
    "url",
    "url_env",
    "url_file",
    "enabled",
    "purposes",
    "detect",
    "mask_style",
    "recording",
    "retention_days",
    "retention_reason",
    "recording_hours",
    "privacy_masks",
    "recording_zones",
    "fail_closed_deadline_ms",
    "detect_every_n_frames",
    "scene_check_secs",
    "audio",
    "legal_exception",
    "masking_exception",
];

const NUMBERS: [&str; 4] = [
    "retention_days",
    "fail_closed_deadline_ms",
    "detect_every_n_frames",
    "scene_check_secs",
];

/// A polygon list cell (JSON numbers) as a TOML value.
fn polygons(value: &str) -> Result<String, String> {
    let polys: Vec<Vec<[f32; 2]>> = serde_json::from_str(value)
        .map_err(|e| format!("expected polygons like [[[0,0],[0.5,0],[0.5,0.5]]]: {e}"))?;
    let text = polys
        .iter()
        .map(|p| {
            let pts: Vec<String> = p.iter().map(|[x, y]| format!("[{x}, {y}]")).collect();
            format!("[{}]", pts.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ");
    Ok(format!("[{text}]"))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub added: usize,
    pub updated: usize,
}

fn err(path: String, value: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        path,
        value: value.to_string(),
        reason: reason.into(),
    }
}

/// Parses CSV (comma-separated, `"` quoting with `""` escapes, CRLF or LF).
pub fn parse_csv(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.trim_start_matches('\u{feff}').chars().peekable();
    let mut line = 1;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => {
                if c == '\n' {
                    line += 1;
                }
                field.push(c);
            }
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
                line += 1;
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err(format!("line {line}: unterminated quoted field"));
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows.retain(|r| !(r.len() == 1 && r[0].trim().is_empty()));
    Ok(rows)
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn list(s: &str) -> String {
    let items: Vec<String> = s
        .split(';')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(quote)
        .collect();
    format!("[{}]", items.join(", "))
}

/// The `[[cameras]]` table for one CSV row.
fn camera_table(
    head: &[String],
    row: &[String],
    line: usize,
) -> Result<(String, String), ConfigError> {
    let mut out = String::from("[[cameras]]\n");
    let mut id = String::new();
    for (col, value) in head.iter().zip(row) {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let path = format!("cameras.csv:{line}.{col}");
        let rendered = match col.as_str() {
            c if NUMBERS.contains(&c) => value
                .parse::<u32>()
                .map(|v| v.to_string())
                .map_err(|_| err(path, value, "expected a whole number"))?,
            "purposes" | "detect" => list(value),
            "enabled" | "audio" => match value.to_lowercase().as_str() {
                "true" => "true".to_string(),
                "false" => "false".to_string(),
                _ => return Err(err(path, value, "expected true or false")),
            },
            "privacy_masks" | "recording_zones" => {
                polygons(value).map_err(|e| err(path, value, e))?
            }
            _ => quote(value),
        };
        if col == "id" {
            id = value.to_string();
        }
        out.push_str(&format!("{col} = {rendered}\n"));
    }
    if id.is_empty() {
        return Err(err(
            format!("cameras.csv:{line}.id"),
            "",
            "every row needs an id",
        ));
    }
    Ok((id, out))
}

/// Where each `[[cameras]]` table starts and ends (line indices) and its id.
fn camera_blocks(lines: &[&str]) -> Vec<(usize, usize, String)> {
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() == "[[cameras]]" {
            let mut end = i + 1;
            while end < lines.len() && !lines[end].trim_start().starts_with('[') {
                end += 1;
            }
            let id = lines[i + 1..end]
                .iter()
                .find_map(|l| {
                    let (k, v) = l.split_once('=')?;
                    (k.trim() == "id").then(|| v.trim().trim_matches('"').to_string())
                })
                .unwrap_or_default();
            blocks.push((i, end, id));
            i = end;
        } else {
            i += 1;
        }
    }
    blocks
}

/// Applies the CSV to the site file's text; returns the new text (validated) and what changed.
pub fn import_cameras(site_toml: &str, csv: &str) -> Result<(String, ImportReport), ConfigErrors> {
    let rows = parse_csv(csv).map_err(|e| ConfigErrors(vec![err("cameras.csv".into(), "", e)]))?;
    let Some((head, body)) = rows.split_first() else {
        return Err(ConfigErrors(vec![err(
            "cameras.csv".into(),
            "",
            "empty file",
        )]));
    };
    let head: Vec<String> = head.iter().map(|h| h.trim().to_lowercase()).collect();
    let mut errors = Vec::new();
    for h in &head {
        if !COLUMNS.contains(&h.as_str()) {
            errors.push(err(
                format!("cameras.csv:1.{h}"),
                h,
                format!("unknown column; known columns: {}", COLUMNS.join(", ")),
            ));
        }
    }
    if !head.iter().any(|h| h == "id") {
        errors.push(err(
            "cameras.csv:1".into(),
            "",
            "the header needs an id column",
        ));
    }
    if !errors.is_empty() {
        return Err(ConfigErrors(errors));
    }
    let mut tables: Vec<(String, String)> = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, row) in body.iter().enumerate() {
        let line = i + 2;
        if row.len() != head.len() {
            errors.push(err(
                format!("cameras.csv:{line}"),
                &row.join(","),
                format!("row has {} fields, header has {}", row.len(), head.len()),
            ));
            continue;
        }
        match camera_table(&head, row, line) {
            Ok((id, t)) => {
                if !seen.insert(id.clone()) {
                    errors.push(err(
                        format!("cameras.csv:{line}.id"),
                        &id,
                        "id appears twice in the file",
                    ));
                }
                tables.push((id, t));
            }
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(ConfigErrors(errors));
    }
    let lines: Vec<&str> = site_toml.lines().collect();
    let blocks = camera_blocks(&lines);
    let existing: HashMap<&str, (usize, usize)> = blocks
        .iter()
        .map(|(s, e, id)| (id.as_str(), (*s, *e)))
        .collect();
    let mut drop = vec![false; lines.len()];
    let mut updated = 0;
    for (id, _) in &tables {
        if let Some(&(s, e)) = existing.get(id.as_str()) {
            updated += 1;
            drop[s..e].iter_mut().for_each(|d| *d = true);
        }
    }
    let mut out: String = lines
        .iter()
        .zip(&drop)
        .filter(|(_, d)| !**d)
        .map(|(l, _)| format!("{l}\n"))
        .collect();
    if !out.ends_with("\n\n") {
        out.push('\n');
    }
    for (_, t) in &tables {
        out.push_str(t);
        out.push('\n');
    }
    SiteConfig::from_toml_str(&out)?;
    Ok((
        out,
        ImportReport {
            added: tables.len() - updated,
            updated,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_handles_quotes_commas_and_crlf() {
        let rows =
            parse_csv("id,location\r\ncam-1,\"1층, 로비 \"\"A\"\"\"\r\n\r\ncam-2,복도\n").unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1], vec!["cam-1", "1층, 로비 \"A\""]);
        assert_eq!(rows[2], vec!["cam-2", "복도"]);
        assert!(parse_csv("id\n\"open").is_err());
    }
}
