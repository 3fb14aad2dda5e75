//! JAZZ_LICK: a line over the changes that lands on a chord tone on every
//! strong beat and resolves on the last chord. Between targets it walks the
//! chord scale (bebop scales at higher levels), arpeggiates, or approaches
//! the next target chromatically or with an enclosure.

use super::common::{self, Ctx, Palette, nearest, neighbour_name};
use crate::params::{Difficulty, Style};
use crate::pitch::NoteName;
use crate::progression::ChordSpan;
use crate::rhythm::{EIGHTH, QUARTER, TRIPLET};
use Difficulty::*;

/// A rhythmic slot of the line: onset, length, whether it must be a chord tone.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slot {
    pub(crate) onset: u32,
    pub(crate) len: u32,
    pub(crate) strong: bool,
}

/// Beat-by-beat rhythm from `from` up to `until`.
fn rhythm(ctx: &mut Ctx<'_>, from: u32, until: u32) -> Vec<Slot> {
    let p = ctx.p;
    let (eighths, triplets) = match p.difficulty {
        Beginner => (55, 0),
        Intermediate => (78, 0),
        Advanced => (75, 12),
        Expert => (60, 28),
    };
    let eighths = if p.style == Style::Ballad { eighths - 25 } else { eighths };
    let mlen = p.ts.measure_len();
    let mut slots = Vec::new();
    let mut t = from;
    let pickup = p.difficulty != Beginner && ctx.rng.chance(30);
    while t + QUARTER <= until {
        let roll = ctx.rng.below(100);
        let cell: &[u32] = if t == from && pickup {
            &[EIGHTH]
        } else if roll < triplets {
            &[TRIPLET, TRIPLET, TRIPLET]
        } else if roll < triplets + eighths {
            &[EIGHTH, EIGHTH]
        } else {
            &[QUARTER]
        };
        let mut o = if t == from && pickup { t + EIGHTH } else { t };
        for len in cell {
            slots.push(Slot { onset: o, len: *len, strong: p.ts.is_strong(o % mlen) });
            o += len;
        }
        t += QUARTER;
    }
    if let Some(first) = slots.first_mut() {
        first.strong = true;
    }
    slots
}

/// Picks the chord tone to land on next, about `steps` scale steps away in `dir`.
fn target(pal: &Palette, from: i32, dir: i32, steps: usize, lo: i32, hi: i32) -> (i32, NoteName) {
    let reach = (steps as i32 * 3 + 1) / 2 + 1;
    let mut ideal = from + dir * reach;
    if ideal < lo + 2 || ideal > hi - 2 {
        ideal = from - dir * reach;
    }
    let others: Vec<(i32, NoteName)> = pal.tones.iter().copied().filter(|t| t.0 != from).collect();
    nearest(&others, ideal)
        .or_else(|| nearest(&pal.tones, ideal))
        .unwrap_or((from, NoteName::new(crate::pitch::Step::C, 0)))
}

/// `k` notes leading from `from` to the target `to` over palette `pal`.
pub(crate) fn fill(ctx: &mut Ctx<'_>, pal: &Palette, from: i32, to: (i32, NoteName), k: usize) -> Vec<(i32, NoteName)> {
    let (lo, hi) = (ctx.p.range.0.midi(), ctx.p.range.1.midi());
    let d = ctx.p.difficulty;
    let mut approach: Vec<(i32, NoteName)> = Vec::new();
    let below = to.0 > lo;
    let chromatic_below = (to.0 - 1, neighbour_name(to.1, -1));
    let chromatic_above = (to.0 + 1, neighbour_name(to.1, 1));
    let scale_above = pal.scale.iter().copied().find(|s| s.0 > to.0);
    let scale_below = pal.scale.iter().copied().rev().find(|s| s.0 < to.0);
    if k >= 3
        && d == Expert
        && ctx.rng.chance(35)
        && let Some(up) = scale_above.filter(|_| below)
    {
        approach = vec![up, chromatic_above, chromatic_below];
    }
    if approach.is_empty()
        && k >= 2
        && d >= Advanced
        && ctx.rng.chance(45)
        && let (Some(up), true) = (scale_above, below)
    {
        approach = vec![up, chromatic_below];
    }
    if approach.is_empty() && k >= 1 {
        let from_below = from < to.0;
        let chromatic = d != Beginner && ctx.rng.chance(if d == Intermediate { 40 } else { 55 });
        let pick = match (chromatic, from_below) {
            (true, true) if below => Some(chromatic_below),
            (true, _) if to.0 < hi => Some(chromatic_above),
            (_, true) => scale_below.or(scale_above),
            (_, false) => scale_above.or(scale_below),
        };
        approach.extend(pick);
    }
    let m = k.saturating_sub(approach.len());
    let mut out = Vec::with_capacity(k);
    if m > 0 {
        let arpeggio = d != Beginner && ctx.rng.chance(25);
        let list = if arpeggio && pal.tones.len() > 2 { &pal.tones } else { &pal.scale };
        if !list.is_empty() {
            let mut idx = list.iter().position(|s| s.0 >= from).unwrap_or(list.len() - 1) as i32;
            let last = list.len() as i32 - 1;
            let goal = approach.first().map_or(to.0, |a| a.0);
            let mut dir = if goal >= from { 1 } else { -1 };
            for _ in 0..m {
                let next = idx + dir;
                if next < 0 || next > last {
                    dir = -dir;
                }
                idx = (idx + dir).clamp(0, last);
                let note = list[idx as usize];
                out.push(note);
                let remaining = (goal - note.0).abs();
                if remaining <= 1 {
                    dir = if note.0 >= goal { 1 } else { -1 };
                }
            }
        }
    }
    out.extend(approach);
    out.truncate(k);
    while out.len() < k {
        out.push(to);
    }
    out
}

/// Writes the lick, its chord symbols and the left hand.
pub fn generate(ctx: &mut Ctx<'_>) {
    let spans = common::changes(ctx);
    common::chord_symbols(ctx, &spans);
    common::comp(ctx, &spans);
    let total = ctx.tl.total_len();
    let resolve_at = match spans.as_slice() {
        // Keep the line going over a long final chord; resolve in the last bar.
        [.., last] if spans.len() > 1 => last.start.max(total.saturating_sub(ctx.p.ts.measure_len())),
        _ => (total / 2) / QUARTER * QUARTER,
    };
    let slots = rhythm(ctx, 0, resolve_at);
    line(ctx, &spans, &slots, resolve_at, total);
}

/// Assigns pitches to `slots` and the held resolution note at `resolve_at`.
pub(crate) fn line(ctx: &mut Ctx<'_>, spans: &[ChordSpan], slots: &[Slot], resolve_at: u32, end: u32) {
    let p = ctx.p;
    let (lo, hi) = (p.range.0.midi(), p.range.1.midi());
    let pal_at = |t: u32| -> Palette {
        let chord = common::chord_at(spans, t).map(|s| s.chord);
        chord.map_or(Palette { tones: Vec::new(), scale: Vec::new() }, |c| common::palette(p, &c, lo, hi))
    };
    let mut required: Vec<usize> = slots.iter().enumerate().filter(|(_, s)| s.strong).map(|(i, _)| i).collect();
    required.push(slots.len()); // the resolution
    let first_pal = pal_at(slots.first().map_or(resolve_at, |s| s.onset));
    let centre = (lo + hi) / 2 - 2 + ctx.rng.spread(5);
    let Some(mut cur) = nearest(&first_pal.tones, centre) else { return };
    let mut dir = if ctx.rng.chance(50) { 1 } else { -1 };
    let mut notes: Vec<(i32, NoteName)> = Vec::with_capacity(slots.len() + 1);
    for w in required.windows(2) {
        let (a, b) = (w[0], w[1]);
        if notes.len() == a {
            notes.push(cur);
        }
        let onset_b = slots.get(b).map_or(resolve_at, |s| s.onset);
        let pal_b = pal_at(onset_b);
        let k = b - a - 1;
        if cur.0 > hi - 4 {
            dir = -1;
        } else if cur.0 < lo + 4 {
            dir = 1;
        } else if ctx.rng.chance(25) {
            dir = -dir;
        }
        let t = target(&pal_b, cur.0, dir, k + 1, lo, hi);
        let pal_a = pal_at(slots.get(a).map_or(resolve_at, |s| s.onset));
        let between = fill(ctx, &pal_a, cur.0, t, k);
        notes.extend(between);
        dir = if t.0 >= cur.0 { 1 } else { -1 };
        cur = t;
    }
    if notes.len() == slots.len() {
        notes.push(cur);
    }
    for (s, n) in slots.iter().zip(&notes) {
        ctx.tl.note(1, s.onset, s.len, vec![common::pitch(n.0, n.1)]);
    }
    if let Some(last) = notes.get(slots.len()) {
        let len = match p.difficulty {
            Beginner => end - resolve_at,
            _ => (2 * QUARTER).min(end - resolve_at),
        };
        ctx.tl.note(1, resolve_at, len, vec![common::pitch(last.0, last.1)]);
    }
}
