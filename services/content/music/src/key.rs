//! Keys: the twelve major and twelve minor keys, their signatures, and the
//! spelling rule every generated note goes through.
//!
//! The rule: a pitch class that belongs to the key signature is always
//! written as the signature writes it (B♭ major never shows A♯); any other
//! pitch class keeps the spelling its chord or scale gave it, and only a
//! spelling with a double accidental that the key does not need is simplified.

use crate::error::EngineError;
use crate::pitch::{Interval, NoteName, Pitch, Step, iv};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Major or (natural) minor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Major (ionian) key signature.
    Major,
    /// Minor key; the signature is the natural minor's, chords borrow the
    /// raised seventh (harmonic minor) for the dominant.
    Minor,
}

impl FromStr for Mode {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "major" | "maj" | "ionian" => Ok(Mode::Major),
            "minor" | "min" | "m" | "aeolian" => Ok(Mode::Minor),
            other => {
                Err(EngineError::invalid("mode", format!("unknown mode {other:?}; expected \"major\" or \"minor\"")))
            }
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Major => "major",
            Mode::Minor => "minor",
        })
    }
}

/// A key: tonic and mode. Only keys with at most seven sharps or flats exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    /// The tonic's spelling.
    pub tonic: NoteName,
    /// Major or minor.
    pub mode: Mode,
}

/// Position on the line of fifths of the natural letters (C = 0).
fn letter_fifths(step: Step) -> i32 {
    [0, 2, 4, -1, 1, 3, 5][step as usize]
}

impl Key {
    /// The key, if its signature has at most seven accidentals.
    pub fn new(tonic: NoteName, mode: Mode) -> Result<Key, EngineError> {
        let key = Key { tonic, mode };
        if key.fifths().abs() > 7 {
            return Err(EngineError::invalid(
                "key",
                format!("{} {mode} would need more than seven accidentals", tonic.pretty()),
            ));
        }
        Ok(key)
    }

    /// Parses `Bb`, `B♭`, `F#`, `Cm`, `C minor`, `Eb major`. A suffix fixes
    /// the mode; otherwise `mode` (default major) applies.
    pub fn parse(text: &str, mode: Option<Mode>) -> Result<Key, EngineError> {
        let bad = || {
            EngineError::invalid(
                "key",
                format!("cannot read key {text:?}; expected a note name such as C, Bb, F# or Ebm"),
            )
        };
        let (tonic, rest) = NoteName::parse_prefix(text.trim()).ok_or_else(bad)?;
        if tonic.alter.abs() > 1 {
            return Err(bad());
        }
        let rest = rest.trim();
        let suffix_mode = match rest {
            "" => None,
            other => Some(other.parse::<Mode>().map_err(|_| bad())?),
        };
        let mode = match (suffix_mode, mode) {
            (Some(a), Some(b)) if a != b => {
                return Err(EngineError::invalid("mode", format!("mode {b} contradicts key {text:?}")));
            }
            (Some(m), _) | (None, Some(m)) => m,
            (None, None) => Mode::Major,
        };
        Key::new(tonic, mode)
    }

    /// Signed count of sharps (positive) or flats (negative), as MusicXML's `<fifths>`.
    pub fn fifths(&self) -> i32 {
        let t = letter_fifths(self.tonic.step) + 7 * i32::from(self.tonic.alter);
        match self.mode {
            Mode::Major => t,
            Mode::Minor => t - 3,
        }
    }

    /// The seven notes of the signature scale from the tonic (major or natural minor).
    pub fn scale(&self) -> [NoteName; 7] {
        let steps = match self.mode {
            Mode::Major => [iv::P1, iv::MA2, iv::MA3, iv::P4, iv::P5, iv::MA6, iv::MA7],
            Mode::Minor => [iv::P1, iv::MA2, iv::MI3, iv::P4, iv::P5, iv::MI6, iv::MI7],
        };
        steps.map(|i| self.tonic.up(i))
    }

    /// The signature's spelling of pitch class `pc`, if it is diatonic.
    pub fn diatonic_name(&self, pc: i32) -> Option<NoteName> {
        self.scale().into_iter().find(|n| n.pc() == pc.rem_euclid(12))
    }

    /// The note `interval` above the tonic.
    pub fn degree(&self, interval: Interval) -> NoteName {
        self.tonic.up(interval)
    }

    /// A spelling for any pitch class: the signature's if diatonic, else a
    /// natural letter if one fits, else a sharp in sharp keys and a flat in
    /// flat keys (C major counts as a sharp key).
    pub fn spell_pc(&self, pc: i32) -> NoteName {
        let pc = pc.rem_euclid(12);
        if let Some(n) = self.diatonic_name(pc) {
            return n;
        }
        if let Some(step) = Step::ALL.into_iter().find(|s| s.natural_semitones() == pc) {
            return NoteName::new(step, 0);
        }
        if self.fifths() >= 0 {
            NoteName::new(Step::ALL.into_iter().rev().find(|s| s.natural_semitones() == pc - 1).unwrap_or(Step::C), 1)
        } else {
            NoteName::new(Step::ALL.into_iter().find(|s| s.natural_semitones() == (pc + 1) % 12).unwrap_or(Step::C), -1)
        }
    }

    /// Applies the key's spelling rule (see the module doc) to one pitch.
    pub fn respell(&self, p: Pitch) -> Pitch {
        let pc = p.name().pc();
        match self.diatonic_name(pc) {
            Some(n) if n != p.name() => Pitch::from_midi_named(p.midi(), n),
            Some(_) => p,
            None if p.alter.abs() > 1 => Pitch::from_midi_named(p.midi(), self.spell_pc(pc)),
            None => p,
        }
    }

    /// Applies the spelling rule to a chord root or other pitch class:
    /// non-diatonic roots written C♭, F♭, E♯, B♯ or with a double accidental
    /// become the plain enharmonic (tritone sub of F7 in B♭ is B7, not C♭7).
    pub fn respell_root(&self, n: NoteName) -> NoteName {
        if let Some(d) = self.diatonic_name(n.pc()) {
            return d;
        }
        let awkward =
            n.alter.abs() > 1 || matches!((n.step, n.alter), (Step::C | Step::F, -1) | (Step::E | Step::B, 1));
        if awkward { self.spell_pc(n.pc()) } else { n }
    }

    /// Human name, e.g. `B♭ major`.
    pub fn name(&self) -> String {
        format!("{} {}", self.tonic.pretty(), self.mode)
    }

    /// Tag form, e.g. `b-flat-major`.
    pub fn slug(&self) -> String {
        format!("{}-{}", self.tonic.slug(), self.mode)
    }

    /// Parameter form, e.g. `Bb` or `F#m`.
    pub fn code(&self) -> String {
        match self.mode {
            Mode::Major => self.tonic.to_string(),
            Mode::Minor => format!("{}m", self.tonic),
        }
    }

    /// The 24 keys the engine offers: C G D A E B F♯ D♭ A♭ E♭ B♭ F major and
    /// A E B F♯ C♯ G♯ E♭ B♭ F C G D minor.
    pub fn all24() -> Vec<Key> {
        const MAJ: [&str; 12] = ["C", "G", "D", "A", "E", "B", "F#", "Db", "Ab", "Eb", "Bb", "F"];
        const MIN: [&str; 12] = ["A", "E", "B", "F#", "C#", "G#", "Eb", "Bb", "F", "C", "G", "D"];
        let mut keys = Vec::with_capacity(24);
        for (names, mode) in [(MAJ, Mode::Major), (MIN, Mode::Minor)] {
            for n in names {
                if let Some(tonic) = NoteName::parse(n) {
                    keys.push(Key { tonic, mode });
                }
            }
        }
        keys
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(k: &str, mode: Mode) -> Vec<String> {
        Key::parse(k, Some(mode)).unwrap().scale().iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn signatures_are_spelled_correctly() {
        assert_eq!(names("Bb", Mode::Major), ["Bb", "C", "D", "Eb", "F", "G", "A"]);
        assert_eq!(names("F#", Mode::Major), ["F#", "G#", "A#", "B", "C#", "D#", "E#"]);
        assert_eq!(names("G#", Mode::Minor), ["G#", "A#", "B", "C#", "D#", "E", "F#"]);
        assert_eq!(Key::parse("Eb", Some(Mode::Minor)).unwrap().fifths(), -6);
        assert_eq!(Key::parse("F#", None).unwrap().fifths(), 6);
    }

    #[test]
    fn all_24_keys_are_distinct_and_within_seven_accidentals() {
        let keys = Key::all24();
        assert_eq!(keys.len(), 24);
        for k in &keys {
            assert!(k.fifths().abs() <= 6, "{k}");
        }
    }

    #[test]
    fn parse_rejects_nonsense() {
        for bad in ["H#", "", "Cbb", "X", "C7", "Fb#"] {
            assert_eq!(Key::parse(bad, None).unwrap_err().field(), "key", "{bad}");
        }
        assert_eq!(Key::parse("Cm", Some(Mode::Major)).unwrap_err().field(), "mode");
        assert!(Key::parse("G#", Some(Mode::Major)).is_err()); // eight sharps
        assert_eq!(Key::parse("Ebm", None).unwrap().mode, Mode::Minor);
    }

    #[test]
    fn respelling_follows_the_signature() {
        let bb = Key::parse("Bb", None).unwrap();
        let a_sharp = Pitch::parse("A#4").unwrap();
        assert_eq!(bb.respell(a_sharp).to_string(), "Bb4");
        let c = Key::parse("C", None).unwrap();
        assert_eq!(c.respell(Pitch::parse("Cb5").unwrap()).to_string(), "B4");
        assert_eq!(c.respell(Pitch::parse("D#4").unwrap()).to_string(), "D#4");
        assert_eq!(c.respell_root(NoteName::parse("Cb").unwrap()).to_string(), "B");
        assert_eq!(bb.spell_pc(6).to_string(), "Gb");
    }
}
