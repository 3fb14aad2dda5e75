//! What the generators share: the context, the changes, chord symbols,
//! left-hand parts (sustained or comped), and the note palettes lines are
//! drawn from.

use crate::chord::Chord;
use crate::defaults::Resolved;
use crate::params::{Difficulty, Style};
use crate::pitch::{NoteName, Pitch, Step};
use crate::progression::{self, ChordSpan};
use crate::rng::Rng;
use crate::scale::{ScaleKind, chord_scale};
use crate::timeline::Timeline;
use crate::voicing::voice_all;

/// Everything a generator works with.
pub struct Ctx<'a> {
    /// The resolved parameters.
    pub p: &'a Resolved,
    /// The music stream of the seed.
    pub rng: Rng,
    /// Where notes go.
    pub tl: Timeline,
}

/// The progression realized and reharmonized for the difficulty.
pub fn changes(ctx: &mut Ctx<'_>) -> Vec<ChordSpan> {
    let p = ctx.p;
    let prog = p.progression.unwrap_or(progression::PROGRESSIONS[0]);
    let mut spans = progression::realize(prog, p.key, p.ts, p.bars);
    progression::reharmonize(&mut spans, p.key, p.difficulty, &mut ctx.rng);
    spans
}

/// Writes one chord symbol per span.
pub fn chord_symbols(ctx: &mut Ctx<'_>, spans: &[ChordSpan]) {
    for s in spans {
        ctx.tl.chord(s.start, s.chord);
    }
}

/// Puts a voicing on the staves: left-hand types on staff 2, two-hand types
/// split at middle C.
fn put(ctx: &mut Ctx<'_>, onset: u32, len: u32, v: &[Pitch], split: bool) {
    let (lh, rh): (Vec<Pitch>, Vec<Pitch>) = v.iter().partition(|p| !split || p.midi() < 60);
    ctx.tl.note(2, onset, len, lh);
    ctx.tl.note(1, onset, len, rh);
}

/// One voicing per span, held for the span (chord-progression and drill
/// material, where the voicing itself is the lesson).
pub fn sustain(ctx: &mut Ctx<'_>, spans: &[ChordSpan]) {
    let vt = ctx.p.voicing;
    let chords: Vec<Chord> = spans.iter().map(|s| s.chord).collect();
    for (s, v) in spans.iter().zip(voice_all(&chords, vt)) {
        put(ctx, s.start, s.len, &v, vt.two_handed());
    }
}

/// One voicing per span, held, all in the left hand (under a scale or a
/// line in the right hand); two-hand types are reduced as in [`comp`].
pub fn sustain_lh(ctx: &mut Ctx<'_>, spans: &[ChordSpan]) {
    let vt = ctx.p.voicing;
    let chords: Vec<Chord> = spans.iter().map(|s| s.chord).collect();
    for (s, v) in spans.iter().zip(voice_all(&chords, vt)) {
        let v = if vt.two_handed() { left_hand(&v, &s.chord) } else { v };
        ctx.tl.note(2, s.start, s.len, v);
    }
}

/// A left-hand reduction of a two-hand voicing, for accompaniment under a
/// melody: the notes within a tenth of the lowest, plus any guide tone that
/// fell outside, brought into that span.
fn left_hand(v: &[Pitch], chord: &Chord) -> Vec<Pitch> {
    let Some(low) = v.first().map(|p| p.midi()) else { return Vec::new() };
    let mut out: Vec<Pitch> = v.iter().copied().filter(|p| p.midi() <= low + 16).collect();
    for g in chord.guide_tones() {
        if !out.iter().any(|p| p.name().pc() == g.pc()) {
            let m = low + 1 + (g.pc() - low - 1).rem_euclid(12);
            out.push(Pitch::from_midi_named(m, g));
        }
    }
    out.sort_by_key(|p| p.midi());
    out
}

/// Comping hits within one chord span: (offset, length) pairs.
fn comp_rhythm(style: Style, d: Difficulty, len: u32, bar: u32, rng: &mut Rng) -> Vec<(u32, u32)> {
    if d == Difficulty::Beginner || style == Style::Ballad {
        return vec![(0, len)];
    }
    let mut hits = Vec::new();
    let mut at = 0;
    while at < len {
        let chunk = (len - at).min(bar);
        let cell: Vec<(u32, u32)> = match style {
            Style::BossaNova if chunk >= 48 => vec![(0, 12), (18, 12), (36, 12)],
            Style::BossaNova if chunk >= 24 => vec![(0, 12), (18, 6)],
            Style::Modal if chunk >= 36 => vec![(0, 18), (18, chunk - 18)],
            _ if chunk >= 36 && rng.chance(70) => vec![(0, 18), (18, 6)],
            _ if chunk >= 36 => vec![(0, 12), (30, 6)],
            _ => vec![(0, chunk.min(12))],
        };
        hits.extend(cell.into_iter().filter(|(o, l)| o + l <= chunk).map(|(o, l)| (at + o, l)));
        at += chunk;
    }
    hits
}

/// Left-hand comping under a melody: voiced with voice leading, in the
/// style's rhythm (Charleston for swing, 3-3-2 for bossa nova, held for
/// ballads and beginners), always struck on each chord change.
pub fn comp(ctx: &mut Ctx<'_>, spans: &[ChordSpan]) {
    let p = ctx.p;
    let vt = p.voicing;
    let chords: Vec<Chord> = spans.iter().map(|s| s.chord).collect();
    let bar = p.ts.measure_len();
    for (s, v) in spans.iter().zip(voice_all(&chords, vt)) {
        let v = if vt.two_handed() { left_hand(&v, &s.chord) } else { v };
        for (o, l) in comp_rhythm(p.style, p.difficulty, s.len, bar, &mut ctx.rng) {
            ctx.tl.note(2, s.start + o, l, v.clone());
        }
    }
}

/// The chord sounding at `t`.
pub fn chord_at(spans: &[ChordSpan], t: u32) -> Option<&ChordSpan> {
    spans.iter().find(|s| s.start <= t && t < s.start + s.len).or(spans.last())
}

/// Notes a line may use over one chord, inside the range, spelled.
#[derive(Debug, Clone)]
pub struct Palette {
    /// Chord tones, ascending.
    pub tones: Vec<(i32, NoteName)>,
    /// Scale notes (chord tones included), ascending.
    pub scale: Vec<(i32, NoteName)>,
}

fn in_range(names: &[NoteName], lo: i32, hi: i32) -> Vec<(i32, NoteName)> {
    (lo..=hi).filter_map(|m| names.iter().find(|n| n.pc() == m.rem_euclid(12)).map(|n| (m, *n))).collect()
}

/// The scale a line uses over `chord` for these parameters: the plain mode
/// for beginners, bebop scales for bebop, the blues scale on the tonic for
/// blues (intermediate and up), melodic-minor colours otherwise.
pub fn line_scale(p: &Resolved, chord: &Chord) -> (NoteName, ScaleKind) {
    let beginner = p.difficulty == Difficulty::Beginner;
    if p.style == Style::Blues && !beginner && chord.quality.is_dominant() {
        return (chord.root, ScaleKind::Mixolydian);
    }
    let bebop = !beginner && (p.style == Style::Bebop || p.difficulty >= Difficulty::Advanced);
    (chord.root, chord_scale(chord, beginner, bebop))
}

/// The palette over `chord` within `lo..=hi`.
pub fn palette(p: &Resolved, chord: &Chord, lo: i32, hi: i32) -> Palette {
    let tones = chord.tones();
    let (root, kind) = line_scale(p, chord);
    let mut names = tones.clone();
    for n in kind.notes(root) {
        if !names.iter().any(|t| t.pc() == n.pc()) {
            names.push(n);
        }
    }
    if p.style == Style::Blues && p.difficulty != Difficulty::Beginner {
        // The blue notes over every chord of a blues: ♭3 and ♭5 of the key.
        for n in ScaleKind::Blues.notes(p.key.tonic) {
            if !names.iter().any(|t| t.pc() == n.pc()) {
                names.push(n);
            }
        }
    }
    Palette { tones: in_range(&tones, lo, hi), scale: in_range(&names, lo, hi) }
}

/// The entry of `list` nearest to `target` (ties go down).
pub fn nearest(list: &[(i32, NoteName)], target: i32) -> Option<(i32, NoteName)> {
    list.iter().copied().min_by_key(|(m, _)| ((m - target).abs(), *m))
}

/// The spelling of a chromatic neighbour `semis` (±1) from `target`: a
/// raised lower letter below (D♯ to E), a lowered upper letter above (E♭ to D).
pub fn neighbour_name(target: NoteName, semis: i32) -> NoteName {
    let dir = semis.signum();
    let step = Step::from_index(target.step.index() + dir);
    let want = target.pc() + semis;
    let alter = (want - step.natural_semitones() + 6).rem_euclid(12) - 6;
    if alter.abs() <= 1 {
        NoteName::new(step, alter as i8)
    } else {
        NoteName::new(target.step, (i32::from(target.alter) + semis).clamp(-2, 2) as i8)
    }
}

/// A pitch at `midi` spelled as `name`.
pub fn pitch(m: i32, n: NoteName) -> Pitch {
    Pitch::from_midi_named(m, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chromatic_neighbours_are_spelled_toward_the_target() {
        let e = NoteName::parse("E").unwrap();
        assert_eq!(neighbour_name(e, -1).to_string(), "D#");
        assert_eq!(neighbour_name(e, 1).to_string(), "F");
        let d = NoteName::parse("D").unwrap();
        assert_eq!(neighbour_name(d, 1).to_string(), "Eb");
        let f = NoteName::parse("F").unwrap();
        assert_eq!(neighbour_name(f, -1).to_string(), "E");
    }
}
