//! SCALE_PATTERN: a scale or mode from the lowest tonic in range up to the
//! top of the range and back, in one of five patterns, over a sustained
//! left-hand voicing of the scale's parent chord.

use super::common::{self, Ctx};
use crate::chord::Chord;
use crate::error::EngineError;
use crate::key::Key;
use crate::params::Difficulty;
use crate::pitch::{NoteName, Pitch};
use crate::progression::ChordSpan;
use crate::rhythm::{EIGHTH, QUARTER, TRIPLET, TimeSignature};
use crate::scale::ScaleKind;

/// How the scale is walked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pattern {
    /// Straight up and down.
    Straight,
    /// Broken thirds: 1-3, 2-4, 3-5 …
    Thirds,
    /// 1-2-3-5 cells on each degree.
    OneTwoThreeFive,
    /// Four-note groups: 1-2-3-4, 2-3-4-5 …
    FourNoteGroups,
    /// Three-note groups in eighth-note triplets.
    Triplets,
}

impl Pattern {
    /// Every pattern.
    pub const ALL: [Pattern; 5] =
        [Pattern::Straight, Pattern::Thirds, Pattern::OneTwoThreeFive, Pattern::FourNoteGroups, Pattern::Triplets];

    /// API name.
    pub fn name(self) -> &'static str {
        match self {
            Pattern::Straight => "straight",
            Pattern::Thirds => "thirds",
            Pattern::OneTwoThreeFive => "1-2-3-5",
            Pattern::FourNoteGroups => "groups-of-4",
            Pattern::Triplets => "triplets",
        }
    }

    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            Pattern::Straight => "straight",
            Pattern::Thirds => "in thirds",
            Pattern::OneTwoThreeFive => "in 1-2-3-5 cells",
            Pattern::FourNoteGroups => "in four-note groups",
            Pattern::Triplets => "in triplet groups",
        }
    }

    /// Parses an API name (`in-3rds`, `1235`, `4-note-groups` also accepted).
    pub fn parse(s: &str) -> Result<Pattern, EngineError> {
        let n = crate::progression::normalize_name(s);
        let n = match n.as_str() {
            "3rds" | "in-3rds" | "in-thirds" => "thirds",
            "1235" => "1-2-3-5",
            "4-note-groups" | "four-note-groups" | "groups-of-four" => "groups-of-4",
            "up-and-down" | "scale" => "straight",
            other => other,
        };
        Pattern::ALL.into_iter().find(|p| p.name() == n).ok_or_else(|| {
            let names: Vec<&str> = Pattern::ALL.iter().map(|p| p.name()).collect();
            EngineError::invalid("pattern", format!("unknown pattern {s:?}; known: {}", names.join(", ")))
        })
    }

    fn note_len(self, d: Difficulty) -> u32 {
        match (self, d) {
            (Pattern::Triplets, _) => TRIPLET,
            _ => EIGHTH,
        }
    }
}

/// The ascending scale notes from the lowest tonic at or above `low` to the
/// highest scale note at or below `high`.
fn ascending(key: Key, scale: ScaleKind, range: (Pitch, Pitch)) -> Vec<(i32, NoteName)> {
    let names = scale.notes(key.tonic);
    let (lo, hi) = (range.0.midi(), range.1.midi());
    let start = lo + (key.tonic.pc() - lo).rem_euclid(12);
    let mut out = Vec::new();
    for m in start..=hi {
        if let Some(n) = names.iter().find(|n| n.pc() == m.rem_euclid(12)) {
            out.push((m, *n));
        }
    }
    out
}

/// Indices into the ascending list, up then down, ending on the tonic.
fn sequence(pattern: Pattern, n: usize) -> Vec<usize> {
    let groups = |shape: &[isize]| -> Vec<usize> {
        let span = shape.iter().copied().max().unwrap_or(0) as usize;
        let mut out = Vec::new();
        for i in 0..n.saturating_sub(span) {
            out.extend(shape.iter().map(|d| (i as isize + d) as usize));
        }
        for i in (span..n).rev() {
            out.extend(shape.iter().map(|d| (i as isize - d) as usize));
        }
        out
    };
    let mut seq = match pattern {
        Pattern::Straight => (0..n).chain((0..n.saturating_sub(1)).rev()).collect(),
        Pattern::Thirds => groups(&[0, 2]),
        Pattern::OneTwoThreeFive => groups(&[0, 1, 2, 4]),
        Pattern::FourNoteGroups => groups(&[0, 1, 2, 3]),
        Pattern::Triplets => groups(&[0, 1, 2]),
    };
    if seq.last() != Some(&0) {
        seq.push(0);
    }
    seq
}

/// Bars needed to play the pattern once, ending with a held tonic.
pub fn natural_bars(
    key: Key,
    scale: ScaleKind,
    pattern: Pattern,
    range: (Pitch, Pitch),
    ts: TimeSignature,
    d: Difficulty,
) -> u32 {
    let n = ascending(key, scale, range).len();
    let notes = sequence(pattern, n).len() as u32;
    let played = if pattern == Pattern::Triplets { notes } else { notes.saturating_sub(1) };
    let len = played * pattern.note_len(d) + QUARTER;
    len.div_ceil(ts.measure_len()).max(1)
}

/// Writes the pattern into the context.
pub fn generate(ctx: &mut Ctx<'_>) {
    let p = ctx.p;
    let scale = p.scale.unwrap_or(ScaleKind::Ionian);
    let pattern = p.pattern.unwrap_or(Pattern::Straight);
    let asc = ascending(p.key, scale, p.range);
    let seq = sequence(pattern, asc.len());
    // Triplet groups already end on the tonic and must stay whole beats, so
    // the held tonic follows them; other patterns hold their final tonic.
    let body: &[usize] = if pattern == Pattern::Triplets { &seq } else { &seq[..seq.len().saturating_sub(1)] };
    let step = pattern.note_len(p.difficulty);
    let total = ctx.tl.total_len();
    let unit = if pattern == Pattern::Triplets { 3 } else { 1 };
    let slots = ((total.saturating_sub(QUARTER)) / step) as usize / unit * unit;
    // Play the pattern once; if the requested bars leave room, play it again
    // (tonic first) as often as it fits whole.
    let mut order: Vec<usize> = body.to_vec();
    while !body.is_empty() && order.len() + body.len() < slots {
        if pattern != Pattern::Triplets {
            order.push(0);
        }
        order.extend_from_slice(body);
    }
    order.truncate(slots);
    let mut t = 0;
    for ix in order {
        let Some(&(m, n)) = asc.get(ix) else { break };
        ctx.tl.note(1, t, step, vec![Pitch::from_midi_named(m, n)]);
        t += step;
    }
    if let Some(&(m, n)) = asc.first() {
        ctx.tl.note(1, t, total.saturating_sub(t), vec![Pitch::from_midi_named(m, n)]);
    }
    let chord = Chord::new(p.key.tonic, scale.parent_chord());
    let mlen = p.ts.measure_len();
    let spans: Vec<ChordSpan> = (0..p.bars).map(|b| ChordSpan { start: b * mlen, len: mlen, chord }).collect();
    common::chord_symbols(ctx, &spans);
    common::sustain_lh(ctx, &spans);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_go_up_and_come_back_to_the_tonic() {
        assert_eq!(sequence(Pattern::Straight, 4), [0, 1, 2, 3, 2, 1, 0]);
        assert_eq!(sequence(Pattern::Thirds, 4), [0, 2, 1, 3, 3, 1, 2, 0]);
        assert_eq!(sequence(Pattern::FourNoteGroups, 5), [0, 1, 2, 3, 1, 2, 3, 4, 4, 3, 2, 1, 3, 2, 1, 0]);
        assert_eq!(sequence(Pattern::Triplets, 3), [0, 1, 2, 2, 1, 0]);
        assert_eq!(sequence(Pattern::Straight, 0), [0]);
    }
}
