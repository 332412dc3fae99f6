//! Login throttling: failed logins are counted per account and per client (address), in memory, and a key
//! that fails too often in its window is locked out for a while. Memory is bounded: each map holds at most
//! `cap` keys and evicts the least recently failed one, so a flood of made-up names cannot exhaust memory
//! (the flood itself trips the per-client limit first). Counts are per process: replicas each keep theirs,
//! which multiplies an attacker's budget by the number of replicas, not more.

use crate::Clock;
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// How many failures a key may have in a window before it is locked, and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub max_failures: u32,
    pub window_ms: i64,
    pub lockout_ms: i64,
}

impl Limit {
    /// One account: 5 failures in 15 minutes lock it for 15 minutes.
    pub const ACCOUNT: Limit = Limit {
        max_failures: 5,
        window_ms: 15 * 60_000,
        lockout_ms: 15 * 60_000,
    };
    /// One client: 20 failures in 15 minutes, over any accounts, lock it out for 15 minutes.
    pub const CLIENT: Limit = Limit {
        max_failures: 20,
        window_ms: 15 * 60_000,
        lockout_ms: 15 * 60_000,
    };
}

/// Refused: try again after `ms` milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("too many failed logins: retry in {} s", (ms + 999) / 1000)]
pub struct RetryAfter {
    pub ms: i64,
}

/// Default bound on the keys each map holds.
pub const DEFAULT_CAP: usize = 100_000;
/// Keys are cut to this many bytes: longer names and clients are invalid anyway, and must not cost memory.
const MAX_KEY_BYTES: usize = 128;

#[derive(Clone, Copy)]
struct Entry {
    window_start_ms: i64,
    failures: u32,
    locked_until_ms: i64,
    /// Position in `Counts::order`.
    seq: u64,
}

/// One map of counts with its eviction order (least recently failed first).
struct Counts {
    limit: Limit,
    entries: HashMap<String, Entry>,
    order: BTreeMap<u64, String>,
    next_seq: u64,
}

impl Counts {
    fn new(limit: Limit) -> Counts {
        Counts {
            limit,
            entries: HashMap::new(),
            order: BTreeMap::new(),
            next_seq: 0,
        }
    }

    fn check(&self, key: &str, now: i64) -> Result<(), RetryAfter> {
        match self.entries.get(key) {
            Some(e) if e.locked_until_ms > now => Err(RetryAfter {
                ms: e.locked_until_ms - now,
            }),
            _ => Ok(()),
        }
    }

    fn failed(&mut self, key: &str, now: i64, cap: usize) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let limit = self.limit;
        let e = match self.entries.get_mut(key) {
            Some(e) => {
                self.order.remove(&e.seq);
                e
            }
            None => {
                while self.entries.len() >= cap.max(1) {
                    let Some((_, oldest)) = self.order.pop_first() else {
                        break;
                    };
                    self.entries.remove(&oldest);
                }
                self.entries.entry(key.to_string()).or_insert(Entry {
                    window_start_ms: now,
                    failures: 0,
                    locked_until_ms: 0,
                    seq,
                })
            }
        };
        e.seq = seq;
        self.order.insert(seq, key.to_string());
        if now - e.window_start_ms >= limit.window_ms {
            e.window_start_ms = now;
            e.failures = 0;
        }
        e.failures += 1;
        if e.failures >= limit.max_failures {
            // Locked, and a fresh window after the lockout: the next failures count from zero.
            e.locked_until_ms = now + limit.lockout_ms;
            e.window_start_ms = e.locked_until_ms;
            e.failures = 0;
        }
    }

    fn clear(&mut self, key: &str) {
        if let Some(e) = self.entries.remove(key) {
            self.order.remove(&e.seq);
        }
    }
}

struct Maps {
    account: Counts,
    client: Counts,
}

/// Failed-login counts per account and per client. Cheap to share (`&self` methods, one mutex).
pub struct Throttle {
    maps: Mutex<Maps>,
    cap: usize,
    pub(crate) clock: Clock,
}

impl Default for Throttle {
    fn default() -> Throttle {
        Throttle::new(Limit::ACCOUNT, Limit::CLIENT)
    }
}

impl fmt::Debug for Throttle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.maps.lock();
        f.debug_struct("Throttle")
            .field("per_account", &m.account.limit)
            .field("per_client", &m.client.limit)
            .field("cap", &self.cap)
            .finish()
    }
}

fn key(s: &str) -> &str {
    if s.len() <= MAX_KEY_BYTES {
        return s;
    }
    let mut end = MAX_KEY_BYTES;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

impl Throttle {
    pub fn new(per_account: Limit, per_client: Limit) -> Throttle {
        Throttle {
            maps: Mutex::new(Maps {
                account: Counts::new(per_account),
                client: Counts::new(per_client),
            }),
            cap: DEFAULT_CAP,
            clock: crate::system_clock(),
        }
    }

    /// The clock (unix ms) the windows are measured on.
    pub fn with_clock(mut self, clock: Clock) -> Throttle {
        self.clock = clock;
        self
    }

    /// At most `cap` keys in each map (accounts, clients).
    pub fn with_cap(mut self, cap: usize) -> Throttle {
        self.cap = cap;
        self
    }

    /// Before verifying a password: refused while the account or the client is locked out.
    pub fn check(&self, account: &str, client: &str) -> Result<(), RetryAfter> {
        let now = (self.clock)();
        let m = self.maps.lock();
        let a = m.account.check(key(account), now);
        let c = m.client.check(key(client), now);
        match (a, c) {
            (Err(a), Err(c)) => Err(RetryAfter { ms: a.ms.max(c.ms) }),
            (Err(e), _) | (_, Err(e)) => Err(e),
            _ => Ok(()),
        }
    }

    /// A wrong password (or an unknown account) from `client`.
    pub fn failed(&self, account: &str, client: &str) {
        let now = (self.clock)();
        let mut m = self.maps.lock();
        m.account.failed(key(account), now, self.cap);
        m.client.failed(key(client), now, self.cap);
    }

    /// A successful login clears the account's count. The client's stays: one good password among many
    /// guesses at other accounts must not reset the guessing budget.
    pub fn succeeded(&self, account: &str, _client: &str) {
        self.maps.lock().account.clear(key(account));
    }

    /// How many keys are held (accounts, clients).
    pub fn len(&self) -> (usize, usize) {
        let m = self.maps.lock();
        (m.account.entries.len(), m.client.entries.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == (0, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI64, Ordering};

    fn fake_clock() -> (Arc<AtomicI64>, Clock) {
        let now = Arc::new(AtomicI64::new(1_800_000_000_000));
        let n = now.clone();
        (now, Arc::new(move || n.load(Ordering::SeqCst)))
    }

    const MIN: i64 = 60_000;

    #[test]
    fn five_failures_lock_the_account_until_the_lockout_passes() {
        let (now, clock) = fake_clock();
        let t = Throttle::default().with_clock(clock);
        for _ in 0..4 {
            t.check("kim", "10.0.0.1").unwrap();
            t.failed("kim", "10.0.0.1");
        }
        t.check("kim", "10.0.0.1").unwrap();
        t.failed("kim", "10.0.0.1");
        let e = t.check("kim", "10.0.0.1").unwrap_err();
        assert_eq!(e.ms, 15 * MIN);
        assert_eq!(e.to_string(), "too many failed logins: retry in 900 s");
        // From another client too: the account is what is being guessed.
        assert!(t.check("kim", "10.0.0.2").is_err());
        assert!(t.check("lee", "10.0.0.1").is_ok());
        now.fetch_add(15 * MIN - 1, Ordering::SeqCst);
        assert_eq!(t.check("kim", "10.0.0.1").unwrap_err().ms, 1);
        now.fetch_add(1, Ordering::SeqCst);
        t.check("kim", "10.0.0.1").unwrap();
    }

    #[test]
    fn failures_spread_beyond_the_window_do_not_add_up() {
        let (now, clock) = fake_clock();
        let t = Throttle::default().with_clock(clock);
        for _ in 0..20 {
            t.failed("kim", "10.0.0.1");
            t.check("kim", "10.0.0.1").unwrap();
            // Four per window, then the window passes.
            now.fetch_add(4 * MIN, Ordering::SeqCst);
        }
    }

    #[test]
    fn success_clears_the_account_count() {
        let (_, clock) = fake_clock();
        let t = Throttle::default().with_clock(clock);
        for _ in 0..4 {
            t.failed("kim", "10.0.0.1");
        }
        t.succeeded("kim", "10.0.0.1");
        for _ in 0..4 {
            t.failed("kim", "10.0.0.1");
        }
        t.check("kim", "10.0.0.1").unwrap();
    }

    #[test]
    fn one_client_guessing_many_accounts_is_locked_out() {
        let (now, clock) = fake_clock();
        let t = Throttle::default().with_clock(clock);
        for i in 0..19 {
            t.failed(&format!("user{i}"), "203.0.113.9");
            t.check(&format!("user{i}"), "203.0.113.9").unwrap();
        }
        t.failed("user19", "203.0.113.9");
        let e = t.check("anyone", "203.0.113.9").unwrap_err();
        assert_eq!(e.ms, 15 * MIN);
        assert!(t.check("anyone", "203.0.113.10").is_ok());
        // A success does not reset the client's count.
        t.succeeded("user3", "203.0.113.9");
        assert!(t.check("user3", "203.0.113.9").is_err());
        now.fetch_add(15 * MIN, Ordering::SeqCst);
        t.check("anyone", "203.0.113.9").unwrap();
    }

    #[test]
    fn a_flood_of_names_stays_within_the_cap() {
        let (_, clock) = fake_clock();
        let t = Throttle::new(
            Limit::ACCOUNT,
            Limit {
                max_failures: u32::MAX,
                ..Limit::CLIENT
            },
        )
        .with_clock(clock)
        .with_cap(1000);
        for i in 0..10_000 {
            t.failed(&format!("made-up-{i}"), &format!("198.51.100.{}", i % 3000));
        }
        assert_eq!(t.len(), (1000, 1000));
        // The most recent keys are the ones kept.
        let m = t.maps.lock();
        assert!(m.account.entries.contains_key("made-up-9999"));
        assert!(!m.account.entries.contains_key("made-up-0"));
        assert_eq!(m.account.order.len(), 1000);
    }

    #[test]
    fn long_keys_are_cut() {
        let t = Throttle::default();
        let long = "가".repeat(1000);
        t.failed(&long, &long);
        let m = t.maps.lock();
        assert!(m.account.entries.keys().all(|k| k.len() <= MAX_KEY_BYTES));
    }
}
