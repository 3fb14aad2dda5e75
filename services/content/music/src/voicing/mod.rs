//! Piano voicings and voice leading.
//!
//! Each voicing type offers a few forms per chord (shell 1-3-7 and 1-7-3,
//! rootless A and B, the four drop-2 inversions, …), every form placed in
//! each octave where its lowest note falls inside the type's register
//! window. A progression takes the path of candidates with the least total
//! movement (plus a small pull back to the register's centre so long
//! progressions do not drift), which is what makes the guide tones resolve
//! by step: in a ii–V the 7th of ii falls a half step to the 3rd of V.
//! The form tables live in `forms.rs`.

use crate::chord::Chord;
use crate::error::EngineError;
use crate::pitch::{Interval, NoteName, Pitch, iv};

mod forms;

use forms::{down8, drop2_set, quartal_alternate, quartal_form, rootless_set, up8, upper_triad};

/// The voicing types the engine knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VoicingType {
    /// Root plus guide tones, 1-3-7 or 1-7-3, left hand.
    Shell,
    /// Rootless A and B forms chosen by voice leading, left hand.
    Rootless,
    /// Rootless A form only (3-5-7-9), left hand.
    RootlessA,
    /// Rootless B form only (7-9-3-5), left hand.
    RootlessB,
    /// Drop-2 four-note voicings over a bass root, two hands.
    Drop2,
    /// Fourths ("So What" for minor chords), two hands.
    Quartal,
    /// Guide tones in the left hand, a triad of tensions in the right.
    UpperStructure,
}

use VoicingType::*;

impl VoicingType {
    /// Every voicing type.
    pub const ALL: [VoicingType; 7] = [Shell, Rootless, RootlessA, RootlessB, Drop2, Quartal, UpperStructure];

    /// API name.
    pub fn name(self) -> &'static str {
        match self {
            Shell => "shell",
            Rootless => "rootless",
            RootlessA => "rootless-a",
            RootlessB => "rootless-b",
            Drop2 => "drop-2",
            Quartal => "quartal",
            UpperStructure => "upper-structure",
        }
    }

    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            Shell => "shell voicings",
            Rootless => "rootless A/B voicings",
            RootlessA => "rootless A voicings",
            RootlessB => "rootless B voicings",
            Drop2 => "drop-2 voicings",
            Quartal => "quartal (So What) voicings",
            UpperStructure => "upper-structure triads",
        }
    }

    /// Parses an API name or alias (`drop2`, `so-what`, `ust`).
    pub fn parse(s: &str) -> Result<VoicingType, EngineError> {
        let n = crate::progression::normalize_name(s);
        let n = match n.as_str() {
            "drop2" => "drop-2",
            "so-what" | "fourths" => "quartal",
            "ust" | "upper-structure-triads" => "upper-structure",
            "shells" => "shell",
            "rootless-a-b" | "rootless-ab" => "rootless",
            other => other,
        };
        VoicingType::ALL.into_iter().find(|v| v.name() == n).ok_or_else(|| {
            EngineError::invalid(
                "voicing",
                format!("unknown voicing {s:?}; known: {}", crate::list_voicings().join(", ")),
            )
        })
    }

    /// Whether the voicing needs both hands (notes split at middle C).
    pub fn two_handed(self) -> bool {
        matches!(self, Drop2 | Quartal | UpperStructure)
    }

    /// The stated voice-leading bound, in tenths of a semitone: the most
    /// average movement per voice between consecutive voicings (5, or 7.5
    /// for the single-form rootless types, which cannot alternate forms).
    pub fn max_movement_tenths(self) -> u32 {
        match self {
            RootlessA | RootlessB => 75,
            _ => 50,
        }
    }

    /// Register window for the lowest voice-led note, and the preferred centre.
    fn window(self) -> (i32, i32, i32) {
        match self {
            Shell => (40, 55, 50),
            Rootless => (48, 59, 56),
            // A single form needs more octave choice to lead smoothly.
            RootlessA | RootlessB => (44, 60, 55),
            Drop2 => (52, 64, 63),
            Quartal => (45, 57, 60),
            UpperStructure => (47, 58, 62),
        }
    }
}

type Cand = Vec<(i32, NoteName)>;

/// Every octave placement of `form` on `root` whose lowest note is in `lo..=hi`.
fn place(root: NoteName, form: &[Interval], lo: i32, hi: i32) -> Vec<Cand> {
    let mut out = Vec::new();
    for octave in 0..10 {
        let r = root.pc() + 12 * octave;
        let notes: Cand = form.iter().map(|i| (r + i32::from(i.semitones), root.up(*i))).collect();
        let low = notes.iter().map(|n| n.0).min().unwrap_or(r);
        if (lo..=hi).contains(&low) {
            out.push(notes);
        }
    }
    out
}

/// The lowest placement of pitch classes stacked upward from `floor`.
fn stack_from(floor: i32, names: &[NoteName]) -> Cand {
    let mut out = Vec::new();
    let mut at = floor;
    for n in names {
        let m = at + (n.pc() - at).rem_euclid(12);
        out.push((m, *n));
        at = m + 1;
    }
    out
}

/// The candidates of `chord`: every form of the type in every octave of
/// its register window.
fn candidates(chord: &Chord, vt: VoicingType) -> Vec<Cand> {
    let (lo, hi, _) = vt.window();
    candidates_in(chord, vt, lo, hi, false)
}

/// How far past its register window a fallback placement may reach.
const FALLBACK_REACH: i32 = 7;

/// The cost of taking a fallback candidate: above any ordinary path cost,
/// below breaking the movement bound, so fallbacks are used only to keep a
/// progression within the bound.
const FALLBACK_COST: u64 = 1_000;

/// The fallback candidates of `chord`, for when no ordinary candidate can
/// follow the previous voicing within the bound (a single-form type, or a
/// form whose only placement is at the other end of the window): the forms
/// placed up to [`FALLBACK_REACH`] semitones past the window, and for
/// quartal voicings also the forms with the lowest note moved up an octave
/// or the highest moved down (same notes, guide tones kept).
fn fallback_candidates(chord: &Chord, vt: VoicingType) -> Vec<Cand> {
    let (lo, hi, _) = vt.window();
    let ordinary = candidates(chord, vt);
    candidates_in(chord, vt, lo - FALLBACK_REACH, hi + FALLBACK_REACH, true)
        .into_iter()
        .filter(|c| !ordinary.contains(c))
        .collect()
}

/// The candidates with the lowest voice-led note in `lo..=hi`; `rotate` adds
/// the rotated quartal forms.
fn candidates_in(chord: &Chord, vt: VoicingType, lo: i32, hi: i32, rotate: bool) -> Vec<Cand> {
    let root = chord.root;
    let q = chord.quality;
    match vt {
        Shell => {
            let [g3, g7] = q.guide_tones();
            [vec![iv::P1, g3, g7], vec![iv::P1, g7, up8(g3)]].iter().flat_map(|f| place(root, f, lo, hi)).collect()
        }
        Rootless | RootlessA | RootlessB => {
            let [t, f, s, n] = rootless_set(q);
            let a = vec![t, f, s, n];
            let b = vec![s, n, up8(t), up8(f)];
            let forms = match vt {
                RootlessA => vec![a],
                RootlessB => vec![b],
                _ => vec![a, b],
            };
            forms.iter().flat_map(|f| place(root, f, lo, hi)).collect()
        }
        Drop2 => {
            let set = drop2_set(q);
            let bass = place(root, &[iv::P1], 38, 49).into_iter().next().unwrap_or_default();
            let mut out = Vec::new();
            for k in 0..set.len() {
                let mut close: Vec<Interval> = set[k..].to_vec();
                close.extend(set[..k].iter().map(|i| up8(*i)));
                if close.len() == 4 {
                    let form = vec![down8(close[2]), close[0], close[1], close[3]];
                    for c in place(root, &form, lo, hi) {
                        out.push([bass.clone(), c].concat());
                    }
                }
            }
            out
        }
        Quartal => {
            let mut forms = vec![quartal_form(q)];
            forms.extend(quartal_alternate(q));
            if rotate {
                let rotated: Vec<Vec<Interval>> = forms
                    .iter()
                    .flat_map(|f| {
                        let n = f.len();
                        let up: Vec<Interval> = f[1..].iter().copied().chain(f.first().map(|i| up8(*i))).collect();
                        let down: Vec<Interval> =
                            f.last().map(|i| down8(*i)).into_iter().chain(f[..n - 1].iter().copied()).collect();
                        [up, down]
                    })
                    .collect();
                forms.extend(rotated);
            }
            forms.iter().flat_map(|f| place(root, f, lo, hi)).collect()
        }
        UpperStructure => {
            let [g3, g7] = q.guide_tones();
            let triad: Vec<NoteName> = upper_triad(q).iter().map(|i| root.up(*i)).collect();
            let mut out = Vec::new();
            for lh in [vec![g3, g7], vec![g7, up8(g3)]].iter().flat_map(|f| place(root, f, lo, hi)) {
                let top = lh.iter().map(|n| n.0).max().unwrap_or(lo);
                for k in 0..3 {
                    let order: Vec<NoteName> = (0..3).map(|j| triad[(k + j) % 3]).collect();
                    out.push([lh.clone(), stack_from((top + 1).max(60), &order)].concat());
                }
            }
            out
        }
    }
}

/// Total movement between two voicings in semitones: voice by voice when
/// they have as many notes, otherwise each note of `b` to its nearest in `a`.
pub fn movement(a: &[Pitch], b: &[Pitch]) -> u32 {
    let mut a: Vec<i32> = a.iter().map(|p| p.midi()).collect();
    let mut b: Vec<i32> = b.iter().map(|p| p.midi()).collect();
    a.sort_unstable();
    b.sort_unstable();
    if a.len() == b.len() {
        a.iter().zip(&b).map(|(x, y)| x.abs_diff(*y)).sum()
    } else {
        b.iter().map(|y| a.iter().map(|x| x.abs_diff(*y)).min().unwrap_or(0)).sum()
    }
}

/// The cost of moving from `a` to `b`: twice the movement, plus a penalty
/// far above any register pull when the move breaks the type's stated
/// bound, so a path within the bound is taken whenever one exists.
fn step_cost(a: &[Pitch], b: &[Pitch], vt: VoicingType) -> u64 {
    let moved = u64::from(movement(a, b));
    let allowed = u64::from(vt.max_movement_tenths()) * b.len().max(1) as u64;
    let over = (moved * 10).saturating_sub(allowed);
    2 * moved + if over > 0 { 10_000 + 100 * over } else { 0 }
}

/// Voices `chord` after `prev` (or fresh at the register's centre).
pub fn voice(prev: Option<&[Pitch]>, chord: &Chord, vt: VoicingType) -> Vec<Pitch> {
    let (_, _, centre) = vt.window();
    let to_pitches = |c: &Cand| -> Vec<Pitch> {
        let mut v: Vec<Pitch> = c.iter().map(|(m, n)| Pitch::from_midi_named(*m, *n)).collect();
        v.sort_by_key(|p| p.midi());
        v
    };
    let cost = |c: &Vec<Pitch>| -> u64 {
        let lo = c.first().map_or(centre, |p| p.midi());
        let hi = c.last().map_or(centre, |p| p.midi());
        let drift = u64::from(((lo + hi) / 2).abs_diff(centre));
        prev.map_or(0, |p| step_cost(p, c, vt)) + drift
    };
    candidates(chord, vt).iter().map(to_pitches).min_by_key(cost).unwrap_or_default()
}

/// Voices a whole progression with the least total movement: every
/// candidate of every chord is scored by its movement from each candidate of
/// the chord before (plus the register pull), and the cheapest path through
/// the whole progression wins (Viterbi), so an early choice is never forced
/// into a leap later.
pub fn voice_all(chords: &[Chord], vt: VoicingType) -> Vec<Vec<Pitch>> {
    let (_, _, centre) = vt.window();
    let drift = |c: &[Pitch]| -> u64 {
        let lo = c.first().map_or(centre, |p| p.midi());
        let hi = c.last().map_or(centre, |p| p.midi());
        u64::from(((lo + hi) / 2).abs_diff(centre))
    };
    let sorted = |cand: &Cand| -> Vec<Pitch> {
        let mut v: Vec<Pitch> = cand.iter().map(|(m, n)| Pitch::from_midi_named(*m, *n)).collect();
        v.sort_by_key(|p| p.midi());
        v
    };
    // Each candidate with its own cost: the register pull, plus the
    // surcharge for a fallback.
    let layers: Vec<Vec<(Vec<Pitch>, u64)>> = chords
        .iter()
        .map(|c| {
            let mut cands: Vec<(Vec<Pitch>, u64)> = candidates(c, vt)
                .iter()
                .map(|cand| {
                    let v = sorted(cand);
                    let d = drift(&v);
                    (v, d)
                })
                .collect();
            if chords.len() > 1 {
                cands.extend(fallback_candidates(c, vt).iter().map(|cand| {
                    let v = sorted(cand);
                    let d = drift(&v);
                    (v, d + FALLBACK_COST)
                }));
            }
            if cands.is_empty() {
                cands.push((Vec::new(), 0));
            }
            cands
        })
        .collect();
    // cost[i][j]: cheapest path ending in candidate j of chord i; back[i][j]: its predecessor.
    let mut cost: Vec<Vec<u64>> = Vec::with_capacity(layers.len());
    let mut back: Vec<Vec<usize>> = Vec::with_capacity(layers.len());
    for (i, layer) in layers.iter().enumerate() {
        let mut row = Vec::with_capacity(layer.len());
        let mut from = Vec::with_capacity(layer.len());
        for (cand, own) in layer {
            let best = match (i.checked_sub(1).and_then(|p| layers.get(p)), cost.last()) {
                (Some(prev), Some(prev_cost)) => prev
                    .iter()
                    .zip(prev_cost)
                    .enumerate()
                    .map(|(k, ((pv, _), pc))| (pc + step_cost(pv, cand, vt), k))
                    .min()
                    .unwrap_or((0, 0)),
                _ => (0, 0),
            };
            row.push(best.0 + own);
            from.push(best.1);
        }
        cost.push(row);
        back.push(from);
    }
    let mut pick =
        cost.last().and_then(|row| row.iter().enumerate().min_by_key(|(_, c)| **c).map(|(j, _)| j)).unwrap_or(0);
    let mut out = vec![Vec::new(); layers.len()];
    for i in (0..layers.len()).rev() {
        out[i] = layers[i].get(pick).map(|c| c.0.clone()).unwrap_or_default();
        pick = back[i].get(pick).copied().unwrap_or(0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chord::Quality;

    fn chords(s: &str) -> Vec<Chord> {
        s.split_whitespace().map(|c| c.parse().unwrap()).collect()
    }

    fn names(v: &[Pitch]) -> Vec<String> {
        v.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn rootless_ii_v_i_alternates_a_and_b() {
        let v = voice_all(&chords("Dm7 G7 Cmaj7"), Rootless);
        assert_eq!(names(&v[0]), ["F3", "A3", "C4", "E4"]);
        assert_eq!(names(&v[1]), ["F3", "A3", "B3", "E4"]);
        assert_eq!(names(&v[2]), ["E3", "G3", "B3", "D4"]);
    }

    #[test]
    fn shell_guide_tones_resolve_by_step() {
        let v = voice_all(&chords("Dm7 G7 Cmaj7"), Shell);
        // the 7th of Dm7 (C) falls to the 3rd of G7 (B)
        let c = v[0].iter().find(|p| p.name().to_string() == "C").unwrap();
        let b = v[1].iter().find(|p| p.name().to_string() == "B").unwrap();
        assert_eq!(c.midi() - b.midi(), 1);
    }

    #[test]
    fn every_voicing_holds_the_guide_tones() {
        for vt in VoicingType::ALL {
            for q in Quality::ALL {
                for root in ["C", "F#", "Bb", "Db", "E"] {
                    let chord = Chord::new(NoteName::parse(root).unwrap(), q);
                    let v = voice(None, &chord, vt);
                    assert!(!v.is_empty(), "{vt:?} {chord}");
                    let pcs: Vec<i32> = v.iter().map(|p| p.name().pc()).collect();
                    for g in chord.guide_tones() {
                        assert!(pcs.contains(&g.pc()), "{vt:?} {chord} lacks {g}: {:?}", names(&v));
                    }
                    for p in &v {
                        let spelled =
                            chord.tones().into_iter().chain(chord.tensions()).any(|n| n.pc() == p.name().pc());
                        assert!(
                            spelled
                                || vt == UpperStructure
                                || vt == Quartal
                                || vt == Drop2
                                || vt.name().starts_with("rootless"),
                            "{vt:?} {chord} {p}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn quartal_minor_ii_v_i_keeps_the_bound() {
        // Fm6 has one quartal form with one placement (A♭3 D4 G4 C5); the
        // C7♭9 before it must not sit an octave below.
        for vt in VoicingType::ALL {
            let v = voice_all(&chords("Gm7b5 C7b9 Fm6 Fm6"), vt);
            for w in v.windows(2) {
                assert!(movement(&w[0], &w[1]) * 10 <= vt.max_movement_tenths() * w[1].len() as u32, "{vt:?} {v:?}");
            }
        }
    }

    #[test]
    fn parse_names() {
        assert_eq!(VoicingType::parse("Drop2").unwrap(), Drop2);
        assert_eq!(VoicingType::parse("so what").unwrap(), Quartal);
        assert_eq!(VoicingType::parse("cluster").unwrap_err().field(), "voicing");
    }
}
