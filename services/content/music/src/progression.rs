//! Named progressions as degree tables, their realization in a key and
//! meter, and the difficulty-driven reharmonization (extensions, altered
//! dominants, tritone substitutes).

use crate::chord::{Chord, Quality};
use crate::error::EngineError;
use crate::key::Key;
use crate::params::Difficulty;
use crate::pitch::{Interval, iv};
use crate::rhythm::TimeSignature;
use crate::rng::Rng;

/// One chord of a progression table: degree above the tonic, quality, and
/// length in half bars.
type Step = (Interval, Quality, u8);

use Quality::*;

const II_V_I: &[Step] = &[(iv::MA2, Min7, 2), (iv::P5, Dom7, 2), (iv::P1, Maj7, 4)];
const MINOR_II_V_I: &[Step] = &[(iv::MA2, HalfDim, 2), (iv::P5, Dom7Flat9, 2), (iv::P1, Min6, 4)];
const I_VI_II_V: &[Step] = &[(iv::P1, Maj7, 2), (iv::MA6, Min7, 2), (iv::MA2, Min7, 2), (iv::P5, Dom7, 2)];
const III_VI_II_V: &[Step] = &[(iv::MA3, Min7, 2), (iv::MA6, Min7, 2), (iv::MA2, Min7, 2), (iv::P5, Dom7, 2)];
const BLUES: &[Step] = &[
    (iv::P1, Dom7, 8),
    (iv::P4, Dom7, 4),
    (iv::P1, Dom7, 4),
    (iv::P5, Dom7, 2),
    (iv::P4, Dom7, 2),
    (iv::P1, Dom7, 2),
    (iv::P5, Dom7, 2),
];
const JAZZ_BLUES: &[Step] = &[
    (iv::P1, Dom7, 2),
    (iv::P4, Dom7, 2),
    (iv::P1, Dom7, 2),
    (iv::P5, Min7, 1),
    (iv::P1, Dom7, 1),
    (iv::P4, Dom7, 2),
    (iv::A4, Dim7, 2),
    (iv::P1, Dom7, 2),
    (iv::MA3, Min7, 1),
    (iv::MA6, Dom7, 1),
    (iv::MA2, Min7, 2),
    (iv::P5, Dom7, 2),
    (iv::P1, Dom7, 1),
    (iv::MA6, Dom7, 1),
    (iv::MA2, Min7, 1),
    (iv::P5, Dom7, 1),
];
const MINOR_BLUES: &[Step] = &[
    (iv::P1, Min7, 8),
    (iv::P4, Min7, 4),
    (iv::P1, Min7, 4),
    (iv::MI6, Dom7, 2),
    (iv::P5, Dom7Flat9, 2),
    (iv::P1, Min7, 2),
    (iv::P5, Dom7Flat9, 2),
];
const RHYTHM_A: &[Step] = &[
    (iv::P1, Six, 1),
    (iv::MA6, Min7, 1),
    (iv::MA2, Min7, 1),
    (iv::P5, Dom7, 1),
    (iv::P1, Six, 1),
    (iv::MA6, Min7, 1),
    (iv::MA2, Min7, 1),
    (iv::P5, Dom7, 1),
    (iv::P5, Min7, 1),
    (iv::P1, Dom7, 1),
    (iv::P4, Maj7, 1),
    (iv::A4, Dim7, 1),
    (iv::P1, Six, 1),
    (iv::P5, Dom7, 1),
    (iv::P1, Six, 2),
];
const RHYTHM_BRIDGE: &[Step] = &[(iv::MA3, Dom7, 4), (iv::MA6, Dom7, 4), (iv::MA2, Dom7, 4), (iv::P5, Dom7, 4)];
const TRITONE_II_V_I: &[Step] = &[(iv::MA2, Min7, 2), (iv::MI2, Dom7, 2), (iv::P1, Maj7, 4)];
const BACKDOOR: &[Step] = &[(iv::P4, Min7, 2), (iv::MI7, Dom7, 2), (iv::P1, Maj7, 4)];
const MODAL_VAMP: &[Step] = &[(iv::P1, Min7, 8), (iv::MI2, Min7, 4), (iv::P1, Min7, 4)];

/// A named progression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Progression {
    /// API name, e.g. `ii-v-i`.
    pub name: &'static str,
    /// Human label, e.g. `ii–V–I`.
    pub label: &'static str,
}

/// Every progression name the engine accepts, in documentation order.
pub const PROGRESSIONS: [Progression; 13] = [
    Progression { name: "ii-v-i", label: "ii–V–I" },
    Progression { name: "minor-ii-v-i", label: "minor ii–V–i" },
    Progression { name: "i-vi-ii-v", label: "I–vi–ii–V" },
    Progression { name: "iii-vi-ii-v", label: "iii–vi–ii–V" },
    Progression { name: "blues", label: "12-bar blues" },
    Progression { name: "jazz-blues", label: "12-bar jazz blues" },
    Progression { name: "minor-blues", label: "minor blues" },
    Progression { name: "rhythm-changes-a", label: "rhythm changes A section" },
    Progression { name: "rhythm-changes", label: "rhythm changes (AABA)" },
    Progression { name: "cycle-of-fourths", label: "cycle of fourths" },
    Progression { name: "tritone-sub-ii-v-i", label: "tritone-sub ii–V–I" },
    Progression { name: "backdoor-ii-v-i", label: "backdoor ii–V–I" },
    Progression { name: "modal-vamp", label: "modal vamp" },
];

/// Lower-cases and unifies separators: `ii–V–I`, `II V I`, `ii_v_i` → `ii-v-i`.
pub fn normalize_name(s: &str) -> String {
    let mut out = String::new();
    for c in s.trim().chars() {
        let c = match c {
            '–' | '—' | '_' | ' ' | '/' => '-',
            c => c.to_ascii_lowercase(),
        };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    out
}

impl Progression {
    /// Looks a progression up by name or alias (`2-5-1`, `ii-V-I`, `rhythm changes`).
    pub fn parse(s: &str) -> Result<Progression, EngineError> {
        let n = normalize_name(s);
        let n = match n.as_str() {
            "2-5-1" | "ii-v-i-major" | "major-ii-v-i" => "ii-v-i",
            "ii-v-i-minor" | "minor-2-5-1" => "minor-ii-v-i",
            "12-bar-blues" | "basic-blues" => "blues",
            "jazz-blues-12" | "bebop-blues" => "jazz-blues",
            "rhythm-changes-a-section" => "rhythm-changes-a",
            "cycle-of-4ths" | "circle-of-fourths" | "cycle-of-fifths" => "cycle-of-fourths",
            "tritone-sub" => "tritone-sub-ii-v-i",
            "backdoor" => "backdoor-ii-v-i",
            "so-what" | "modal" => "modal-vamp",
            other => other,
        };
        PROGRESSIONS.into_iter().find(|p| p.name == n).ok_or_else(|| {
            EngineError::invalid(
                "progression",
                format!("unknown progression {s:?}; known: {}", crate::list_progressions().join(", ")),
            )
        })
    }

    /// Whether this is one of the harder substitutions the engine only picks
    /// on its own at ADVANCED and above.
    pub fn is_substitution(self) -> bool {
        matches!(self.name, "tritone-sub-ii-v-i" | "backdoor-ii-v-i")
    }

    fn table(self) -> Vec<Step> {
        match self.name {
            "minor-ii-v-i" => MINOR_II_V_I.to_vec(),
            "i-vi-ii-v" => I_VI_II_V.to_vec(),
            "iii-vi-ii-v" => III_VI_II_V.to_vec(),
            "blues" => BLUES.to_vec(),
            "jazz-blues" => JAZZ_BLUES.to_vec(),
            "minor-blues" => MINOR_BLUES.to_vec(),
            "rhythm-changes-a" => RHYTHM_A.to_vec(),
            "rhythm-changes" => [RHYTHM_A, RHYTHM_A, RHYTHM_BRIDGE, RHYTHM_A].concat(),
            "cycle-of-fourths" => (0..12i8).map(|k| (Interval::new(3 * k, 5 * k), Dom7, 2)).collect(),
            "tritone-sub-ii-v-i" => TRITONE_II_V_I.to_vec(),
            "backdoor-ii-v-i" => BACKDOOR.to_vec(),
            "modal-vamp" => MODAL_VAMP.to_vec(),
            _ => II_V_I.to_vec(),
        }
    }

    /// Natural length in bars of 4/4.
    pub fn natural_bars(self) -> u32 {
        self.table().iter().map(|s| u32::from(s.2)).sum::<u32>() / 2
    }
}

/// A chord sounding over a span of the piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChordSpan {
    /// Start, divisions from the beginning.
    pub start: u32,
    /// Length in divisions.
    pub len: u32,
    /// The chord.
    pub chord: Chord,
}

/// The progression in `key` and `ts`, exactly `bars` bars long: halved while
/// too long and evenly divisible (a 4-bar ii–V–I becomes 2 bars), then cut
/// or repeated. In odd meters each chord takes whole bars.
pub fn realize(p: Progression, key: Key, ts: TimeSignature, bars: u32) -> Vec<ChordSpan> {
    let mut table = p.table();
    let units_per_bar = if ts.has_half_bar() { 2 } else { 1 };
    let unit = ts.measure_len() / units_per_bar;
    if units_per_bar == 1 {
        for s in &mut table {
            s.2 = s.2.div_ceil(2);
        }
    }
    let want = bars * units_per_bar;
    let total = |t: &[Step]| t.iter().map(|s| u32::from(s.2)).sum::<u32>();
    while total(&table) > want && table.iter().all(|s| s.2 % 2 == 0) {
        for s in &mut table {
            s.2 /= 2;
        }
    }
    let mut spans = Vec::new();
    let mut pos = 0;
    'fill: loop {
        for (degree, quality, len) in &table {
            if pos >= want || *len == 0 {
                break 'fill;
            }
            let n = u32::from(*len).min(want - pos);
            let root = key.respell_root(key.degree(*degree));
            spans.push(ChordSpan { start: pos * unit, len: n * unit, chord: Chord::new(root, *quality) });
            pos += n;
        }
        if table.is_empty() {
            break;
        }
    }
    spans
}

/// Colours the chords for the difficulty: BEGINNER plain sevenths; ADVANCED
/// ninths, thirteenths and ♭9 into minor; EXPERT altered dominants and
/// tritone substitutes for dominants that resolve down a fifth.
pub fn reharmonize(spans: &mut [ChordSpan], key: Key, difficulty: Difficulty, rng: &mut Rng) {
    let next_chords: Vec<Option<Chord>> = (0..spans.len()).map(|i| spans.get(i + 1).map(|s| s.chord)).collect();
    for (span, next) in spans.iter_mut().zip(next_chords) {
        let c = &mut span.chord;
        let resolves = next.is_some_and(|n| (n.root.pc() - c.root.pc()).rem_euclid(12) == 5);
        let to_minor = next.is_some_and(|n| n.quality.is_minor() || n.quality == HalfDim);
        c.quality = match (difficulty, c.quality) {
            (Difficulty::Beginner, Dom7Flat9 | Dom7Sharp9 | Alt | Dom9 | Dom13) => Dom7,
            (Difficulty::Beginner, SixNine) => Six,
            (Difficulty::Beginner, MinMaj7) => Min6,
            (Difficulty::Advanced, Dom7) if resolves && to_minor => Dom7Flat9,
            (Difficulty::Advanced, Dom7) if resolves => rng.pick_or(&[Dom7, Dom9, Dom13], Dom7),
            (Difficulty::Expert, Dom7 | Dom7Flat9) if resolves && rng.chance(40) => {
                c.root = key.respell_root(c.root.up(iv::D5));
                if to_minor { Dom7 } else { rng.pick_or(&[Dom7, Dom9], Dom7) }
            }
            (Difficulty::Expert, Dom7 | Dom7Flat9) if resolves => {
                if to_minor {
                    rng.pick_or(&[Alt, Dom7Flat9], Alt)
                } else {
                    rng.pick_or(&[Alt, Dom7Sharp9, Dom13], Alt)
                }
            }
            (Difficulty::Expert | Difficulty::Advanced, Maj7) if rng.chance(30) => SixNine,
            (_, q) => q,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Mode;
    use crate::pitch::NoteName;

    fn symbols(name: &str, key: &str, bars: u32) -> Vec<String> {
        let key = Key::parse(key, None).unwrap();
        realize(Progression::parse(name).unwrap(), key, TimeSignature::FOUR_FOUR, bars)
            .iter()
            .map(|s| s.chord.to_string())
            .collect()
    }

    #[test]
    fn progressions_are_spelled_in_the_key() {
        assert_eq!(symbols("ii-V-I", "Bb", 4), ["Cm7", "F7", "Bbmaj7"]);
        assert_eq!(symbols("2-5-1", "Bb", 2), ["Cm7", "F7", "Bbmaj7"]);
        assert_eq!(symbols("tritone sub", "Bb", 4), ["Cm7", "B7", "Bbmaj7"]);
        assert_eq!(symbols("backdoor", "C", 4), ["Fm7", "Bb7", "Cmaj7"]);
        assert_eq!(symbols("minor-ii-v-i", "Cm", 4), ["Dm7b5", "G7b9", "Cm6"]);
        let cycle = symbols("cycle-of-fourths", "C", 12);
        assert_eq!(cycle, ["C7", "F7", "Bb7", "Eb7", "Ab7", "Db7", "Gb7", "B7", "E7", "A7", "D7", "G7"]);
        assert_eq!(symbols("jazz-blues", "F", 12)[6], "Bdim7");
    }

    #[test]
    fn lengths_fit_the_requested_bars() {
        let key = Key::new(NoteName::parse("F").unwrap(), Mode::Major).unwrap();
        for p in PROGRESSIONS {
            for bars in [1, 2, 3, 4, 7, 12, 32] {
                for ts in ["4/4", "3/4", "5/4"] {
                    let ts = TimeSignature::parse(ts).unwrap();
                    let spans = realize(p, key, ts, bars);
                    let len: u32 = spans.iter().map(|s| s.len).sum();
                    assert_eq!(len, bars * ts.measure_len(), "{} {bars} {ts}", p.name);
                    assert!(spans.windows(2).all(|w| w[0].start + w[0].len == w[1].start));
                }
            }
        }
        assert_eq!(Progression::parse("rhythm changes").unwrap().natural_bars(), 32);
        assert_eq!(Progression::parse("nope").unwrap_err().field(), "progression");
    }
}
