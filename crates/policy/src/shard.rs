//! Sharding a site's cameras across replicas. Replica K of N keeps the cameras whose stable hash falls in
//! shard K, so N replicas with distinct K in 0..N together run every camera exactly once. The hash must be the
//! same on every machine and in every release (a replica built later must agree with the ones running), so it
//! is spelled out here — FNV-1a 64 of the camera id, then jump consistent hashing (Lamping & Veach 2014) onto N
//! buckets — and never std's `DefaultHasher`, whose algorithm may change between Rust releases. Jump hashing
//! moves only about 1/(N+1) of the cameras when a replica is added, instead of nearly all of them.

use std::fmt;

/// The most replicas a site may be split across.
pub const MAX_SHARDS: u32 = 4096;

/// FNV-1a, 64-bit: a fixed, documented hash of the bytes.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Jump consistent hash: the bucket in 0..buckets of `key`.
fn jump(mut key: u64, buckets: u32) -> u32 {
    let (mut b, mut j): (i64, i64) = (-1, 0);
    while j < i64::from(buckets) {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        j = ((b + 1) as f64 * ((1u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    b as u32
}

/// The shard (0..shards) a camera belongs to. `shards` of 0 is treated as 1.
pub fn shard_of(camera_id: &str, shards: u32) -> u32 {
    jump(fnv1a64(camera_id.as_bytes()), shards.max(1))
}

/// One replica's part of the site: shard `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// The whole site in one process (the default).
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    pub fn new(index: u32, count: u32) -> Result<Shard, String> {
        if count == 0 || count > MAX_SHARDS {
            return Err(format!(
                "shard count {count} is out of range (1..={MAX_SHARDS})"
            ));
        }
        if index >= count {
            return Err(format!(
                "shard index {index} is not below the shard count {count} (shards are numbered 0..{})",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }

    /// Parses `K/N`, or `hostname/N` where K is the ordinal at the end of `hostname` (a StatefulSet pod
    /// named `garim-3` is shard 3).
    pub fn parse(spec: &str, hostname: &str) -> Result<Shard, String> {
        let (k, n) = spec
            .split_once('/')
            .ok_or_else(|| format!("{spec:?}: expected K/N (e.g. 2/8) or hostname/N"))?;
        let count: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("{spec:?}: shard count {n:?} is not a number"))?;
        let index = match k.trim() {
            "hostname" => ordinal_from_hostname(hostname).ok_or_else(|| {
                format!(
                    "{spec:?}: the hostname {hostname:?} does not end in an ordinal (-0, -1, …) as StatefulSet pods do"
                )
            })?,
            k => k
                .parse()
                .map_err(|_| format!("{spec:?}: shard index {k:?} is not a number"))?,
        };
        Shard::new(index, count).map_err(|e| format!("{spec:?}: {e}"))
    }

    /// Whether this shard runs `camera_id`.
    pub fn contains(&self, camera_id: &str) -> bool {
        shard_of(camera_id, self.count) == self.index
    }

    /// The lock file name of this shard: `shard-K-of-N.lock`.
    pub fn lock_name(&self) -> String {
        format!("shard-{}-of-{}.lock", self.index, self.count)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The ordinal at the end of a StatefulSet pod's hostname: `garim-3` → 3, `garim-12.garim.ns.svc` → 12.
pub fn ordinal_from_hostname(hostname: &str) -> Option<u32> {
    let short = hostname.split('.').next().unwrap_or_default();
    let (_, digits) = short.rsplit_once('-')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_matches_the_published_test_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn parse_reads_explicit_and_hostname_shards() {
        assert_eq!(Shard::parse("2/8", "x"), Ok(Shard { index: 2, count: 8 }));
        assert_eq!(
            Shard::parse("hostname/4", "garim-3"),
            Ok(Shard { index: 3, count: 4 })
        );
        assert_eq!(
            Shard::parse("hostname/16", "garim-12.garim.video.svc.cluster.local"),
            Ok(Shard {
                index: 12,
                count: 16
            })
        );
        let e = Shard::parse("4/4", "x").unwrap_err();
        assert!(e.contains("4/4") && e.contains("0..3"), "{e}");
        assert!(Shard::parse("hostname/4", "garim-7").is_err());
        assert!(Shard::parse("hostname/4", "nvr-box").is_err());
        assert!(Shard::parse("1/0", "x").is_err());
        assert!(Shard::parse("3", "x").is_err());
        assert!(Shard::parse("a/3", "x").is_err());
    }

    #[test]
    fn ordinal_comes_from_the_last_dash_of_the_short_name() {
        assert_eq!(ordinal_from_hostname("garim-0"), Some(0));
        assert_eq!(ordinal_from_hostname("my-garim-site-21"), Some(21));
        assert_eq!(ordinal_from_hostname("garim"), None);
        assert_eq!(ordinal_from_hostname("garim-"), None);
        assert_eq!(ordinal_from_hostname("garim-3a"), None);
        assert_eq!(ordinal_from_hostname("host.garim-3"), None);
    }
}
