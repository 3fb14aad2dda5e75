//! Motif-based melody writing shared by MELODY and COMPLETE_PIECE.
//!
//! A motif is one bar of rhythm with a contour in scale steps. A four-bar
//! phrase states it, repeats it over the next chord, sequences it a step
//! away, and either cadences on a held chord tone or (from INTERMEDIATE)
//! displaces it rhythmically by an eighth or a quarter. Notes on strong
//! beats snap to the nearest chord tone so the melody outlines the changes.

use super::common::{self, Ctx, nearest};
use crate::params::Difficulty;
use crate::progression::ChordSpan;
use crate::rhythm::{EIGHTH, QUARTER, TRIPLET};

/// One bar of rhythm and contour.
#[derive(Debug, Clone)]
pub struct Motif {
    /// (offset in bar, length, scale steps from the anchor).
    notes: Vec<(u32, u32, i32)>,
    /// Semitones the sequence bar moves the anchor.
    shift: i32,
}

/// A new motif for the parameters.
pub fn motif(ctx: &mut Ctx<'_>) -> Motif {
    let p = ctx.p;
    let beats = u32::from(p.ts.beats);
    let mut notes = Vec::new();
    let mut deg = 0;
    let mut t = 0;
    for beat in 0..beats.saturating_sub(1).max(1) {
        let roll = ctx.rng.below(100);
        let cell: Vec<u32> = match p.difficulty {
            Difficulty::Beginner if roll < 20 && beat + 2 < beats => vec![2 * QUARTER],
            Difficulty::Beginner if roll < 60 => vec![QUARTER],
            Difficulty::Beginner => vec![EIGHTH, EIGHTH],
            Difficulty::Expert if roll < 20 => vec![TRIPLET, TRIPLET, TRIPLET],
            _ if roll < 12 && beat > 0 => vec![],
            _ if roll < 40 => vec![QUARTER],
            _ if roll < 55 && beat + 2 <= beats => vec![QUARTER + EIGHTH, EIGHTH],
            _ => vec![EIGHTH, EIGHTH],
        };
        let span: u32 = if cell.is_empty() { QUARTER } else { cell.iter().sum() };
        if t + span > (beats.saturating_sub(1).max(1)) * QUARTER && t > 0 {
            break;
        }
        for len in cell {
            notes.push((t, len, deg));
            deg += ctx.rng.pick_or(&[-2, -1, -1, 1, 1, 2, 0], 1);
            t += len;
        }
        if span > 0 && t % QUARTER != 0 {
            t = t.div_ceil(QUARTER) * QUARTER;
        }
        t = t.max((beat + 1) * QUARTER);
    }
    let shift = ctx.rng.pick_or(&[2, 3, -2, -3, 4], 2);
    Motif { notes, shift }
}

/// How a bar of the phrase treats the motif.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Statement,
    Repeat,
    Sequence,
    Displace(u32),
    Cadence { final_bar: bool },
}

/// Writes four bars (or fewer at the end) from `bar`; returns the last pitch.
pub fn phrase(ctx: &mut Ctx<'_>, spans: &[ChordSpan], bar: u32, m: &Motif, vary: bool, last: bool, anchor: i32) -> i32 {
    let p = ctx.p;
    let mlen = p.ts.measure_len();
    let mut anchor = anchor;
    let mut prev = anchor;
    for j in 0..4 {
        let b = bar + j;
        if b >= p.bars {
            break;
        }
        let final_bar = last && b + 1 == p.bars;
        let op = match j {
            _ if final_bar => Op::Cadence { final_bar: true },
            0 => Op::Statement,
            1 => Op::Repeat,
            2 => Op::Sequence,
            _ if vary && p.difficulty != Difficulty::Beginner => {
                Op::Displace(if ctx.rng.chance(50) { EIGHTH } else { QUARTER })
            }
            _ => Op::Cadence { final_bar: false },
        };
        if op == Op::Sequence {
            anchor += m.shift;
        }
        prev = bar_notes(ctx, spans, b * mlen, m, op, anchor, prev);
    }
    prev
}

fn bar_notes(ctx: &mut Ctx<'_>, spans: &[ChordSpan], start: u32, m: &Motif, op: Op, anchor: i32, prev: i32) -> i32 {
    let p = ctx.p;
    let (lo, hi) = (p.range.0.midi(), p.range.1.midi());
    let mlen = p.ts.measure_len();
    if let Op::Cadence { final_bar } = op {
        let Some(span) = common::chord_at(spans, start) else { return prev };
        let pal = common::palette(p, &span.chord, lo, hi);
        let pick = if final_bar {
            let stable: Vec<_> = pal
                .tones
                .iter()
                .copied()
                .filter(|t| {
                    t.0 % 12 == span.chord.root.pc() || t.1 == span.chord.tones().get(1).copied().unwrap_or(t.1)
                })
                .collect();
            nearest(&stable, prev)
        } else {
            nearest(&pal.tones, prev)
        };
        if let Some(n) = pick {
            let len = if final_bar { mlen } else { mlen - QUARTER };
            ctx.tl.note(1, start, len, vec![common::pitch(n.0, n.1)]);
            return n.0;
        }
        return prev;
    }
    let shift = if let Op::Displace(s) = op { s } else { 0 };
    let mut last = prev;
    for &(off, len, deg) in &m.notes {
        let on = off + shift;
        if on + len > mlen {
            continue;
        }
        let t = start + on;
        let Some(span) = common::chord_at(spans, t) else { continue };
        let pal = common::palette(p, &span.chord, lo, hi);
        let base = pal.scale.iter().position(|s| s.0 >= anchor).unwrap_or(0) as i32;
        let ix = (base + deg).clamp(0, pal.scale.len() as i32 - 1) as usize;
        let Some(mut n) = pal.scale.get(ix).copied() else { continue };
        if p.ts.is_strong(on) || on == 0 {
            n = nearest(&pal.tones, n.0).unwrap_or(n);
        }
        ctx.tl.note(1, t, len, vec![common::pitch(n.0, n.1)]);
        last = n.0;
    }
    last
}

/// A starting anchor: a chord tone of the first chord a little above the
/// middle of the range.
pub fn start_anchor(ctx: &mut Ctx<'_>, spans: &[ChordSpan]) -> i32 {
    let p = ctx.p;
    let (lo, hi) = (p.range.0.midi(), p.range.1.midi());
    let centre = (lo + hi) / 2 + ctx.rng.spread(3);
    spans.first().and_then(|s| nearest(&common::palette(p, &s.chord, lo, hi).tones, centre)).map_or(centre, |n| n.0)
}
