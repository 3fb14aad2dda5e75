//! From an alignment to verdicts: per note (right, early, late, wrong
//! pitch, missed), per bar (rushing or dragging), the extra notes (a
//! repeated passage is told apart from noise) and the 0–100 score.
//!
//! Score = 100 × clamp(0.7 × P + 0.3 × T − 0.5 × X, 0, 1), rounded to 0.1:
//! P the share of written notes played with the right pitch, T the timing
//! credit of those notes over all written notes (1 within ±50 ms, falling
//! linearly to 0 at ±250 ms), X the extra notes (repeats excluded) per
//! written note.

use super::align::{Group, Pair, PlayedGroup};
use super::take::{PlayedNote, Take};
use super::tempo::{self, Anchor, TempoMap};
use super::{Judgement, Piece};

/// A note is on time within this many ms.
pub const ON_TIME_MS: f64 = 50.0;
/// Timing credit reaches 0 at this deviation, ms.
pub const NO_CREDIT_MS: f64 = 250.0;
/// A bar is rushed (dragged) when its tempo is this much faster (slower)
/// than its neighbours'.
pub const FEEL_RATIO: f64 = 1.06;
/// Share of a run's onsets that must re-play written ones for a repeat.
const REPEAT_SHARE: f64 = 0.8;

/// One written note's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Right pitch, within ±50 ms.
    Correct,
    /// Right pitch, more than 50 ms early.
    Early,
    /// Right pitch, more than 50 ms late.
    Late,
    /// Another pitch was played in its place.
    WrongPitch,
    /// Not played.
    Missed,
}

/// The result of one written note.
#[derive(Debug, Clone, PartialEq)]
pub struct NoteResult {
    /// The note's id.
    pub id: String,
    /// What happened.
    pub verdict: Verdict,
    /// The written pitch.
    pub expected_pitch: u8,
    /// The pitch played in its place, if any.
    pub played_pitch: Option<u8>,
    /// When it was played, ms since the take started.
    pub played_ms: Option<f64>,
    /// Played minus expected time, ms (right-pitch notes only).
    pub deviation_ms: Option<f64>,
}

/// A played note that matches no written one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExtraNote {
    /// Its pitch.
    pub pitch: u8,
    /// When, ms since the take started.
    pub onset_ms: f64,
    /// Part of a passage played again (not penalised).
    pub repeat: bool,
}

/// How a bar's tempo compared with its neighbours'.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarFeel {
    /// Too few notes to tell.
    Unknown,
    /// Within ±6 %.
    Steady,
    /// Faster than its neighbours.
    Rushing,
    /// Slower than its neighbours.
    Dragging,
}

/// One bar's timing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BarResult {
    /// Bar number, from 1.
    pub bar: u32,
    /// Mean signed deviation of its right-pitch onsets, ms.
    pub mean_deviation_ms: Option<f64>,
    /// Its neighbours' ms per beat over its own (above 1: faster).
    pub tempo_ratio: Option<f64>,
    /// The verdict on its tempo.
    pub feel: BarFeel,
}

/// Totals of a take.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Summary {
    /// 0–100 (the formula in the module doc).
    pub score: f64,
    /// Percent of written notes played with the right pitch.
    pub pitch_accuracy: f64,
    /// Percent of right-pitch notes within ±50 ms.
    pub timing_accuracy: f64,
    /// Mean signed deviation of right-pitch notes, ms (negative: early).
    pub mean_deviation_ms: f64,
    /// Standard deviation of those deviations, ms.
    pub deviation_spread_ms: f64,
    /// Verdict counts.
    pub correct: u32,
    /// Right pitch, early.
    pub early: u32,
    /// Right pitch, late.
    pub late: u32,
    /// Wrong pitch.
    pub wrong: u32,
    /// Not played.
    pub missed: u32,
    /// Extra notes, repeats excluded.
    pub extra: u32,
    /// Extra notes that re-played a passage.
    pub repeated: u32,
    /// Swing ratio found (0.5 straight).
    pub swing_ratio: f64,
    /// First written onset played minus where the count-in put it, ms.
    pub entry_offset_ms: Option<f64>,
    /// The tempo actually played, quarter notes per minute.
    pub played_tempo_bpm: Option<f64>,
}

/// Judges an alignment (`pairs` of `expected` to `played` groups).
pub fn judge(piece: &Piece, take: &Take, expected: &[Group], played: &[PlayedGroup], pairs: &[Pair]) -> Judgement {
    let notes = &take.notes;
    let nominal = TempoMap::nominal(take);
    let points: Vec<(usize, f64)> = tempo::anchor_points(expected, played, notes, pairs);
    let raw: Vec<(f64, f64)> = points.iter().map(|&(g, ms)| (expected[g].beat, ms)).collect();
    let segments = tempo::segments(&raw, take.beat_ms());
    let swing = tempo::swing_ratio(&raw, &segments);
    let anchors: Vec<Anchor> = points
        .iter()
        .zip(&segments)
        .map(|(&(g, ms), &segment)| {
            let beat = tempo::swung(expected[g].beat, swing);
            Anchor { beat, ms, bar: piece.bar_of(expected[g].beat), segment }
        })
        .collect();
    let slopes = tempo::bar_slopes(&anchors);
    let fallback = median_ratio(&raw).unwrap_or_else(|| take.beat_ms());
    // Deviation of each anchored group: the entry against the count-in,
    // the rest against the pulse around them.
    let mut deviation: Vec<Option<f64>> = vec![None; expected.len()];
    let mut entry_offset_ms = None;
    for (&(g, _), a) in points.iter().zip(&anchors) {
        let at = if g == 0 {
            Some(nominal.ms_at(expected[g].beat))
        } else {
            let slope = tempo::reference_slope(&slopes, a.bar, a.segment).unwrap_or(fallback);
            tempo::expected_ms(&anchors, a.beat, a.segment, slope)
        };
        deviation[g] = Some(a.ms - at.unwrap_or_else(|| nominal.ms_at(a.beat)));
        if g == 0 {
            entry_offset_ms = deviation[g];
        }
    }
    let mut results: Vec<Option<NoteResult>> = vec![None; piece.notes.len()];
    let mut extra: Vec<ExtraNote> = Vec::new();
    let mut paired_played = vec![false; played.len()];
    for p in pairs {
        let group = &expected[p.expected];
        let (first, end) = (played[p.played.0].first, played[p.played.1 - 1].end);
        paired_played[p.played.0..p.played.1].iter_mut().for_each(|x| *x = true);
        let mut free: Vec<usize> = (first..end).collect();
        let mut unmatched: Vec<usize> = Vec::new();
        for &n in &group.notes {
            let written = &piece.notes[n];
            if let Some(k) = free.iter().position(|&k| notes[k].pitch == written.pitch) {
                let k = free.remove(k);
                let dev = deviation[p.expected];
                let verdict = match dev {
                    Some(d) if d < -ON_TIME_MS => Verdict::Early,
                    Some(d) if d > ON_TIME_MS => Verdict::Late,
                    _ => Verdict::Correct,
                };
                results[n] = Some(result(written, verdict, Some(notes[k].pitch), Some(notes[k].onset_ms), dev));
            } else {
                unmatched.push(n);
            }
        }
        for n in unmatched {
            let written = &piece.notes[n];
            results[n] = Some(match free.first().copied() {
                Some(k) => {
                    free.remove(0);
                    result(written, Verdict::WrongPitch, Some(notes[k].pitch), Some(notes[k].onset_ms), None)
                }
                None => result(written, Verdict::Missed, None, None, None),
            });
        }
        extra.extend(free.iter().map(|&k| ExtraNote {
            pitch: notes[k].pitch,
            onset_ms: notes[k].onset_ms,
            repeat: false,
        }));
    }
    extra.extend(repeats(piece, expected, played, notes, pairs, &paired_played));
    extra.sort_by(|a, b| a.onset_ms.total_cmp(&b.onset_ms).then(a.pitch.cmp(&b.pitch)));
    let ordered: Vec<NoteResult> = expected
        .iter()
        .flat_map(|g| g.notes.iter())
        .map(|&n| results[n].clone().unwrap_or_else(|| result(&piece.notes[n], Verdict::Missed, None, None, None)))
        .collect();
    let bars = bars(piece, expected, &slopes, &deviation);
    let played_tempo_bpm = tempo::line(anchors.iter().filter(|a| a.segment == 0).map(|a| (a.beat, a.ms)))
        .filter(|(_, s)| *s > 0.0)
        .map(|(_, s)| 60_000.0 / s);
    let mut summary = summarise(&ordered, &extra);
    summary.swing_ratio = swing;
    summary.entry_offset_ms = entry_offset_ms;
    summary.played_tempo_bpm = played_tempo_bpm;
    Judgement { summary, notes: ordered, extra, bars }
}

fn result(
    written: &super::ExpectedNote,
    verdict: Verdict,
    pitch: Option<u8>,
    ms: Option<f64>,
    dev: Option<f64>,
) -> NoteResult {
    NoteResult {
        id: written.id.clone(),
        verdict,
        expected_pitch: written.pitch,
        played_pitch: pitch,
        played_ms: ms,
        deviation_ms: dev,
    }
}

/// The unpaired played groups as extra notes; a run of them that re-plays
/// written onsets from up to two bars back (≥ 80 % of its onsets with the
/// same pitches, at least two notes) is marked as a repeat.
fn repeats(
    piece: &Piece,
    expected: &[Group],
    played: &[PlayedGroup],
    notes: &[PlayedNote],
    pairs: &[Pair],
    paired: &[bool],
) -> Vec<ExtraNote> {
    let mut out = Vec::new();
    let mut j = 0;
    while j < played.len() {
        if paired[j] {
            j += 1;
            continue;
        }
        let start = j;
        while j < played.len() && !paired[j] {
            j += 1;
        }
        let run = &played[start..j];
        let pitches = |g: &PlayedGroup| {
            let mut p: Vec<u8> = notes[g.first..g.end].iter().map(|n| n.pitch).collect();
            p.sort_unstable();
            p
        };
        let run_pitches: Vec<Vec<u8>> = run.iter().map(pitches).collect();
        let before = pairs.iter().rev().find(|p| p.played.1 <= start).map_or(0, |p| p.expected);
        let bar = piece.bar_of(expected.get(before).map_or(0.0, |g| g.beat));
        let note_count: usize = run.iter().map(|g| g.end - g.first).sum();
        let repeat = note_count >= 2
            && (0..=before).any(|s| {
                piece.bar_of(expected[s].beat) + 2 >= bar && {
                    let same = run_pitches.iter().zip(&expected[s..]).filter(|(p, g)| **p == g.pitches).count();
                    same as f64 >= REPEAT_SHARE * run.len() as f64
                }
            });
        for g in run {
            out.extend(notes[g.first..g.end].iter().map(|n| ExtraNote {
                pitch: n.pitch,
                onset_ms: n.onset_ms,
                repeat,
            }));
        }
    }
    out
}

/// The median ms per beat between consecutive anchors.
fn median_ratio(points: &[(f64, f64)]) -> Option<f64> {
    let mut ratios: Vec<f64> =
        points.windows(2).filter(|w| w[1].0 - w[0].0 > 1e-9).map(|w| (w[1].1 - w[0].1) / (w[1].0 - w[0].0)).collect();
    ratios.sort_by(f64::total_cmp);
    ratios.get(ratios.len() / 2).copied().filter(|r| *r > 0.0)
}

fn bars(piece: &Piece, expected: &[Group], slopes: &[(u32, usize, f64)], deviation: &[Option<f64>]) -> Vec<BarResult> {
    let mut numbers: Vec<u32> = expected.iter().map(|g| piece.bar_of(g.beat)).collect();
    numbers.dedup();
    numbers
        .into_iter()
        .map(|bar| {
            let devs: Vec<f64> = expected
                .iter()
                .zip(deviation)
                .filter(|(g, _)| piece.bar_of(g.beat) == bar)
                .filter_map(|(_, d)| *d)
                .collect();
            let mean_deviation_ms = (!devs.is_empty()).then(|| devs.iter().sum::<f64>() / devs.len() as f64);
            let tempo_ratio = slopes
                .iter()
                .find(|(b, _, _)| *b == bar)
                .and_then(|&(_, segment, own)| tempo::reference_slope(slopes, bar, segment).map(|around| around / own));
            let feel = match tempo_ratio {
                None => BarFeel::Unknown,
                Some(r) if r > FEEL_RATIO => BarFeel::Rushing,
                Some(r) if r < 1.0 / FEEL_RATIO => BarFeel::Dragging,
                Some(_) => BarFeel::Steady,
            };
            BarResult { bar, mean_deviation_ms, tempo_ratio, feel }
        })
        .collect()
}

fn summarise(notes: &[NoteResult], extra: &[ExtraNote]) -> Summary {
    let mut s = Summary::default();
    let mut devs = Vec::new();
    let mut credit = 0.0;
    for n in notes {
        match n.verdict {
            Verdict::Correct => s.correct += 1,
            Verdict::Early => s.early += 1,
            Verdict::Late => s.late += 1,
            Verdict::WrongPitch => s.wrong += 1,
            Verdict::Missed => s.missed += 1,
        }
        if matches!(n.verdict, Verdict::Correct | Verdict::Early | Verdict::Late) {
            let d = n.deviation_ms.unwrap_or(0.0);
            devs.push(d);
            credit += ((NO_CREDIT_MS - d.abs()) / (NO_CREDIT_MS - ON_TIME_MS)).clamp(0.0, 1.0);
        }
    }
    s.repeated = extra.iter().filter(|e| e.repeat).count() as u32;
    s.extra = extra.len() as u32 - s.repeated;
    let written = notes.len().max(1) as f64;
    let right = devs.len() as f64;
    s.pitch_accuracy = round1(100.0 * right / written);
    s.timing_accuracy = if right > 0.0 { round1(100.0 * f64::from(s.correct) / right) } else { 0.0 };
    if right > 0.0 {
        let mean = devs.iter().sum::<f64>() / right;
        s.mean_deviation_ms = round1(mean);
        s.deviation_spread_ms = round1((devs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / right).sqrt());
    }
    let raw = 0.7 * right / written + 0.3 * credit / written - 0.5 * f64::from(s.extra) / written;
    s.score = round1(100.0 * raw.clamp(0.0, 1.0));
    s
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
