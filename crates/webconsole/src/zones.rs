//! The zone editor's write: one camera's `privacy_masks` and `recording_zones` replaced in the policy text
//! with toml_edit, so every comment, blank line and key order of the operator's file stays as it was (the
//! editor Frigate users complain of rewrote whole configs). Validation is not done here: the site validates
//! the new text with the same code as `garim check`, and `polygon_errors` tells which polygon an error names.

use serde::{Deserialize, Serialize};
use toml_edit::{Array, DocumentMut, Item, Value};

/// A polygon as the policy holds it: fractions of the frame.
pub type Polygon = Vec<[f32; 2]>;

/// The two kinds of polygon the editor draws, named as their policy keys.
pub const KINDS: [&str; 2] = ["privacy_masks", "recording_zones"];

/// One camera's polygons, as the editor sends them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Zones {
    #[serde(default)]
    pub privacy_masks: Vec<Polygon>,
    #[serde(default)]
    pub recording_zones: Vec<Polygon>,
}

/// Returns `text` with camera `camera`'s polygons replaced (an empty list removes the key). Everything else
/// in the file is kept byte for byte, and so are the comments around the two keys.
pub fn set_zones(text: &str, camera: &str, zones: &Zones) -> Result<String, String> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e| format!("the policy file is not valid TOML: {e}"))?;
    let cameras = doc
        .get_mut("cameras")
        .and_then(Item::as_array_of_tables_mut)
        .ok_or("the policy file has no [[cameras]] tables")?;
    let table = cameras
        .iter_mut()
        .find(|t| t.get("id").and_then(Item::as_str) == Some(camera))
        .ok_or_else(|| format!("no [[cameras]] table with id = {camera:?} in the policy file"))?;
    for (key, polys) in [
        ("privacy_masks", &zones.privacy_masks),
        ("recording_zones", &zones.recording_zones),
    ] {
        if polys.is_empty() {
            table.remove(key);
            continue;
        }
        let new = Value::Array(polygons(polys));
        match table.get_mut(key).and_then(Item::as_value_mut) {
            // In place: the key's comment lines and the value's trailing comment stay.
            Some(old) => {
                let decor = old.decor().clone();
                *old = new;
                *old.decor_mut() = decor;
            }
            None => {
                table.insert(key, Item::Value(new));
            }
        }
    }
    Ok(doc.to_string())
}

/// `[[[x, y], …], …]` on one line, 4 decimals (a 10th of a pixel at 4K): what an operator would type.
fn polygons(polys: &[Polygon]) -> Array {
    let mut all = Array::new();
    for poly in polys {
        let mut p = Array::new();
        for pt in poly {
            let mut xy = Array::new();
            xy.push(round4(pt[0]));
            xy.push(round4(pt[1]));
            p.push(xy);
        }
        all.push(p);
    }
    all
}

fn round4(v: f32) -> f64 {
    (f64::from(v) * 10_000.0).round() / 10_000.0
}

/// A validation error placed on its polygon.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolygonError {
    /// `privacy_masks` or `recording_zones`
    pub kind: String,
    pub index: usize,
    pub message: String,
}

/// The errors (`path`, `message`) that name one of `camera`'s polygons, e.g.
/// `cameras[sim-1].privacy_masks[0][2]` → privacy mask 0.
pub fn polygon_errors<'a>(
    camera: &str,
    errors: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<PolygonError> {
    let prefix = format!("cameras[{camera}].");
    errors
        .into_iter()
        .filter_map(|(path, message)| {
            let rest = path.strip_prefix(&prefix)?;
            let kind = KINDS.into_iter().find(|k| rest.starts_with(k))?;
            let index = rest[kind.len()..]
                .strip_prefix('[')?
                .split(']')
                .next()?
                .parse()
                .ok()?;
            Some(PolygonError {
                kind: kind.into(),
                index,
                message: message.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"# The demo site.
[site]
name = "t"   # shown in the notice

[[cameras]]
id = "a"
url = "rtsp://h/a"
# The window block stays hidden.
privacy_masks = [[[0.0, 0.0], [0.22, 0.0], [0.22, 0.18]]]  # fractions

[[cameras]]
# second camera
id = "b"
url = "rtsp://h/b"
"#;

    #[test]
    fn replaces_only_the_polygons_and_keeps_every_comment() {
        let z = Zones {
            privacy_masks: vec![vec![[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]],
            recording_zones: vec![vec![[0.0, 0.5], [1.0, 0.5], [1.0, 1.0], [0.0, 1.0]]],
        };
        let out = set_zones(FILE, "a", &z).unwrap();
        for comment in [
            "# The demo site.",
            "# shown in the notice",
            "# The window block stays hidden.",
            "# fractions",
            "# second camera",
        ] {
            assert!(out.contains(comment), "{comment} lost:\n{out}");
        }
        assert!(
            out.contains("privacy_masks = [[[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]]  # fractions"),
            "{out}"
        );
        assert!(
            out.contains("recording_zones = [[[0.0, 0.5], [1.0, 0.5], [1.0, 1.0], [0.0, 1.0]]]")
        );
        // Camera b untouched, and the rest of the file byte for byte.
        let tail = &FILE[FILE.find("[[cameras]]\n# second").unwrap()..];
        assert!(out.ends_with(tail), "{out}");
        assert!(
            out.starts_with("# The demo site.\n[site]\nname = \"t\"   # shown in the notice\n")
        );
    }

    #[test]
    fn an_empty_list_removes_the_key_and_unknown_cameras_are_named() {
        let out = set_zones(FILE, "a", &Zones::default()).unwrap();
        assert!(!out.contains("privacy_masks"), "{out}");
        let e = set_zones(FILE, "zz", &Zones::default()).unwrap_err();
        assert!(e.contains("\"zz\""), "{e}");
        assert!(set_zones("[site", "a", &Zones::default()).is_err());
    }

    #[test]
    fn coordinates_are_written_as_typed() {
        let z = Zones {
            privacy_masks: vec![vec![[0.123_456, 0.22], [0.3, 0.7], [0.999_99, 1.0]]],
            ..Zones::default()
        };
        let out = set_zones(FILE, "b", &z).unwrap();
        assert!(
            out.contains("privacy_masks = [[[0.1235, 0.22], [0.3, 0.7], [1.0, 1.0]]]"),
            "{out}"
        );
    }

    #[test]
    fn errors_are_placed_on_their_polygon() {
        let errs = [
            ("cameras[a].privacy_masks[1]", "polygon intersects itself"),
            (
                "cameras[a].recording_zones[0][2]",
                "coordinates must be within 0..1",
            ),
            ("cameras[b].privacy_masks[0]", "other camera"),
            ("site.name", "unrelated"),
        ];
        let got = polygon_errors("a", errs);
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].kind.as_str(), got[0].index), ("privacy_masks", 1));
        assert_eq!((got[1].kind.as_str(), got[1].index), ("recording_zones", 0));
    }
}
