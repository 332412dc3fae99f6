//! Checking the chain: a walk over the rows in seq order that recomputes each row's hash and its link to the
//! row before, compares the rows that signed checkpoints name, and, when something is wrong, works out what
//! was done to the first broken row (edited, deleted, inserted, moved) from the hashes that survive.

use crate::checkpoint::Checkpoint;
use crate::{GENESIS_HASH, HashInput, LedgerError, row_digest};
use serde::Serialize;
use std::fmt;

/// What `Ledger::verify` found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VerifyReport {
    /// Rows walked (up to and including the first broken one).
    pub rows: u64,
    /// The newest row's number and hash.
    pub head: Option<(u64, String)>,
    /// Signed checkpoints that were checked.
    pub checkpoints: usize,
    /// The first problem; None when the ledger is intact.
    pub problem: Option<Problem>,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.problem.is_none()
    }
}

/// The first broken row and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    /// The stored hash does not match the row's contents.
    Edited { seq: u64 },
    /// Row `missing_seq` is gone: the chain jumps past it, or later rows were renumbered to close the gap.
    Deleted { after_seq: u64, missing_seq: u64 },
    /// The row is not on the chain: the next genuine row links past it, or it links to no earlier row.
    Inserted { seq: u64 },
    /// The row's contents are intact but belong at another position.
    Reordered { seq: u64 },
    /// A signed checkpoint names a row the ledger no longer holds as signed: beyond the head (rows cut
    /// off), or with another hash (rows rewritten, or cut off and appended again).
    Truncated { checkpoint_seq: u64, head_seq: u64 },
    /// A line of the checkpoint log does not verify.
    BadCheckpoint { line: usize, why: String },
    /// A stored inspection no longer matches (or lost) the report and signer its ledger row `seq` records.
    InspectionEdited { id: u64, seq: u64 },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::InspectionEdited { id, seq: 0 } => {
                write!(f, "inspection {id} was edited: no ledger row records it")
            }
            Problem::InspectionEdited { id, seq } => write!(
                f,
                "inspection {id} was edited or removed: it no longer matches ledger row {seq}"
            ),
            Problem::Edited { seq } => {
                write!(
                    f,
                    "row {seq} was edited: its hash does not match its contents"
                )
            }
            Problem::Deleted {
                after_seq: 0,
                missing_seq,
            } => write!(
                f,
                "row {missing_seq} was deleted: the ledger does not start at row 1"
            ),
            Problem::Deleted {
                after_seq,
                missing_seq,
            } => write!(
                f,
                "row {missing_seq} was deleted: the row after row {after_seq} is missing"
            ),
            Problem::Inserted { seq } => write!(
                f,
                "row {seq} was inserted: the hash chain does not pass through it (or the row before it \
                 was replaced)"
            ),
            Problem::Reordered { seq } => write!(
                f,
                "row {seq} was moved: its contents hash correctly only at another position"
            ),
            Problem::Truncated {
                checkpoint_seq,
                head_seq,
            } if checkpoint_seq > head_seq => write!(
                f,
                "the ledger was truncated: a signed checkpoint names row {checkpoint_seq} but the newest \
                 row is {head_seq}"
            ),
            Problem::Truncated {
                checkpoint_seq,
                head_seq,
            } => write!(
                f,
                "rows up to {checkpoint_seq} were rewritten or truncated and appended again: row \
                 {checkpoint_seq}'s hash differs from the signed checkpoint's (the newest row is \
                 {head_seq})"
            ),
            Problem::BadCheckpoint { line, why } => {
                write!(f, "checkpoint log line {line} cannot be trusted: {why}")
            }
        }
    }
}

/// The outcome of one row of the walk.
pub(crate) enum Step {
    Ok,
    Problem(Problem),
    /// Broken; `explain` needs the database to say how.
    Suspect(Box<Suspect>),
}

/// A broken row, owned so the walk's statement can be dropped before looking other rows up.
pub(crate) struct Suspect {
    seq: u64,
    at_ms: i64,
    kind: Vec<u8>,
    fields: [Vec<u8>; 9],
    detail: Vec<u8>,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
    /// Its stored hash matches its contents (only the link to the row before is wrong).
    consistent: bool,
}

impl Suspect {
    fn of(r: &HashInput<'_>, hash: &[u8], consistent: bool) -> Suspect {
        Suspect {
            seq: r.seq,
            at_ms: r.at_ms,
            kind: r.kind.to_vec(),
            fields: r.fields.map(<[u8]>::to_vec),
            detail: r.detail.to_vec(),
            prev_hash: r.prev_hash.to_vec(),
            hash: hash.to_vec(),
            consistent,
        }
    }

    fn hashes_at(&self, seq: u64) -> bool {
        let digest = row_digest(&HashInput {
            seq,
            at_ms: self.at_ms,
            kind: &self.kind,
            fields: [
                &self.fields[0],
                &self.fields[1],
                &self.fields[2],
                &self.fields[3],
                &self.fields[4],
                &self.fields[5],
                &self.fields[6],
                &self.fields[7],
                &self.fields[8],
            ],
            detail: &self.detail,
            prev_hash: &self.prev_hash,
        });
        hex_of(&digest) == self.hash.as_slice()
    }
}

fn hex_of(digest: &[u8; 32]) -> [u8; 64] {
    let mut out = [0u8; 64];
    // The buffer is exactly twice the digest: encoding cannot fail.
    let _ = hex::encode_to_slice(digest, &mut out);
    out
}

/// The walk's state between rows; no allocation per row.
pub(crate) struct Walker<'c> {
    checkpoints: &'c [Checkpoint],
    next_checkpoint: usize,
    head_seq: u64,
    prev: Option<(u64, [u8; 64])>,
    pub rows: u64,
}

impl<'c> Walker<'c> {
    pub fn new(checkpoints: &'c [Checkpoint], head_seq: u64) -> Walker<'c> {
        Walker {
            checkpoints,
            next_checkpoint: 0,
            head_seq,
            prev: None,
            rows: 0,
        }
    }

    pub fn step(&mut self, r: &HashInput<'_>, stored_hash: &[u8]) -> Step {
        self.rows += 1;
        let hash = hex_of(&row_digest(r));
        if hash != stored_hash {
            return Step::Suspect(Box::new(Suspect::of(r, stored_hash, false)));
        }
        match self.prev {
            None => {
                if r.seq != 1 {
                    return Step::Problem(Problem::Deleted {
                        after_seq: 0,
                        missing_seq: 1,
                    });
                }
                if r.prev_hash != GENESIS_HASH.as_bytes() {
                    return Step::Problem(Problem::Inserted { seq: 1 });
                }
            }
            Some((prev_seq, prev_hash)) => {
                if r.seq > prev_seq.saturating_add(1) {
                    return Step::Problem(Problem::Deleted {
                        after_seq: prev_seq,
                        missing_seq: prev_seq + 1,
                    });
                }
                if r.seq <= prev_seq {
                    // A repeated number (a store without its primary key).
                    return Step::Problem(Problem::Inserted { seq: r.seq });
                }
                if r.prev_hash != prev_hash {
                    return Step::Suspect(Box::new(Suspect::of(r, stored_hash, true)));
                }
            }
        }
        self.prev = Some((r.seq, hash));
        while let Some(cp) = self.checkpoints.get(self.next_checkpoint) {
            if cp.seq > r.seq {
                break;
            }
            self.next_checkpoint += 1;
            if cp.seq == r.seq && cp.hash.as_bytes() != stored_hash {
                return Step::Problem(Problem::Truncated {
                    checkpoint_seq: cp.seq,
                    head_seq: self.head_seq,
                });
            }
        }
        Step::Ok
    }

    /// After a clean walk: a checkpoint beyond the head means rows were cut off the end.
    pub fn after_last(&self, head_seq: u64) -> Option<Problem> {
        let last = self.checkpoints.last()?;
        (last.seq > head_seq).then_some(Problem::Truncated {
            checkpoint_seq: last.seq,
            head_seq,
        })
    }
}

/// How far from its position a moved row's original number is searched for.
const SEARCH: u64 = 64;

/// Names what was done to a broken row. `seq_of_hash` finds the row that now holds a hash.
pub(crate) fn explain(
    s: Box<Suspect>,
    seq_of_hash: &mut dyn FnMut(&str) -> Result<Option<u64>, LedgerError>,
) -> Result<Problem, LedgerError> {
    // Where the row's predecessor (by its recorded prev_hash) now sits; 0 for the genesis.
    let pred = if s.prev_hash == GENESIS_HASH.as_bytes() {
        Some(0)
    } else {
        match std::str::from_utf8(&s.prev_hash) {
            Ok(h) => seq_of_hash(h)?,
            Err(_) => None,
        }
    };
    if s.consistent {
        return Ok(match pred {
            Some(q) if q > s.seq => Problem::Reordered { seq: s.seq },
            // The rows between its predecessor and it are not on the chain.
            Some(q) if q.saturating_add(1) < s.seq => Problem::Inserted { seq: q + 1 },
            _ => Problem::Inserted { seq: s.seq },
        });
    }
    // The number the row was hashed with, if its contents are intact.
    let near = (1..=SEARCH).flat_map(|d| [s.seq.saturating_add(d), s.seq.saturating_sub(d)]);
    let original = pred
        .map(|q| q.saturating_add(1))
        .into_iter()
        .chain(near)
        .filter(|&o| o >= 1 && o != s.seq)
        .find(|&o| s.hashes_at(o));
    Ok(match original {
        None => Problem::Edited { seq: s.seq },
        // Its predecessor now sits at or after it: rows were swapped or moved.
        Some(_) if pred.is_some_and(|q| q >= s.seq) => Problem::Reordered { seq: s.seq },
        // Hashed further on: rows before it were deleted and the rest renumbered down.
        Some(o) if o > s.seq => Problem::Deleted {
            after_seq: s.seq.saturating_sub(1),
            missing_seq: s.seq,
        },
        // Hashed earlier: rows were inserted from `o` and the rest renumbered up.
        Some(o) => Problem::Inserted { seq: o },
    })
}
