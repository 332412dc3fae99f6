//! HTTPS for the API (and later the console): rustls with the site's certificate and key files, or a
//! self-signed pair made on first start under the storage path and kept (0600), its SHA-256 fingerprint printed
//! so a browser's warning can be checked against it. One port speaks both: a TLS handshake is served over TLS;
//! plain HTTP only from loopback (the container's own healthcheck, the CLI on the host), unless the policy says
//! `dangerously_plain_http`.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::Digest;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How the HTTP port is served.
#[derive(Clone)]
pub enum Transport {
    /// Plain HTTP to everyone (a loopback bind, or `dangerously_plain_http`).
    Plain,
    /// TLS; plain HTTP only from loopback peers.
    Tls(Arc<rustls::ServerConfig>),
}

/// A loaded (or made) certificate: the rustls config and the certificate's SHA-256 fingerprint.
pub struct Certificate {
    pub config: Arc<rustls::ServerConfig>,
    pub fingerprint: String,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    /// True when this start made the pair.
    pub created: bool,
}

fn fingerprint(der: &[u8]) -> String {
    sha2::Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Loads the PEM certificate chain and private key; errors name the file.
pub fn load(cert_file: &Path, key_file: &Path) -> Result<Certificate, String> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_file)
        .map_err(|e| format!("{}: {e}", cert_file.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", cert_file.display()))?;
    let first = chain
        .first()
        .ok_or_else(|| format!("{}: no certificate in the file", cert_file.display()))?;
    let fp = fingerprint(first.as_ref());
    let key = PrivateKeyDer::from_pem_file(key_file)
        .map_err(|e| format!("{}: no private key ({e})", key_file.display()))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .map_err(|e| format!("{} and {}: {e}", cert_file.display(), key_file.display()))?;
    Ok(Certificate {
        config: Arc::new(config),
        fingerprint: fp,
        cert_file: cert_file.to_path_buf(),
        key_file: key_file.to_path_buf(),
        created: false,
    })
}

/// The self-signed pair under `dir` (`cert.pem`, `key.pem`), made on the first start for `names` (host names
/// and addresses the certificate is for), then loaded.
pub fn self_signed(dir: &Path, names: &[String]) -> Result<Certificate, String> {
    let (cert_file, key_file) = (dir.join("cert.pem"), dir.join("key.pem"));
    let mut created = false;
    if !cert_file.exists() || !key_file.exists() {
        let made = rcgen::generate_simple_self_signed(names.to_vec())
            .map_err(|e| format!("cannot make a self-signed certificate: {e}"))?;
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        write_private(&key_file, made.key_pair.serialize_pem().as_bytes())?;
        write_private(&cert_file, made.cert.pem().as_bytes())?;
        created = true;
    }
    let mut c = load(&cert_file, &key_file)?;
    c.created = created;
    Ok(c)
}

/// temp + fsync + rename, 0600.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("part");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| format!("{}: {e}", tmp.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}
