//! What an approved opening of sealed recordings hands over: each requested camera's segments in the window as
//! one MP4. One camera gives its MP4; several give one ZIP of their MP4s (stored, not compressed: H.264 does
//! not shrink) with a manifest that names each file's SHA-256 and the cameras that recorded nothing then.
//! Only [`export`] runs with the rebuilt key; [`hand_over`] hashes and packs after it is forgotten. Every file
//! passes through a 0600 file in the exports folder and is removed once handed over.

use anyhow::{Context, Result, anyhow};
use requests::Opening;
use server::api::ExportFile;
use sha2::Digest;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// One camera's part of an opening's output.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Part {
    pub camera: String,
    /// The MP4's name inside the output (none: the camera recorded nothing sealed in the window).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    pub segments: usize,
}

/// The file handed over, its SHA-256, and each camera's part.
pub struct Opened {
    pub file: ExportFile,
    pub sha256: String,
    pub parts: Vec<Part>,
}

/// One camera's export, made with the rebuilt key (none: it recorded nothing sealed in the window).
pub struct Exported {
    pub camera: String,
    pub file: Option<ExportFile>,
    pub segments: usize,
}

/// Exports every camera of the opening with the grant, and nothing else: hashing and packing happen after the
/// key is forgotten ([`hand_over`]). A camera with no sealed recordings in the window is passed over when there
/// are several; for one camera, or none at all, it is an error.
pub fn export(
    vault: &vault::Vault,
    o: &Opening,
    dir: &Path,
    unique: &dyn Fn() -> String,
    grant: &vault::Grant,
) -> Result<Vec<Exported>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut out = Vec::new();
    for camera in &o.cameras {
        let stream = vocab::StreamName::new(camera, vocab::StreamKind::Sealed).to_string();
        let rows = vault
            .list(Some(&stream), o.from, o.to)
            .with_context(|| format!("camera {camera}"))?;
        if o.cameras.len() > 1 && rows.is_empty() {
            out.push(Exported {
                camera: camera.clone(),
                file: None,
                segments: 0,
            });
            continue;
        }
        let path = dir.join(format!("{}-{camera}-{}.mp4", o.id, unique()));
        let (path, segments) =
            media::export::export(vault, &stream, o.from, o.to, Some(grant), &path)
                .with_context(|| format!("camera {camera}"))?;
        out.push(Exported {
            camera: camera.clone(),
            file: Some(ExportFile {
                path,
                file_name: format!("{}-{camera}.mp4", o.id),
            }),
            segments,
        });
    }
    if out.iter().all(|e| e.file.is_none()) {
        return Err(anyhow!(
            "no sealed recordings of {} between the given times",
            o.cameras.join(", ")
        ));
    }
    Ok(out)
}

/// What is handed over: one camera's MP4 as it is, or a ZIP of several (each MP4 removed once copied in, so the
/// footage is on disk about once), with the SHA-256 of each.
pub fn hand_over(
    o: &Opening,
    dir: &Path,
    unique: &dyn Fn() -> String,
    mut exported: Vec<Exported>,
) -> Result<Opened> {
    if exported.len() == 1 {
        let e = exported.pop().expect("one");
        let file = e.file.expect("a single camera's export has its file");
        let sha256 = crate::custody::sha256_file(&file.path)
            .with_context(|| format!("cannot read {}", file.path.display()))?;
        return Ok(Opened {
            parts: vec![Part {
                camera: e.camera,
                file: Some(file.file_name.clone()),
                sha256: Some(sha256.clone()),
                segments: e.segments,
            }],
            file,
            sha256,
        });
    }
    let out = dir.join(format!("{}-{}.zip", o.id, unique()));
    let file = ExportFile {
        path: out.clone(),
        file_name: format!("{}.zip", o.id),
    };
    let parts =
        write_zip(&out, o, exported).with_context(|| format!("cannot write {}", out.display()))?;
    let sha256 = crate::custody::sha256_file(&file.path)
        .with_context(|| format!("cannot read {}", out.display()))?;
    Ok(Opened {
        file,
        sha256,
        parts,
    })
}

/// The MP4s, each hashed as it is copied in and then removed, and the manifest last (it holds their hashes),
/// in one ZIP written whole and synced (a 0600 file).
fn write_zip(out: &Path, o: &Opening, exported: Vec<Exported>) -> Result<Vec<Part>> {
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(out)?;
    let mut zip = zip::ZipWriter::new(f);
    let stored = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .unix_permissions(0o600)
        .large_file(true);
    let mut parts = Vec::with_capacity(exported.len());
    for e in exported {
        let Some(file) = e.file else {
            parts.push(Part {
                camera: e.camera,
                file: None,
                sha256: None,
                segments: 0,
            });
            continue;
        };
        zip.start_file(file.file_name.as_str(), stored)?;
        let mut src = std::fs::File::open(&file.path)
            .with_context(|| format!("cannot read {}", file.path.display()))?;
        let mut hash = sha2::Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = src.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hash.update(&buf[..n]);
            zip.write_all(&buf[..n])?;
        }
        parts.push(Part {
            camera: e.camera,
            file: Some(file.file_name.clone()),
            sha256: Some(hex::encode(hash.finalize())),
            segments: e.segments,
        });
        drop(file);
    }
    let manifest = serde_json::json!({
        "opening": o.id,
        "ground": o.ground,
        "reference": o.reference,
        "requested_by": o.requested_by,
        "from": vault::time::utc_stamp(o.from),
        "to": vault::time::utc_stamp(o.to),
        "approved_by": o.approvals.iter().map(|a| a.by.as_str()).collect::<Vec<_>>(),
        "cameras": parts,
    });
    zip.start_file(format!("{}-manifest.json", o.id), stored)?;
    zip.write_all(&serde_json::to_vec_pretty(&manifest)?)?;
    zip.finish()?.sync_all()?;
    Ok(parts)
}
