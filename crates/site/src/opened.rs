//! What an approved opening of sealed recordings hands over: each requested camera's segments in the window as
//! one MP4. One camera gives its MP4; several give one ZIP of their MP4s (stored, not compressed: H.264 does
//! not shrink) with a manifest that names each file's SHA-256 and the cameras that recorded nothing then.
//! Every file passes through a 0600 file in the exports folder and is removed once handed over.

use anyhow::{Context, Result, anyhow};
use requests::Opening;
use server::api::ExportFile;
use std::io::Write;
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

/// Exports every camera of the opening with the grant; one MP4 for one camera, a ZIP for several. A camera
/// with no sealed recordings in the window is named in the manifest; none at all is an error.
pub fn export(
    vault: &vault::Vault,
    o: &Opening,
    dir: &Path,
    unique: &dyn Fn() -> String,
    grant: &vault::Grant,
) -> Result<Opened> {
    std::fs::create_dir_all(dir)?;
    let mut parts = Vec::new();
    let mut files = Vec::new();
    for camera in &o.cameras {
        let stream = vocab::StreamName::new(camera, vocab::StreamKind::Sealed).to_string();
        if o.cameras.len() > 1 && vault.list(Some(&stream), o.from, o.to)?.is_empty() {
            parts.push(Part {
                camera: camera.clone(),
                file: None,
                sha256: None,
                segments: 0,
            });
            continue;
        }
        let out = dir.join(format!("{}-{camera}-{}.mp4", o.id, unique()));
        let (path, segments) =
            media::export::export(vault, &stream, o.from, o.to, Some(grant), &out)
                .with_context(|| format!("camera {camera}"))?;
        let file = ExportFile {
            path,
            file_name: format!("{}-{camera}.mp4", o.id),
        };
        parts.push(Part {
            camera: camera.clone(),
            file: Some(file.file_name.clone()),
            sha256: Some(crate::custody::sha256_file(&file.path)?),
            segments,
        });
        files.push(file);
    }
    if files.is_empty() {
        return Err(anyhow!(
            "no sealed recordings of {} between the given times",
            o.cameras.join(", ")
        ));
    }
    if o.cameras.len() == 1 {
        let file = files.pop().expect("one");
        let sha256 = parts[0].sha256.clone().expect("exported");
        return Ok(Opened {
            file,
            sha256,
            parts,
        });
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
    let out = dir.join(format!("{}-{}.zip", o.id, unique()));
    let file = ExportFile {
        path: out.clone(),
        file_name: format!("{}.zip", o.id),
    };
    write_zip(&out, &files, &format!("{}-manifest.json", o.id), &manifest)
        .with_context(|| format!("cannot write {}", out.display()))?;
    drop(files);
    let sha256 = crate::custody::sha256_file(&file.path)?;
    Ok(Opened {
        file,
        sha256,
        parts,
    })
}

/// The files and the manifest in one ZIP, written whole and synced (a 0600 file).
fn write_zip(
    out: &Path,
    files: &[ExportFile],
    manifest_name: &str,
    manifest: &serde_json::Value,
) -> Result<()> {
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
    zip.start_file(manifest_name, stored)?;
    zip.write_all(&serde_json::to_vec_pretty(manifest)?)?;
    for file in files {
        zip.start_file(file.file_name.as_str(), stored)?;
        std::io::copy(&mut std::fs::File::open(&file.path)?, &mut zip)?;
    }
    zip.finish()?.sync_all()?;
    Ok(())
}
