//! Encrypted segment files: a header, then the muxer's bytes in chunks sealed with the STREAM construction
//! (ChaCha20-Poly1305, 32-bit big-endian counter, last-chunk flag), the header bound to every chunk. Nothing
//! is written in the clear: bytes are encrypted on their way from the muxer to the file. A file is written as
//! `NAME.part`, fsync'ed and renamed only when its last chunk is sealed, so a truncated or altered file fails
//! authentication instead of playing partly.

use crate::VaultError;
use crate::keys::{SecretKey, random_bytes};
use chacha20poly1305::ChaCha20Poly1305;
use chacha20poly1305::aead::stream::{DecryptorBE32, EncryptorBE32};
use chacha20poly1305::aead::{KeyInit, Payload};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"GARIMSG1";
/// Plaintext bytes per sealed chunk.
pub const CHUNK: usize = 64 * 1024;
const TAG: usize = 16;
const HEADER_LEN: usize = 8 + 7 + 4;

/// Streams plaintext into an encrypted `.part` file.
pub struct SegmentWriter {
    file: File,
    part: PathBuf,
    done: PathBuf,
    header: Vec<u8>,
    enc: Option<EncryptorBE32<ChaCha20Poly1305>>,
    buf: Vec<u8>,
    plain_bytes: u64,
}

impl SegmentWriter {
    /// Starts `path` (final name) as `path.part`.
    pub fn create(path: &Path, key: &SecretKey) -> Result<SegmentWriter, VaultError> {
        let part = PathBuf::from(format!("{}.part", path.display()));
        let file = File::create(&part).map_err(|e| VaultError::io(&part, e))?;
        Self::start(file, part, path, key)
    }

    /// [`Self::create`], unless `path.part` exists already (another segment being written under that name):
    /// then `None`, and that file is left alone.
    pub fn create_new(path: &Path, key: &SecretKey) -> Result<Option<SegmentWriter>, VaultError> {
        let part = PathBuf::from(format!("{}.part", path.display()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&part)
        {
            Ok(file) => Self::start(file, part, path, key).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(None),
            Err(e) => Err(VaultError::io(&part, e)),
        }
    }

    fn start(
        mut file: File,
        part: PathBuf,
        path: &Path,
        key: &SecretKey,
    ) -> Result<SegmentWriter, VaultError> {
        let io = |e: std::io::Error| VaultError::io(&part, e);
        let prefix: [u8; 7] = random_bytes();
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&prefix);
        header.extend_from_slice(&(CHUNK as u32).to_be_bytes());
        file.write_all(&header).map_err(io)?;
        let aead = ChaCha20Poly1305::new(key.bytes().as_slice().into());
        Ok(SegmentWriter {
            file,
            part,
            done: path.to_path_buf(),
            header,
            enc: Some(EncryptorBE32::from_aead(aead, prefix.as_slice().into())),
            buf: Vec::with_capacity(CHUNK),
            plain_bytes: 0,
        })
    }

    pub fn write(&mut self, mut data: &[u8]) -> Result<(), VaultError> {
        self.plain_bytes += data.len() as u64;
        while !data.is_empty() {
            let take = (CHUNK - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buf.len() == CHUNK && !data.is_empty() {
                self.seal_chunk()?;
            }
        }
        Ok(())
    }

    fn seal_chunk(&mut self) -> Result<(), VaultError> {
        let enc = self.enc.as_mut().expect("writer not finished");
        let ct = enc
            .encrypt_next(Payload {
                msg: &self.buf,
                aad: &self.header,
            })
            .map_err(|_| VaultError::Crypto(self.part.display().to_string()))?;
        self.file
            .write_all(&ct)
            .map_err(|e| VaultError::io(&self.part, e))?;
        self.buf.clear();
        Ok(())
    }

    /// Seals the last chunk, fsyncs, renames to the final name and fsyncs the directory.
    pub fn finish(mut self) -> Result<(PathBuf, u64), VaultError> {
        let enc = self.enc.take().expect("finished once");
        let ct = enc
            .encrypt_last(Payload {
                msg: &self.buf,
                aad: &self.header,
            })
            .map_err(|_| VaultError::Crypto(self.part.display().to_string()))?;
        let io = |e: std::io::Error| VaultError::io(&self.part, e);
        self.file.write_all(&ct).map_err(io)?;
        self.file.sync_all().map_err(io)?;
        std::fs::rename(&self.part, &self.done).map_err(io)?;
        if let Some(dir) = self.done.parent() {
            File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
        }
        Ok((self.done.clone(), self.plain_bytes))
    }

    /// Abandons the segment: the partial file is removed.
    pub fn abort(self) {
        let _ = std::fs::remove_file(&self.part);
    }
}

/// Decrypts a whole segment; any altered, reordered or truncated chunk is an error naming the file.
pub fn read_segment(path: &Path, key: &SecretKey) -> Result<Vec<u8>, VaultError> {
    let name = path.display().to_string();
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| VaultError::io(path, e))?;
    if bytes.len() < HEADER_LEN + TAG || &bytes[..8] != MAGIC {
        return Err(VaultError::Tampered(format!(
            "{name}: not a garim segment or truncated"
        )));
    }
    let header = &bytes[..HEADER_LEN];
    let chunk = u32::from_be_bytes(header[15..19].try_into().expect("4 bytes")) as usize;
    if chunk != CHUNK {
        return Err(VaultError::Tampered(format!(
            "{name}: unexpected chunk size {chunk}"
        )));
    }
    let aead = ChaCha20Poly1305::new(key.bytes().as_slice().into());
    let mut dec = DecryptorBE32::from_aead(aead, header[8..15].into());
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = &bytes[HEADER_LEN..];
    let mut index = 0usize;
    let fail = |i: usize| {
        VaultError::Tampered(format!(
            "{name}: chunk {i} fails authentication (altered, truncated or wrong key)"
        ))
    };
    loop {
        if rest.len() > CHUNK + TAG {
            let (c, r) = rest.split_at(CHUNK + TAG);
            let pt = dec
                .decrypt_next(Payload {
                    msg: c,
                    aad: header,
                })
                .map_err(|_| fail(index))?;
            out.extend_from_slice(&pt);
            rest = r;
            index += 1;
        } else {
            let pt = dec
                .decrypt_last(Payload {
                    msg: rest,
                    aad: header,
                })
                .map_err(|_| fail(index))?;
            out.extend_from_slice(&pt);
            return Ok(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("garim-seg-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d.join(name)
    }

    #[test]
    fn segment_roundtrips_and_never_holds_plaintext() {
        let key = SecretKey::random();
        let path = tmp("a.seg");
        let plain: Vec<u8> = (0..(3 * CHUNK + 123)).map(|i| (i % 251) as u8).collect();
        let mut w = SegmentWriter::create(&path, &key).unwrap();
        for part in plain.chunks(10_000) {
            w.write(part).unwrap();
        }
        let (done, n) = w.finish().unwrap();
        assert_eq!(n as usize, plain.len());
        assert!(!PathBuf::from(format!("{}.part", path.display())).exists());
        let stored = std::fs::read(&done).unwrap();
        assert!(
            !stored.windows(64).any(|w| w == &plain[1000..1064]),
            "plaintext on disk"
        );
        assert_eq!(read_segment(&done, &key).unwrap(), plain);
        assert!(read_segment(&done, &SecretKey::random()).is_err());
    }

    #[test]
    fn flipped_bit_or_truncation_fails_naming_the_segment() {
        let key = SecretKey::random();
        let path = tmp("b.seg");
        let mut w = SegmentWriter::create(&path, &key).unwrap();
        w.write(&vec![7u8; 2 * CHUNK + 5]).unwrap();
        let (done, _) = w.finish().unwrap();
        let good = std::fs::read(&done).unwrap();
        let mut flipped = good.clone();
        flipped[HEADER_LEN + CHUNK + 40] ^= 1;
        std::fs::write(&done, &flipped).unwrap();
        let e = read_segment(&done, &key).unwrap_err().to_string();
        assert!(e.contains("b.seg") && e.contains("chunk 1"), "{e}");
        // Dropping the last chunk must not pass for a complete file.
        std::fs::write(&done, &good[..HEADER_LEN + 2 * (CHUNK + TAG)]).unwrap();
        assert!(read_segment(&done, &key).is_err());
    }

    #[test]
    fn empty_and_exact_chunk_sizes_roundtrip() {
        let key = SecretKey::random();
        for len in [0, 1, CHUNK, 2 * CHUNK] {
            let path = tmp(&format!("c{len}.seg"));
            let mut w = SegmentWriter::create(&path, &key).unwrap();
            w.write(&vec![3u8; len]).unwrap();
            let (done, _) = w.finish().unwrap();
            assert_eq!(read_segment(&done, &key).unwrap().len(), len);
        }
    }
}
