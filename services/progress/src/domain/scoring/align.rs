//! Onset grouping and the alignment of played onsets to written ones.
//!
//! Written notes with the same onset form one group (a chord); played notes
//! struck within [`CHORD_WINDOW_MS`] of a group's first note form one
//! played group. The alignment is an edit-distance dynamic programme over
//! the two group sequences (Needleman–Wunsch with a time term): a written
//! group is matched to one played group, or to up to [`MAX_MERGE`]
//! consecutive ones spanning at most [`ROLL_WINDOW_MS`] (a rolled chord),
//! or left out (missed); a played group may be left out (extra). A match
//! costs its wrong, missing and extra pitches plus the distance in beats
//! between where it was played and where the tempo map expects it, capped
//! so that a pause or a repeated bar costs a constant, not a cascade.

use std::time::Instant;

use super::take::PlayedNote;
use super::tempo::TempoMap;
use super::{Piece, ScoringError};

/// Played notes struck within this many ms of a group's first note are one onset.
pub const CHORD_WINDOW_MS: f64 = 35.0;
/// A written chord may match played onsets spread over at most this many ms.
pub const ROLL_WINDOW_MS: f64 = 250.0;
/// A written chord may match at most this many consecutive played onsets.
pub const MAX_MERGE: usize = 4;
/// Cost of a written note not played.
pub const MISS: f32 = 1.0;
/// Cost of a played note that matches nothing.
pub const EXTRA: f32 = 1.0;
/// Cost of a written note played with another pitch at its place (less
/// than a miss and an extra, so a slip at the right time reads as wrong).
pub const WRONG: f32 = 1.2;
/// Most played notes of one match whose pitches are compared (the bitmask's width).
const MAX_UNION: usize = 64;

/// How much the time term weighs in one pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    /// Cost per beat of distance from the tempo map.
    pub per_beat: f32,
    /// Distance (beats) beyond which the time term stops growing.
    pub cap_beats: f32,
}

/// First pass: pitches lead, the stated tempo only breaks ties.
pub const PASS_ONE: Weights = Weights { per_beat: 0.4, cap_beats: 2.0 };
/// Second pass: against the map fitted to the player.
pub const PASS_TWO: Weights = Weights { per_beat: 1.0, cap_beats: 2.0 };

/// Written notes sharing an onset.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Onset, quarter beats from bar 1.
    pub beat: f64,
    /// Indices into `Piece::notes`, lowest pitch first.
    pub notes: Vec<usize>,
    /// Their pitches, in the same order.
    pub pitches: Vec<u8>,
}

/// Played notes struck together.
#[derive(Debug, Clone, PartialEq)]
pub struct PlayedGroup {
    /// The first note's onset, ms.
    pub onset_ms: f64,
    /// Indices into `Take::notes` (contiguous, by onset).
    pub first: usize,
    /// One past the last index.
    pub end: usize,
}

/// One written group matched to played groups `played.0..played.1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair {
    /// The written group.
    pub expected: usize,
    /// The played groups, start and end (exclusive).
    pub played: (usize, usize),
}

/// The written groups of `piece`, by onset.
pub fn expected_groups(piece: &Piece) -> Vec<Group> {
    let mut order: Vec<usize> = (0..piece.notes.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&piece.notes[a], &piece.notes[b]);
        x.onset_beats.total_cmp(&y.onset_beats).then(x.pitch.cmp(&y.pitch))
    });
    let mut groups: Vec<Group> = Vec::new();
    for i in order {
        let note = &piece.notes[i];
        match groups.last_mut() {
            Some(g) if (note.onset_beats - g.beat).abs() < 1e-6 => {
                g.notes.push(i);
                g.pitches.push(note.pitch);
            }
            _ => groups.push(Group { beat: note.onset_beats, notes: vec![i], pitches: vec![note.pitch] }),
        }
    }
    groups
}

/// The played groups of `notes` (sorted by onset).
pub fn played_groups(notes: &[PlayedNote]) -> Vec<PlayedGroup> {
    let mut groups: Vec<PlayedGroup> = Vec::new();
    for (i, note) in notes.iter().enumerate() {
        match groups.last_mut() {
            Some(g) if note.onset_ms - g.onset_ms <= CHORD_WINDOW_MS => g.end = i + 1,
            _ => groups.push(PlayedGroup { onset_ms: note.onset_ms, first: i, end: i + 1 }),
        }
    }
    groups
}

/// How many written pitches of `written` are found among played notes
/// `first..end` (each played note used once).
pub fn matched_pitches(written: &[u8], notes: &[PlayedNote], first: usize, end: usize) -> usize {
    let end = end.min(first + MAX_UNION).min(notes.len());
    let mut used = 0_u64;
    let mut matched = 0;
    for &pitch in written {
        if let Some(k) = (first..end).find(|&k| used & (1 << (k - first)) == 0 && notes[k].pitch == pitch) {
            used |= 1 << (k - first);
            matched += 1;
        }
    }
    matched
}

/// The cost of written pitches against a played union of `played` notes of
/// which `matched` have the right pitch.
fn pitch_cost(written: usize, played: usize, matched: usize) -> f32 {
    let wrong = (written - matched).min(played - matched);
    let missed = written - matched - wrong;
    let extra = played - matched - wrong;
    WRONG * wrong as f32 + MISS * missed as f32 + EXTRA * extra as f32
}

/// Aligns written groups to played groups; the pairs come in order.
pub fn align(
    expected: &[Group],
    played: &[PlayedGroup],
    notes: &[PlayedNote],
    map: &TempoMap,
    weights: Weights,
    deadline: Option<Instant>,
) -> Result<Vec<Pair>, ScoringError> {
    let (n, m) = (expected.len(), played.len());
    let width = m + 1;
    let mut cost = vec![0_f32; (n + 1) * width];
    // 0: written group missed; 1: played group extra; 1 + k: match of k played groups.
    let mut back = vec![0_u8; (n + 1) * width];
    for j in 1..=m {
        cost[j] = cost[j - 1] + EXTRA * (played[j - 1].end - played[j - 1].first) as f32;
        back[j] = 1;
    }
    // The last match on each cell's best path, (written group, played ms):
    // a match is timed from there through the map, so a pause or a repeat
    // costs one capped term, not one per onset after it. NONE: no match yet.
    const NONE: u32 = u32::MAX;
    let mut last = vec![(NONE, 0.0_f64); (n + 1) * width];
    let at: Vec<f64> = expected.iter().map(|g| map.ms_at(g.beat)).collect();
    for i in 1..=n {
        if deadline.is_some_and(|d| Instant::now() > d) {
            return Err(ScoringError::DeadlineExceeded);
        }
        let group = &expected[i - 1];
        let beat_ms = map.beat_ms_at(group.beat);
        let row = i * width;
        let above = (i - 1) * width;
        let miss = MISS * group.notes.len() as f32;
        cost[row] = cost[above] + miss;
        back[row] = 0;
        last[row] = last[above];
        for j in 1..=m {
            let mut best = cost[above + j] + miss;
            let mut step = 0_u8;
            let mut from = above + j;
            let extra = cost[row + j - 1] + EXTRA * (played[j - 1].end - played[j - 1].first) as f32;
            if extra < best {
                best = extra;
                step = 1;
                from = row + j - 1;
            }
            let end = &played[j - 1];
            for k in 1..=MAX_MERGE.min(j) {
                let start = &played[j - k];
                if k > 1 && end.onset_ms - start.onset_ms > ROLL_WINDOW_MS {
                    break;
                }
                let before = above + j - k;
                let (g0, t0) = last[before];
                let predicted = match at.get(g0 as usize) {
                    Some(a0) => t0 + at[i - 1] - a0,
                    None => at[i - 1],
                };
                let off_beats = ((start.onset_ms - predicted).abs() / beat_ms) as f32;
                let matched = matched_pitches(&group.pitches, notes, start.first, end.end);
                let c = cost[before]
                    + pitch_cost(group.pitches.len(), end.end - start.first, matched)
                    + weights.per_beat * off_beats.min(weights.cap_beats);
                if c < best {
                    best = c;
                    step = 1 + k as u8;
                    from = before;
                }
            }
            cost[row + j] = best;
            back[row + j] = step;
            last[row + j] =
                if step >= 2 { ((i - 1) as u32, played[j - usize::from(step - 1)].onset_ms) } else { last[from] };
        }
    }
    let mut pairs = Vec::new();
    let (mut i, mut j) = (n, m);
    while i > 0 || j > 0 {
        match back[i * width + j] {
            0 if i > 0 => i -= 1,
            1 if j > 0 => j -= 1,
            step if step >= 2 && i > 0 => {
                let k = usize::from(step - 1).min(j);
                pairs.push(Pair { expected: i - 1, played: (j - k, j) });
                i -= 1;
                j -= k;
            }
            _ if i > 0 => i -= 1,
            _ => j -= 1,
        }
    }
    pairs.reverse();
    Ok(pairs)
}
