//! Following the requester through the detections of a window, from the operator's review.
//!
//! 1. Everyone is cut into runs of boxes: frame to frame, each detection goes to at most one run, the runs
//!    competing for it by overlap with where they should be (greedy, best overlap first). A run ends at a
//!    missed detection and wherever its box comes into or out of contact with someone else's, so an identity
//!    swap (which needs a miss or a contact) always falls between two runs.
//! 2. The runs under the operator's marks are theirs. From each, the chain grows forward and backward through
//!    the best continuation: close to where they were walking, about their size, alike in colour (the torso
//!    histogram averaged over the run), and only a mutual best (the continuation would pick this run back).
//!    A continuation that was the only fit is decided; any other is a suggestion, kept only once the operator
//!    confirms the track.
//! 3. The operator's corrections: "this is them" (a mark), "not them" (that run is never theirs; a run both
//!    marked and called "not them" is cut at its largest jump between the two), "not in this frame" (before
//!    every mark: they came in later; after: they had left).
//! 4. Short gaps between two of their runs are filled between the boxes on either side. Frames where someone
//!    else may be inside their box are uncertain (see `uncertain`): masked whole.

use crate::hist::{Hist, similarity};
use crate::uncertain::{Run, uncertain};
use detect::BBox;

/// One person detection of a frame, with its appearance.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub bbox: BBox,
    pub hist: Hist,
}

#[derive(Debug, Clone, Copy)]
pub struct FollowConfig {
    /// A detection overlapping a tracklet's predicted box at least this much may continue it.
    pub min_iou: f32,
    /// Frames a run may go unseen and still continue (0: a missed detection ends it; links bridge it).
    pub max_gap: usize,
    /// Frames between the end of one tracklet and the start of another that may be linked.
    pub link_frames: usize,
    /// Colour likeness (tracklet means) needed to link.
    pub link_similarity: f32,
    /// Fastest plausible motion, as box heights per frame, when linking.
    pub max_speed: f32,
    /// Another box overlapping the requester's this much makes the frame uncertain.
    pub overlap_uncertain: f32,
    /// The frame's size (pixels), when known: a run that walks out across an edge is not continued after it,
    /// nor one that walked in across an edge before it (someone else comes and goes there).
    pub frame: Option<(f32, f32)>,
    /// How near an edge (share of the frame's width or height) a box counts as at it.
    pub edge: f32,
    /// In a knot of runs (see `assign`), the cost of leaving a run's end without a continuation: a link
    /// costing more is not worth making.
    pub unassigned: f32,
}

impl Default for FollowConfig {
    fn default() -> Self {
        FollowConfig {
            min_iou: 0.3,
            max_gap: 0,
            link_frames: 30,
            link_similarity: 0.88,
            max_speed: 0.12,
            overlap_uncertain: 0.5,
            frame: None,
            edge: 0.04,
            unassigned: 1.0,
        }
    }
}

/// Why the mark could not start a track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeedError {
    NoFrame(usize),
    NoPerson { frame: usize },
}

impl std::fmt::Display for SeedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SeedError::NoFrame(i) => write!(f, "the mark is on frame {i}, outside the window"),
            SeedError::NoPerson { frame } => write!(
                f,
                "no detected person under the mark on frame {frame}: mark the person on another frame"
            ),
        }
    }
}

/// One person's run of boxes: (frame, box).
struct Tracklet {
    boxes: Vec<(usize, BBox)>,
    hist: Hist,
    n: f32,
    velocity: (f32, f32),
    /// Motion over its first frames (centre per frame), once it has them.
    v_start: Option<(f32, f32)>,
    /// Its boxes touch someone else's (see `touching`): a run never goes in or out of contact, so an
    /// identity swap, which happens only in contact, always falls between two runs.
    contact: bool,
}

impl Tracklet {
    fn last(&self) -> (usize, BBox) {
        *self.boxes.last().expect("a tracklet has a box")
    }

    fn first(&self) -> (usize, BBox) {
        self.boxes[0]
    }

    fn predicted(&self, frame: usize) -> BBox {
        let (f, b) = self.last();
        let n = (frame - f) as f32;
        BBox {
            x0: b.x0 + self.velocity.0 * n,
            y0: b.y0 + self.velocity.1 * n,
            x1: b.x1 + self.velocity.0 * n,
            y1: b.y1 + self.velocity.1 * n,
        }
    }

    fn new(frame: usize, p: &Person, contact: bool) -> Tracklet {
        Tracklet {
            boxes: vec![(frame, p.bbox)],
            hist: p.hist.clone(),
            n: 1.0,
            velocity: (0.0, 0.0),
            v_start: None,
            contact,
        }
    }

    fn push(&mut self, frame: usize, p: &Person) {
        let (f, b) = self.last();
        let n = (frame - f) as f32;
        let (ox, oy) = b.center();
        let (cx, cy) = p.bbox.center();
        let v = ((cx - ox) / n, (cy - oy) / n);
        self.velocity = (
            0.5 * self.velocity.0 + 0.5 * v.0,
            0.5 * self.velocity.1 + 0.5 * v.1,
        );
        self.hist = self.hist.blend(&p.hist, 1.0 / (self.n + 1.0));
        self.n += 1.0;
        self.boxes.push((frame, p.bbox));
        if self.v_start.is_none() && self.boxes.len() >= 5 {
            let (f0, b0) = self.boxes[0];
            let (x0, y0) = b0.center();
            let n = (frame - f0) as f32;
            self.v_start = Some(((cx - x0) / n, (cy - y0) / n));
        }
    }
}

/// Whether detection `d` touches another person's box in its frame (overlap ≥ 0.2; a partial second box of
/// the same person does not count).
fn touching(dets: &[Person], d: usize) -> bool {
    let b = &dets[d].bbox;
    dets.iter().enumerate().any(|(o, p)| {
        o != d
            && !crate::is_duplicate(&p.bbox, b)
            && !crate::is_duplicate(b, &p.bbox)
            && p.bbox.iou(b) >= 0.2
    })
}

/// Cuts run `t` in two at its largest jump (centre moved, in box heights, plus the change of size) between
/// frames `from` and `to`: the boxes from the cut on become a new run.
fn split(
    all: &mut Vec<Tracklet>,
    owner: &mut [Vec<Option<usize>>],
    frames: &[Vec<Person>],
    t: usize,
    from: usize,
    to: usize,
) {
    let boxes = &all[t].boxes;
    let jump = |k: usize| {
        let ((_, a), (_, b)) = (boxes[k - 1], boxes[k]);
        let (ax, ay) = a.center();
        let (bx, by) = b.center();
        ((bx - ax).hypot(by - ay)) / a.height().max(1.0)
            + (b.height() / a.height().max(1.0)).ln().abs()
    };
    let Some(cut) = (1..boxes.len())
        .filter(|&k| boxes[k].0 > from && boxes[k].0 <= to)
        .max_by(|&a, &b| jump(a).total_cmp(&jump(b)))
    else {
        return;
    };
    let contact = all[t].contact;
    let boxes = std::mem::take(&mut all[t].boxes);
    let (head, tail) = boxes.split_at(cut);
    // Both parts are built again box by box, so each has its own colour and motion (not the mix of two people).
    let rebuilt = |part: &[(usize, BBox)]| {
        let person = |&(f, b): &(usize, BBox)| {
            frames[f]
                .iter()
                .find(|p| p.bbox == b)
                .cloned()
                .unwrap_or(Person {
                    bbox: b,
                    hist: crate::Hist([0.0; crate::BINS]),
                })
        };
        let mut r = Tracklet::new(part[0].0, &person(&part[0]), contact);
        for b in &part[1..] {
            r.push(b.0, &person(b));
        }
        r
    };
    let id = all.len();
    for &(f, b) in tail {
        if let Some(d) = frames[f].iter().position(|p| p.bbox == b) {
            owner[f][d] = Some(id);
        }
    }
    all[t] = rebuilt(head);
    all.push(rebuilt(tail));
}

/// Every person's tracklets, and for each frame which tracklet each detection went to.
fn tracklets(
    frames: &[Vec<Person>],
    cfg: &FollowConfig,
) -> (Vec<Tracklet>, Vec<Vec<Option<usize>>>) {
    let mut all: Vec<Tracklet> = Vec::new();
    let mut owner: Vec<Vec<Option<usize>>> = Vec::with_capacity(frames.len());
    for (i, dets) in frames.iter().enumerate() {
        let mut own = vec![None; dets.len()];
        let touch: Vec<bool> = (0..dets.len()).map(|d| touching(dets, d)).collect();
        let mut pairs = Vec::new();
        for (t, tr) in all.iter().enumerate() {
            let (last, _) = tr.last();
            if i - last > cfg.max_gap + 1 {
                continue;
            }
            let pred = tr.predicted(i);
            let (_, lb) = tr.last();
            for (d, p) in dets.iter().enumerate() {
                let iou = p.bbox.iou(&pred);
                // A box much wider or taller than the last is two people merged (or a part): it continues no
                // one, so a track never slides from one person onto a neighbour through a merged box.
                let same_size = (0.7..=1.45).contains(&(p.bbox.width() / lb.width().max(1.0)))
                    && (0.7..=1.45).contains(&(p.bbox.height() / lb.height().max(1.0)));
                if iou >= cfg.min_iou && same_size && touch[d] == tr.contact {
                    pairs.push((iou, t, d));
                }
            }
        }
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut taken = vec![false; all.len()];
        for (_, t, d) in pairs {
            if taken[t] || own[d].is_some() {
                continue;
            }
            taken[t] = true;
            own[d] = Some(t);
            all[t].push(i, &dets[d]);
        }
        for (d, p) in dets.iter().enumerate() {
            // A partial second box of someone starts no tracklet of its own.
            if own[d].is_none() && !dets.iter().any(|q| crate::is_duplicate(&p.bbox, &q.bbox)) {
                own[d] = Some(all.len());
                all.push(Tracklet::new(i, p, touch[d]));
            }
        }
        owner.push(own);
    }
    (all, owner)
}

/// How a tracklet was joined to the requester's chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Joined {
    /// Under an operator's mark.
    Marked,
    /// The only candidate that fits (and it fits the strict test).
    Unique,
    /// The best of several candidates, or one that fits only the loose test: a suggestion the operator's
    /// review has to confirm.
    Suggested,
}

/// The cost of `c` continuing `t` (forward: `c` starts after `t` ends; backward: `c` ends before `t`
/// starts), if it may at all; `loose` widens the gates. Lower is better: mostly how far `c` starts from where
/// `t`, walking on as it walked, would be by then, in box heights.
fn cost(t: &Tracklet, c: &Tracklet, forward: bool, loose: bool, cfg: &FollowConfig) -> Option<f32> {
    let (edge, b) = if forward { t.last() } else { t.first() };
    let (at, cb) = if forward { c.first() } else { c.last() };
    let gap = if forward {
        at.checked_sub(edge)?
    } else {
        edge.checked_sub(at)?
    };
    if gap == 0 || gap > cfg.link_frames || crossed_edge(t, forward, cfg) {
        return None;
    }
    // Where they would be by now, walking on as they walked (when the run is long enough to tell).
    let v = if forward {
        Some(t.velocity).filter(|_| t.boxes.len() >= 5)
    } else {
        t.v_start.map(|(x, y)| (-x, -y))
    };
    let h = b.height().max(1.0);
    let (bx, by) = b.center();
    let (px, py) = v.map_or((bx, by), |(vx, vy)| {
        (bx + vx * gap as f32, by + vy * gap as f32)
    });
    let (cx, cy) = cb.center();
    let miss = (cx - px).hypot(cy - py).min((cx - bx).hypot(cy - by)) / h;
    let size = (cb.height() / h).ln().abs();
    let sim = similarity(&t.hist, &c.hist);
    let widen = if loose { 1.6 } else { 1.0 };
    let reach = (0.35 + cfg.max_speed * gap as f32) * widen;
    let need = if loose {
        cfg.link_similarity - 0.12
    } else {
        cfg.link_similarity
    };
    (miss <= reach && size <= 0.35 * widen && sim >= need)
        .then_some(miss + 0.03 * gap as f32 + 2.0 * (1.0 - sim) + size)
}

/// Whether run `t` walks out across an edge of the frame at its end (forward) or walked in across one at its
/// start (backward): its box at that end lies at the edge and its motion there points out of the frame.
fn crossed_edge(t: &Tracklet, forward: bool, cfg: &FollowConfig) -> bool {
    let Some((w, h)) = cfg.frame else {
        return false;
    };
    let (b, v) = if forward {
        (t.last().1, Some(t.velocity).filter(|_| t.boxes.len() >= 3))
    } else {
        let v = t
            .v_start
            .or(Some(t.velocity).filter(|_| t.boxes.len() >= 3));
        (t.first().1, v.map(|(x, y)| (-x, -y)))
    };
    let Some((vx, vy)) = v else { return false };
    let (ex, ey) = (cfg.edge * w, cfg.edge * h);
    (b.x0 <= ex && vx < 0.0)
        || (b.x1 >= w - ex && vx > 0.0)
        || (b.y0 <= ey && vy < 0.0)
        || (b.y1 >= h - ey && vy > 0.0)
}

/// The tracklet that best continues `from` (forward: starting after it ends; backward: ending before it
/// starts), with whether it was the only one that fits the strict gates. A mutual best is taken: `from` must
/// also be the best that run could continue from the other side, or else the run that run prefers lies
/// between the two and fits `from` as well (a short run of the same person, cut off by a brush with someone):
/// that one is taken instead, by the same test. Where there is no mutual best, `undecided` says what happens.
/// `skip` says which tracklets may not be taken.
fn link(
    all: &[Tracklet],
    skip: &dyn Fn(usize) -> bool,
    from: usize,
    forward: bool,
    cfg: &FollowConfig,
    undecided: Undecided,
) -> Option<(usize, bool)> {
    let t = &all[from];
    let best_of = |of: &Tracklet, fwd: bool, not: usize| {
        (0..all.len())
            .filter(|&c| c != not)
            .filter_map(|c| cost(of, &all[c], fwd, true, cfg).map(|k| (k, c)))
            .min_by(|a, b| a.0.total_cmp(&b.0))
    };
    let mut candidates: Vec<(f32, usize)> = (0..all.len())
        .filter(|&c| c != from && !skip(c))
        .filter_map(|c| cost(t, &all[c], forward, true, cfg).map(|k| (k, c)))
        .collect();
    candidates.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut pick = *candidates.first()?;
    // Seen from the candidate's side, nobody else would fit it better than `from`; unless that one lies
    // between the two and fits `from` too (a short run of theirs between two longer ones): it comes first.
    let mut mutual = false;
    for _ in 0..4 {
        let (k, best) = pick;
        match best_of(&all[best], !forward, best) {
            Some((kb, other)) if other != from && kb < k => {
                let between = if forward {
                    all[other].last().0 < all[best].first().0
                } else {
                    all[other].first().0 > all[best].last().0
                };
                match candidates.iter().find(|c| c.1 == other) {
                    Some(&c) if between => pick = c,
                    _ => break,
                }
            }
            _ => {
                mutual = true;
                break;
            }
        }
    }
    if !mutual {
        return match undecided {
            Undecided::Stop => None,
            // Never decided alone: a suggestion the operator's review confirms.
            Undecided::Assign => {
                assign(all, skip, from, forward, &candidates, cfg).map(|c| (c, false))
            }
        };
    }
    let (_, best) = pick;
    // Alternatives are the candidates seen while the best one is (a later run may be its continuation, not a
    // rival): it is decided alone only when none fits even loosely and it fits the strict gates.
    let (b0, b1) = (all[best].first().0, all[best].last().0);
    let rivals = candidates.iter().any(|&(_, c)| {
        let (c0, c1) = (all[c].first().0, all[c].last().0);
        c != best && c0 <= b1 && b0 <= c1
    });
    let strict = cost(t, &all[best], forward, false, cfg).is_some();
    Some((best, strict && !rivals))
}

/// What [`link`] does where `from` and its best candidate do not choose each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Undecided {
    /// No link (everyone's bridges: a wrong one would sweep a mask across someone).
    Stop,
    /// The requester's chain: solve the knot jointly (see [`assign`]).
    Assign,
}

/// Candidates per run looked at when untying a knot in [`assign`].
const KNOT_TOP: usize = 3;

/// Where runs end and start near each other (two people who walked side by side, or crossed) and `from` and
/// its best candidate do not choose each other: the ends in the knot (`from`, and the runs its best
/// candidates would rather continue) are given the starts (their best candidates) with the least total cost,
/// each start to at most one end and an end left without one at [`FollowConfig::unassigned`]. Returns the
/// start `from` gets, if any.
fn assign(
    all: &[Tracklet],
    skip: &dyn Fn(usize) -> bool,
    from: usize,
    forward: bool,
    candidates: &[(f32, usize)],
    cfg: &FollowConfig,
) -> Option<usize> {
    let ranked = |of: usize, fwd: bool| {
        let mut v: Vec<(f32, usize)> = (0..all.len())
            .filter(|&c| c != of)
            .filter_map(|c| cost(&all[of], &all[c], fwd, true, cfg).map(|k| (k, c)))
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        v.into_iter()
            .take(KNOT_TOP)
            .map(|x| x.1)
            .collect::<Vec<_>>()
    };
    let mut starts: Vec<usize> = candidates.iter().take(KNOT_TOP).map(|c| c.1).collect();
    let mut ends = vec![from];
    for &c in &starts {
        for o in ranked(c, !forward) {
            if !ends.contains(&o) && ends.len() <= KNOT_TOP {
                ends.push(o);
            }
        }
    }
    for &e in &ends[1..] {
        for c in ranked(e, forward) {
            if !starts.contains(&c) && starts.len() < 2 * KNOT_TOP {
                starts.push(c);
            }
        }
    }
    // What each end costs with each start (None: it may not take it), worked out once.
    let costs: Vec<Vec<Option<f32>>> = ends
        .iter()
        .map(|&e| {
            starts
                .iter()
                .map(|&s| {
                    (e != from || !skip(s))
                        .then(|| cost(&all[e], &all[s], forward, true, cfg))
                        .flatten()
                })
                .collect()
        })
        .collect();
    // Every assignment (at most 7^4): end k takes start choice[k], or none (choice == starts.len()).
    let options = starts.len() + 1;
    let mut best = (f32::INFINITY, None);
    let mut choice = vec![0usize; ends.len()];
    'all: loop {
        let mut total = 0.0;
        let mut used = vec![false; starts.len()];
        let mut fits = true;
        for (k, &c) in choice.iter().enumerate() {
            if c == starts.len() {
                total += cfg.unassigned;
            } else if used[c] {
                fits = false;
            } else if let Some(x) = costs[k][c] {
                used[c] = true;
                total += x;
            } else {
                fits = false;
            }
        }
        if fits && total < best.0 {
            best = (total, starts.get(choice[0]).copied());
        }
        for c in choice.iter_mut() {
            *c += 1;
            if *c < options {
                continue 'all;
            }
            *c = 0;
        }
        break;
    }
    best.1
}

/// Everyone's boxes across their missed detections: where a run of someone's boxes ends and the mutual best
/// continuation starts a few frames later, the frames between get a box between the two (tight, unlike a box
/// held and grown while nobody knows where they went).
pub fn bridged(frames: &[Vec<Person>], cfg: &FollowConfig) -> Vec<Vec<BBox>> {
    bridged_with_lengths(frames, cfg)
        .0
        .into_iter()
        .map(|f| f.into_iter().map(|b| b.bbox).collect())
        .collect()
}

/// A box bridging someone's missed detections, with the boxes (frame, box) it bridges from and to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bridge {
    pub bbox: BBox,
    pub from: (usize, BBox),
    pub to: (usize, BBox),
}

/// [`bridged`], and for every detection the number of boxes in its run (a detection seen once is a run of
/// one), from one cutting into runs.
pub(crate) fn bridged_with_lengths(
    frames: &[Vec<Person>],
    cfg: &FollowConfig,
) -> (Vec<Vec<Bridge>>, Vec<Vec<usize>>) {
    let (all, owner) = tracklets(frames, cfg);
    let mut out = vec![Vec::new(); frames.len()];
    for t in 0..all.len() {
        if let Some((c, _)) = link(&all, &|_| false, t, true, cfg, Undecided::Stop) {
            let (fa, ba) = all[t].last();
            let (fb, bb) = all[c].first();
            for (f, slot) in out.iter_mut().enumerate().take(fb).skip(fa + 1) {
                slot.push(Bridge {
                    bbox: lerp(&ba, &bb, (f - fa) as f32 / (fb - fa) as f32),
                    from: (fa, ba),
                    to: (fb, bb),
                });
            }
        }
    }
    let lengths = owner
        .iter()
        .map(|own| {
            own.iter()
                .map(|t| t.map_or(1, |t| all[t].boxes.len()))
                .collect()
        })
        .collect();
    (out, lengths)
}

/// What the operator said about the requester's track.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Review {
    /// "This is them": a box on a frame. The first is where the search starts; later ones correct it.
    pub marks: Vec<(usize, BBox)>,
    /// "This is not them": a proposed box on a frame. The run of boxes it belongs to is never theirs.
    pub not_them: Vec<(usize, BBox)>,
    /// "They are not in this frame": nothing of the track covers it or crosses it; before every mark it
    /// means they came in later, after every mark that they had left.
    pub absent: Vec<usize>,
    /// The operator looked through the review frames and confirmed the track: suggested links count too.
    pub confirmed: bool,
}

/// The requester's proposed track.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    /// Their box per frame, where the track has one (detected, or between two detections of theirs).
    pub track: Vec<Option<BBox>>,
    /// Frames where the box rests only on suggested links (or spans a gap between them): shown to the
    /// operator, kept only once the track is confirmed.
    pub suggested: Vec<bool>,
    /// Frames where someone else may be inside their box (a second box over theirs, someone who walked into
    /// it, or their box grown around someone beside them): always masked whole.
    pub uncertain: Vec<bool>,
}

impl Proposal {
    /// Their boxes, where taken for theirs: none on suggestions unless confirmed (uncertain frames keep theirs;
    /// those are masked whole, but what is theirs there is not carried onto others' masks nearby).
    pub fn theirs(&self, confirmed: bool) -> Vec<Option<BBox>> {
        self.track
            .iter()
            .zip(&self.suggested)
            .map(|(b, &s)| b.filter(|_| confirmed || !s))
            .collect()
    }

    /// The boxes the export may rely on: none where uncertain, and none on suggestions unless confirmed.
    pub fn decided(&self, confirmed: bool) -> Vec<Option<BBox>> {
        self.theirs(confirmed)
            .into_iter()
            .zip(&self.uncertain)
            .map(|(b, &c)| b.filter(|_| !c))
            .collect()
    }

    /// The frames the operator reviews: one per `every` frames where the track has a box (the middle one of
    /// the stretch), and the middle of every stretch of at least `every` frames without one.
    pub fn review_frames(&self, every: usize) -> Vec<usize> {
        let every = every.max(1);
        let mut out = Vec::new();
        let n = self.track.len();
        let mut i = 0;
        while i < n {
            let has = self.track[i].is_some();
            let mut j = i;
            while j < n && self.track[j].is_some() == has && j - i < every {
                j += 1;
            }
            if has || j - i >= every {
                out.push((i + j - 1) / 2);
            }
            i = j;
        }
        out
    }
}

fn lerp(a: &BBox, b: &BBox, t: f32) -> BBox {
    BBox {
        x0: a.x0 + (b.x0 - a.x0) * t,
        y0: a.y0 + (b.y0 - a.y0) * t,
        x1: a.x1 + (b.x1 - a.x1) * t,
        y1: a.y1 + (b.y1 - a.y1) * t,
    }
}

/// The tracklet under a box on a frame (overlap ≥ `min`), if any.
fn under(
    frames: &[Vec<Person>],
    owner: &[Vec<Option<usize>>],
    at: usize,
    bbox: &BBox,
    min: f32,
) -> Option<usize> {
    frames
        .get(at)?
        .iter()
        .enumerate()
        .filter(|(_, p)| p.bbox.iou(bbox) >= min)
        .max_by(|a, b| a.1.bbox.iou(bbox).total_cmp(&b.1.bbox.iou(bbox)))
        .and_then(|(d, _)| owner[at][d])
}

/// The requester's track from the operator's review (at least one mark).
///
/// Each marked run of boxes is theirs. From each, the chain grows forward and backward through the best
/// continuation (see `link`), never through a run the operator said is not them, one overlapping in time with
/// a run already theirs, or across a frame they are not in. Short gaps between two of their runs are filled
/// in between their boxes. A "not them" on a filled box drops the latest suggestion beside it.
pub fn follow(
    frames: &[Vec<Person>],
    review: &Review,
    cfg: &FollowConfig,
) -> Result<Proposal, SeedError> {
    let (mut all, mut owner) = tracklets(frames, cfg);
    let n = frames.len();
    // A run the operator marked on one frame and called "not them" (or found them absent) on another went
    // from them to someone else in between: it is cut where it jumps most.
    loop {
        let conflict = review.marks.iter().find_map(|(m, mb)| {
            let t = under(frames, &owner, *m, mb, 0.3)?;
            let (s, e) = (all[t].first().0, all[t].last().0);
            let not = review.not_them.iter().find_map(|(g, gb)| {
                (under(frames, &owner, *g, gb, 0.5) == Some(t) && g != m).then_some((t, *m, *g))
            });
            // Or a frame they are not in, inside the run.
            not.or_else(|| {
                review
                    .absent
                    .iter()
                    .find(|&&f| s <= f && f <= e && f != *m)
                    .map(|&f| (t, *m, f))
            })
        });
        let Some((t, m, g)) = conflict else { break };
        split(&mut all, &mut owner, frames, t, m.min(g), m.max(g));
    }
    let all = all;
    let mut banned = vec![false; all.len()];
    let mut unplaced = Vec::new();
    for (at, b) in &review.not_them {
        match under(frames, &owner, *at, b, 0.5) {
            Some(t) => banned[t] = true,
            None => unplaced.push((*at, *b)),
        }
    }
    let span = |t: usize| (all[t].first().0, all[t].last().0);
    // "Not in this frame" before every mark: they came in after it (nothing before it is theirs); after
    // every mark: they had left; between marks: that frame alone.
    let first_mark = review.marks.iter().map(|m| m.0).min().unwrap_or(0);
    let last_mark = review.marks.iter().map(|m| m.0).max().unwrap_or(0);
    for &f in &review.absent {
        for (t, b) in banned.iter_mut().enumerate() {
            let (s, e) = span(t);
            // Covers f, or (before every mark) starts by f, or (after every mark) ends from f on.
            *b |= (s <= f && (f <= e || f < first_mark)) || (f > last_mark && e >= f);
        }
    }
    let mut marked = Vec::new();
    for (at, b) in &review.marks {
        if *at >= n {
            return Err(SeedError::NoFrame(*at));
        }
        let t = under(frames, &owner, *at, b, 0.3).ok_or(SeedError::NoPerson { frame: *at })?;
        banned[t] = false;
        if !marked.contains(&t) {
            marked.push(t);
        }
    }
    loop {
        let (order, joined) = chain(&all, &banned, &marked, &review.absent, cfg);
        // A gap is never filled over a frame they are not in, nor over a "not them".
        let no_fill: Vec<usize> = review
            .absent
            .iter()
            .copied()
            .chain(review.not_them.iter().map(|n| n.0))
            .collect();
        let (track, suggested) = assemble(frames, &all, &order, &joined, &no_fill, cfg);
        // A "not them" the proposal still shows (a filled box, no run under it): the latest suggestion
        // beside it goes, and the chain is grown again.
        let still = unplaced
            .iter()
            .find(|(f, b)| track[*f].is_some_and(|t| t.iou(b) >= 0.5));
        let drop = still.and_then(|&(f, _)| {
            order
                .iter()
                .rev()
                .copied()
                .filter(|&t| joined[t] == Some(Joined::Suggested))
                .min_by_key(|&t| {
                    let (s, e) = span(t);
                    if f < s { s - f } else { f.saturating_sub(e) }
                })
        });
        if let Some(t) = drop {
            banned[t] = true;
            continue;
        }
        let others: Vec<Run> = (0..all.len())
            .filter(|t| !order.contains(t))
            .map(|t| Run(&all[t].boxes))
            .collect();
        return Ok(Proposal {
            uncertain: uncertain(frames, &others, &track, cfg),
            track,
            suggested,
        });
    }
}

/// The runs that are theirs, in the order they joined, and how each joined.
fn chain(
    all: &[Tracklet],
    banned: &[bool],
    marked: &[usize],
    absent: &[usize],
    cfg: &FollowConfig,
) -> (Vec<usize>, Vec<Option<Joined>>) {
    let span = |t: usize| (all[t].first().0, all[t].last().0);
    let overlaps = |a: usize, b: usize| {
        let ((a0, a1), (b0, b1)) = (span(a), span(b));
        a0 <= b1 && b0 <= a1
    };
    let mut joined: Vec<Option<Joined>> = vec![None; all.len()];
    let mut order = marked.to_vec();
    for &t in marked {
        joined[t] = Some(Joined::Marked);
    }
    // Grow from every run taken so far, in turn, until nothing more joins.
    let mut k = 0;
    while k < order.len() {
        let root = order[k];
        k += 1;
        for forward in [true, false] {
            let mut end = root;
            loop {
                let (e0, e1) = span(end);
                let taken = |c: usize| {
                    let (c0, c1) = span(c);
                    // A frame they are not in, between this run and the candidate.
                    let across = absent
                        .iter()
                        .any(|&f| (e1 < f && f < c0) || (c1 < f && f < e0));
                    banned[c]
                        || joined[c].is_some()
                        || across
                        || order.iter().any(|&m| overlaps(m, c))
                };
                let Some((next, unique)) = link(all, &taken, end, forward, cfg, Undecided::Assign)
                else {
                    break;
                };
                let via = joined[end].expect("grows from a joined run");
                joined[next] = Some(if unique && via != Joined::Suggested {
                    Joined::Unique
                } else {
                    Joined::Suggested
                });
                order.push(next);
                end = next;
            }
        }
    }
    (order, joined)
}

/// Their box per frame from the runs of the chain (gaps filled), and which frames rest on suggestions.
fn assemble(
    frames: &[Vec<Person>],
    all: &[Tracklet],
    order: &[usize],
    joined: &[Option<Joined>],
    no_fill: &[usize],
    cfg: &FollowConfig,
) -> (Vec<Option<BBox>>, Vec<bool>) {
    let n = frames.len();
    let mut track = vec![None; n];
    let mut suggested = vec![false; n];
    let mut runs: Vec<usize> = order.to_vec();
    runs.sort_by_key(|&t| (all[t].first().0, all[t].last().0));
    for &t in &runs {
        for &(f, b) in &all[t].boxes {
            if track[f].is_none() {
                track[f] = Some(b);
                suggested[f] = joined[t] == Some(Joined::Suggested);
            }
        }
    }
    // Gaps between two of their runs (a missed detection, a short occlusion) are filled between the boxes on
    // either side, never over a frame in `no_fill`; a filled frame is a suggestion if either side is.
    let known: Vec<usize> = (0..n).filter(|&f| track[f].is_some()).collect();
    for w in known.windows(2) {
        let (a, b) = (w[0], w[1]);
        if b - a > 1 && b - a <= cfg.link_frames + 1 && !no_fill.iter().any(|&f| a < f && f < b) {
            let (ba, bb) = (track[a].expect("known"), track[b].expect("known"));
            let sugg = suggested[a] || suggested[b];
            for f in a + 1..b {
                let guess = lerp(&ba, &bb, (f - a) as f32 / (b - a) as f32);
                // A detection lying on the filled box, alone there, is theirs (a box of them that did not
                // join a run).
                let mut on = frames[f].iter().filter(|p| p.bbox.iou(&guess) >= 0.5);
                track[f] = Some(match (on.next(), on.next()) {
                    (Some(p), None) => p.bbox,
                    _ => guess,
                });
                suggested[f] = sugg;
            }
        }
    }
    (track, suggested)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(x: f32, y: f32) -> BBox {
        BBox {
            x0: x,
            y0: y,
            x1: x + 30.0,
            y1: y + 80.0,
        }
    }

    fn person(x: f32, y: f32, colour: usize) -> Person {
        Person {
            bbox: b(x, y),
            hist: Hist::one_hot(colour),
        }
    }

    fn marked(at: usize, bbox: BBox) -> Review {
        Review {
            marks: vec![(at, bbox)],
            ..Review::default()
        }
    }

    /// The requester (colour 3) walks right; another (colour 40) walks left and crosses them at frame 10;
    /// the requester's detection is missed on frame 6.
    fn crossing() -> Vec<Vec<Person>> {
        (0..20)
            .map(|i| {
                let mut v = vec![person(180.0 - 4.0 * i as f32, 200.0, 40)];
                if i != 6 {
                    v.push(person(100.0 + 4.0 * i as f32, 200.0, 3));
                }
                v
            })
            .collect()
    }

    #[test]
    fn the_requester_is_followed_across_a_missed_detection_and_a_crossing_is_masked_whole() {
        let frames = crossing();
        let p = follow(
            &frames,
            &marked(0, b(100.0, 200.0)),
            &FollowConfig::default(),
        )
        .unwrap();
        let track = p.decided(false);
        // The missed frame lies between two of their boxes: filled in between them.
        let six = track[6].expect("frame 6 is filled in");
        assert!((six.x0 - 124.0).abs() < 0.1, "{six:?}");
        // Where the other's box lies over theirs, the frame is masked whole.
        assert!(p.uncertain[10] && track[10].is_none(), "{:?}", p.uncertain);
        for i in [1, 5, 7, 15, 19] {
            let got = track[i].unwrap_or_else(|| panic!("frame {i} lost"));
            assert!(
                (got.x0 - (100.0 + 4.0 * i as f32)).abs() < 0.1,
                "frame {i}: {got:?}"
            );
        }
        // Marked at the end, followed backward too.
        let back = follow(
            &frames,
            &marked(19, b(176.0, 200.0)),
            &FollowConfig::default(),
        )
        .unwrap()
        .decided(false);
        assert!(
            back[3].is_some_and(|g| (g.x0 - 112.0).abs() < 0.1),
            "{:?}",
            back[3]
        );
    }

    /// Two lookalikes walk apart from where the requester was last seen alone: a suggestion, never decided
    /// without the operator; a correction takes the other one.
    #[test]
    fn a_choice_between_lookalikes_is_a_suggestion_until_confirmed_and_a_correction_moves_it() {
        let frames: Vec<Vec<Person>> = (0..30)
            .map(|i| {
                if i < 10 {
                    vec![person(100.0 + 2.0 * i as f32, 200.0, 3)]
                } else if i < 14 {
                    vec![]
                } else {
                    let d = 2.0 * (i - 14) as f32;
                    vec![
                        person(128.0 + d, 200.0, 3),
                        person(128.0 - 12.0 - d, 200.0, 3),
                    ]
                }
            })
            .collect();
        let cfg = FollowConfig::default();
        let p = follow(&frames, &marked(0, b(100.0, 200.0)), &cfg).unwrap();
        assert!(p.track[20].is_some(), "a continuation is suggested");
        assert!(p.suggested[20]);
        assert!(p.decided(false)[20].is_none(), "not decided alone");
        assert!(p.decided(true)[20].is_some(), "kept once confirmed");
        assert!(p.review_frames(10).contains(&15) || p.review_frames(10).contains(&14));
        // The operator says the suggestion is not them, and marks the other one.
        let wrong = p.track[25].unwrap();
        let right = frames[25].iter().find(|q| q.bbox != wrong).unwrap().bbox;
        let review = Review {
            marks: vec![(0, b(100.0, 200.0)), (25, right)],
            not_them: vec![(25, wrong)],
            absent: vec![],
            confirmed: true,
        };
        let fixed = follow(&frames, &review, &cfg).unwrap().decided(true);
        assert_eq!(fixed[25], Some(right));
        assert!(
            fixed[29].is_some_and(|g| g.iou(&wrong) < 0.1),
            "{:?}",
            fixed[29]
        );
        // Or: they left while out of sight; one "not in this frame" ends the track before it.
        let gone = Review {
            marks: vec![(0, b(100.0, 200.0))],
            absent: vec![20],
            ..Review::default()
        };
        let ended = follow(&frames, &gone, &cfg).unwrap();
        assert!(
            ended.track[20..].iter().all(Option::is_none),
            "{:?}",
            ended.track
        );
        assert!(ended.track[9].is_some());
    }

    /// A run that slid from the requester onto a lookalike (no miss, no contact): marked on frame 0 and "not
    /// them" on frame 15, it is cut at its jump (frame 10), and the part before stays theirs.
    #[test]
    fn a_run_marked_and_called_not_them_is_cut_at_its_jump() {
        let frames: Vec<Vec<Person>> = (0..20)
            .map(|i| {
                let x = if i < 10 {
                    100.0 + 2.0 * i as f32
                } else {
                    112.0 + 2.0 * i as f32
                };
                vec![person(x, 200.0, 3)]
            })
            .collect();
        let cfg = FollowConfig::default();
        let p = follow(&frames, &marked(0, b(100.0, 200.0)), &cfg).unwrap();
        assert!(p.track[15].is_some(), "one run: followed through");
        let review = Review {
            marks: vec![(0, b(100.0, 200.0))],
            not_them: vec![(15, frames[15][0].bbox)],
            ..Review::default()
        };
        let cut = follow(&frames, &review, &cfg).unwrap();
        assert!(
            cut.track[..10].iter().all(Option::is_some),
            "{:?}",
            cut.track
        );
        assert!(
            cut.track[10..].iter().all(Option::is_none),
            "{:?}",
            cut.track
        );
    }

    /// A one-frame run of theirs between two longer ones (someone brushed past them on frame 10): the run
    /// after it fits it better than the run before, which fits the one after best; the short run comes first
    /// and the chain goes on through it.
    #[test]
    fn a_short_run_between_two_of_theirs_joins_the_chain() {
        let look = Hist::one_hot(3).blend(&Hist::one_hot(4), 0.1);
        let frames: Vec<Vec<Person>> = (0..20)
            .map(|i| {
                let x = 100.0 + 2.0 * i as f32;
                let hist = if i < 10 {
                    Hist::one_hot(3)
                } else {
                    look.clone()
                };
                if i == 10 {
                    vec![
                        Person {
                            bbox: b(x + 5.0, 200.0),
                            hist,
                        },
                        person(x + 20.0, 200.0, 40),
                    ]
                } else {
                    vec![Person {
                        bbox: b(x, 200.0),
                        hist,
                    }]
                }
            })
            .collect();
        let p = follow(
            &frames,
            &marked(0, b(100.0, 200.0)),
            &FollowConfig::default(),
        )
        .unwrap();
        let track = p.decided(true);
        assert!(track.iter().all(Option::is_some), "{track:?}");
        assert!(
            (track[15].unwrap().x0 - 130.0).abs() < 0.1,
            "{:?}",
            track[15]
        );
    }

    #[test]
    fn where_two_runs_end_beside_two_that_start_the_least_total_cost_links_them() {
        // A and B walk right, 100 px apart, and are missed on frames 10 and 11; C and D walk on from there.
        // C would rather continue B (nearer B's last box), so A and C are no mutual best; but B fits D as
        // well, and A fits only C: A -> C, B -> D costs least.
        let cfg = FollowConfig::default();
        let frames: Vec<Vec<Person>> = (0..21)
            .map(|i| {
                let x = 2.0 * i as f32;
                match i {
                    0..=9 => vec![person(100.0 + x, 100.0, 0), person(200.0 + x, 100.0, 0)],
                    10 | 11 => vec![],
                    _ => vec![person(156.0 + x, 100.0, 0), person(238.0 + x, 100.0, 0)],
                }
            })
            .collect();
        let (all, owner) = tracklets(&frames, &cfg);
        let run = |f: usize, d: usize| owner[f][d].expect("a run");
        let (a, c) = (run(9, 0), run(12, 0));
        let free = |_: usize| false;
        assert_eq!(
            link(&all, &free, a, true, &cfg, Undecided::Stop),
            None,
            "no mutual best"
        );
        assert_eq!(
            link(&all, &free, a, true, &cfg, Undecided::Assign),
            Some((c, false)),
            "a suggestion, never decided alone"
        );
        // Left without a fitting start (D gone), A is better left unassigned than given C.
        let frames: Vec<Vec<Person>> = frames
            .into_iter()
            .enumerate()
            .map(|(i, mut f)| {
                if i >= 12 {
                    f.truncate(1);
                }
                f
            })
            .collect();
        let (all, owner) = tracklets(&frames, &cfg);
        let a = owner[9][0].expect("a run");
        assert_eq!(link(&all, &free, a, true, &cfg, Undecided::Assign), None);
    }

    /// The requester walks out across the right edge on frame 9; someone alike walks in there on frame 15.
    /// Knowing the frame's size, the follower does not take the newcomer for them.
    #[test]
    fn someone_who_walks_out_across_an_edge_is_not_continued_by_whoever_comes_in_there() {
        let frames: Vec<Vec<Person>> = (0..30)
            .map(|i| match i {
                0..=9 => vec![person(100.0 + 7.0 * i as f32, 200.0, 3)],
                15.. => vec![person(163.0 - 7.0 * (i - 15) as f32, 200.0, 3)],
                _ => vec![],
            })
            .collect();
        let mark = marked(0, b(100.0, 200.0));
        let blind = follow(&frames, &mark, &FollowConfig::default()).unwrap();
        assert!(
            blind.track[20].is_some(),
            "without the frame's size the newcomer is linked"
        );
        let cfg = FollowConfig {
            frame: Some((195.0, 400.0)),
            ..FollowConfig::default()
        };
        let seeing = follow(&frames, &mark, &cfg).unwrap();
        assert!(seeing.track[9].is_some());
        assert!(
            seeing.track[10..].iter().all(Option::is_none),
            "{:?}",
            seeing.track
        );
    }

    #[test]
    fn someone_missed_for_a_few_frames_is_bridged_between_their_boxes() {
        let frames: Vec<Vec<Person>> = (0..20)
            .map(|i| {
                if (8..11).contains(&i) {
                    vec![]
                } else {
                    vec![person(100.0 + 3.0 * i as f32, 200.0, 7)]
                }
            })
            .collect();
        let between = bridged(&frames, &FollowConfig::default());
        for (i, boxes) in between.iter().enumerate().take(11).skip(8) {
            assert_eq!(boxes.len(), 1, "frame {i}");
            assert!(
                (boxes[0].x0 - (100.0 + 3.0 * i as f32)).abs() < 0.5,
                "{boxes:?}"
            );
        }
        assert!(between[5].is_empty() && between[15].is_empty());
    }

    #[test]
    fn review_frames_are_one_a_second_tracked_or_lost() {
        let p = Proposal {
            track: (0..40)
                .map(|i| (!(15..35).contains(&i)).then(|| b(0.0, 0.0)))
                .collect(),
            suggested: vec![false; 40],
            uncertain: vec![false; 40],
        };
        assert_eq!(p.review_frames(10), vec![4, 12, 19, 29, 37]);
    }

    #[test]
    fn a_mark_without_a_person_is_refused() {
        let frames = vec![vec![person(100.0, 200.0, 3)]];
        let cfg = FollowConfig::default();
        assert_eq!(
            follow(&frames, &marked(0, b(400.0, 10.0)), &cfg),
            Err(SeedError::NoPerson { frame: 0 })
        );
        assert_eq!(
            follow(&frames, &marked(3, b(100.0, 200.0)), &cfg),
            Err(SeedError::NoFrame(3))
        );
    }
}
