//! Spelled pitches and intervals.
//!
//! A pitch is a letter (`Step`), an alteration and an octave, never just a
//! MIDI number: B♭ and A♯ sound alike but are different notes on the page.
//! Arithmetic goes through [`Interval`], which carries both the letter
//! distance and the semitone distance so spelling survives transposition.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A note letter, C through B.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Step {
    /// C
    C,
    /// D
    D,
    /// E
    E,
    /// F
    F,
    /// G
    G,
    /// A
    A,
    /// B
    B,
}

impl Step {
    /// All letters in ascending order from C.
    pub const ALL: [Step; 7] = [Step::C, Step::D, Step::E, Step::F, Step::G, Step::A, Step::B];

    /// Position 0..7 counted from C.
    pub fn index(self) -> i32 {
        self as i32
    }

    /// The letter `index` steps above C, wrapping every seven.
    pub fn from_index(index: i32) -> Step {
        Step::ALL[index.rem_euclid(7) as usize]
    }

    /// Semitones above C of the natural (unaltered) letter.
    pub fn natural_semitones(self) -> i32 {
        [0, 2, 4, 5, 7, 9, 11][self as usize]
    }

    /// The letter as an upper-case character.
    pub fn letter(self) -> char {
        ['C', 'D', 'E', 'F', 'G', 'A', 'B'][self as usize]
    }

    /// Parses an upper- or lower-case letter.
    pub fn from_letter(c: char) -> Option<Step> {
        let i = "CDEFGAB".find(c.to_ascii_uppercase())?;
        Some(Step::from_index(i as i32))
    }
}

/// A spelled pitch class: letter plus alteration (−2 = 𝄫 … +2 = 𝄪).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NoteName {
    /// The letter.
    pub step: Step,
    /// Semitones of alteration: −1 flat, 0 natural, +1 sharp.
    pub alter: i8,
}

impl NoteName {
    /// A name from letter and alteration.
    pub const fn new(step: Step, alter: i8) -> Self {
        Self { step, alter }
    }

    /// Pitch class 0..12 (C = 0).
    pub fn pc(self) -> i32 {
        (self.step.natural_semitones() + i32::from(self.alter)).rem_euclid(12)
    }

    /// The name `interval` above this one, spelled by letter distance.
    pub fn up(self, interval: Interval) -> NoteName {
        let step = Step::from_index(self.step.index() + i32::from(interval.steps));
        let target = self.pc() + i32::from(interval.semitones);
        let alter = wrap_alter(target - step.natural_semitones());
        NoteName { step, alter }
    }

    /// Parses `C`, `Bb`, `B♭`, `F#`, `F♯`, `Ebb`, `Cx` (and lower case).
    /// Returns the name and the unparsed remainder.
    pub fn parse_prefix(s: &str) -> Option<(NoteName, &str)> {
        let mut chars = s.char_indices();
        let (_, first) = chars.next()?;
        let step = Step::from_letter(first)?;
        let mut alter: i8 = 0;
        let mut rest = &s[first.len_utf8()..];
        loop {
            let mut it = rest.chars();
            let delta: i8 = match it.next() {
                Some('b' | '♭') => -1,
                Some('#' | '♯') => 1,
                Some('x' | '𝄪') => 2,
                Some('𝄫') => -2,
                _ => break,
            };
            if alter != 0 && alter.signum() != delta.signum() {
                return None; // mixed flats and sharps ("Fb#")
            }
            alter = alter.saturating_add(delta);
            rest = it.as_str();
            if alter.abs() > 2 {
                return None;
            }
        }
        Some((NoteName { step, alter }, rest))
    }

    /// Parses a complete note name (no octave).
    pub fn parse(s: &str) -> Option<NoteName> {
        match NoteName::parse_prefix(s.trim()) {
            Some((n, "")) => Some(n),
            _ => None,
        }
    }

    /// Display with ♭/♯ signs, e.g. `B♭`.
    pub fn pretty(self) -> String {
        let acc = match self.alter {
            -2 => "𝄫",
            -1 => "♭",
            1 => "♯",
            2 => "𝄪",
            _ => "",
        };
        format!("{}{}", self.step.letter(), acc)
    }

    /// Lower-case words for tags, e.g. `b-flat`, `f-sharp`, `c`.
    pub fn slug(self) -> String {
        let letter = self.step.letter().to_ascii_lowercase();
        match self.alter {
            -2 => format!("{letter}-double-flat"),
            -1 => format!("{letter}-flat"),
            1 => format!("{letter}-sharp"),
            2 => format!("{letter}-double-sharp"),
            _ => letter.to_string(),
        }
    }
}

impl fmt::Display for NoteName {
    /// ASCII spelling: `Bb`, `F#`, `Ebb`, `Fx`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let acc = match self.alter {
            -2 => "bb",
            -1 => "b",
            1 => "#",
            2 => "x",
            _ => "",
        };
        write!(f, "{}{}", self.step.letter(), acc)
    }
}

/// Brings a semitone difference into −6..=5 so the nearest alteration wins.
fn wrap_alter(diff: i32) -> i8 {
    let d = (diff + 6).rem_euclid(12) - 6;
    d as i8
}

/// A spelled pitch: letter, alteration and octave (scientific: C4 = middle C).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Pitch {
    /// The letter.
    pub step: Step,
    /// Semitones of alteration: −1 flat, 0 natural, +1 sharp.
    pub alter: i8,
    /// Octave number; C4 is middle C.
    pub octave: i8,
}

impl Pitch {
    /// The pitch named `name` in `octave`.
    pub fn new(name: NoteName, octave: i8) -> Self {
        Self { step: name.step, alter: name.alter, octave }
    }

    /// The name without octave.
    pub fn name(self) -> NoteName {
        NoteName::new(self.step, self.alter)
    }

    /// MIDI key number (C4 = 60). May fall outside 0..=127 for odd input.
    pub fn midi(self) -> i32 {
        (i32::from(self.octave) + 1) * 12 + self.step.natural_semitones() + i32::from(self.alter)
    }

    /// The pitch sounding at `midi`, spelled as `name` (whose pitch class must
    /// match; if it does not, the nearest pitch with that name is returned).
    pub fn from_midi_named(midi: i32, name: NoteName) -> Pitch {
        let base = name.step.natural_semitones() + i32::from(name.alter);
        let octave = ((midi - base) as f64 / 12.0).round() as i32 - 1;
        Pitch::new(name, octave.clamp(-1, 9) as i8)
    }

    /// This pitch moved by `interval` (up for positive, down for negative).
    pub fn transpose(self, interval: Interval) -> Pitch {
        let abs_step = i32::from(self.octave) * 7 + self.step.index() + i32::from(interval.steps);
        let step = Step::from_index(abs_step);
        let octave = abs_step.div_euclid(7);
        let target = self.midi() + i32::from(interval.semitones);
        let natural = (octave + 1) * 12 + step.natural_semitones();
        let alter = (target - natural).clamp(-2, 2) as i8;
        Pitch { step, alter, octave: octave.clamp(-1, 9) as i8 }
    }

    /// Parses `C4`, `Bb3`, `F#5`, `B♭2`.
    pub fn parse(s: &str) -> Option<Pitch> {
        let (name, rest) = NoteName::parse_prefix(s.trim())?;
        let octave: i8 = rest.parse().ok()?;
        if !(-1..=9).contains(&octave) {
            return None;
        }
        Some(Pitch::new(name, octave))
    }
}

impl fmt::Display for Pitch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.name(), self.octave)
    }
}

/// A spelled interval: letter steps (0 = unison, 2 = third …) and semitones.
/// Negative values go down. Compound intervals (9ths, 13ths) are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interval {
    /// Letter distance.
    pub steps: i8,
    /// Semitone distance.
    pub semitones: i8,
}

impl Interval {
    /// An interval from letter and semitone distance.
    pub const fn new(steps: i8, semitones: i8) -> Self {
        Self { steps, semitones }
    }

    /// The same interval downward.
    pub const fn neg(self) -> Self {
        Self { steps: -self.steps, semitones: -self.semitones }
    }

    /// Reduces a compound interval into the octave (9th → 2nd, 13th → 6th).
    pub const fn simple(self) -> Self {
        Self { steps: self.steps.rem_euclid(7), semitones: self.semitones.rem_euclid(12) }
    }

    /// The interval from `a` to `b` whose letter distance is 0..7 upward
    /// and whose semitones agree with it (D to D♭ is a diminished unison,
    /// −1; C to B♯ an augmented seventh, +12).
    pub fn between(a: NoteName, b: NoteName) -> Interval {
        let steps = (b.step.index() - a.step.index()).rem_euclid(7);
        let expected = [0, 2, 4, 5, 7, 9, 11][steps as usize];
        let semis = (b.pc() - a.pc()).rem_euclid(12);
        let semis = [semis - 12, semis, semis + 12].into_iter().min_by_key(|s| (s - expected).abs()).unwrap_or(semis);
        Interval::new(steps as i8, semis as i8)
    }
}

/// Named intervals used by chords and scales.
pub mod iv {
    use super::Interval;
    /// The perfect unison.
    pub const P1: Interval = Interval::new(0, 0);
    /// The minor second.
    pub const MI2: Interval = Interval::new(1, 1);
    /// The major second.
    pub const MA2: Interval = Interval::new(1, 2);
    /// The augmented second.
    pub const A2: Interval = Interval::new(1, 3);
    /// The minor third.
    pub const MI3: Interval = Interval::new(2, 3);
    /// The major third.
    pub const MA3: Interval = Interval::new(2, 4);
    /// The diminished fourth.
    pub const D4: Interval = Interval::new(3, 4);
    /// The perfect fourth.
    pub const P4: Interval = Interval::new(3, 5);
    /// The augmented fourth.
    pub const A4: Interval = Interval::new(3, 6);
    /// The diminished fifth.
    pub const D5: Interval = Interval::new(4, 6);
    /// The perfect fifth.
    pub const P5: Interval = Interval::new(4, 7);
    /// The augmented fifth.
    pub const A5: Interval = Interval::new(4, 8);
    /// The minor sixth.
    pub const MI6: Interval = Interval::new(5, 8);
    /// The major sixth.
    pub const MA6: Interval = Interval::new(5, 9);
    /// The diminished seventh.
    pub const D7: Interval = Interval::new(6, 9);
    /// The minor seventh.
    pub const MI7: Interval = Interval::new(6, 10);
    /// The major seventh.
    pub const MA7: Interval = Interval::new(6, 11);
    /// The octave.
    pub const P8: Interval = Interval::new(7, 12);
    /// The minor ninth.
    pub const MI9: Interval = Interval::new(8, 13);
    /// The major ninth.
    pub const MA9: Interval = Interval::new(8, 14);
    /// The augmented ninth.
    pub const A9: Interval = Interval::new(8, 15);
    /// The perfect eleventh.
    pub const P11: Interval = Interval::new(10, 17);
    /// The augmented eleventh.
    pub const A11: Interval = Interval::new(10, 18);
    /// The minor thirteenth.
    pub const MI13: Interval = Interval::new(12, 20);
    /// The major thirteenth.
    pub const MA13: Interval = Interval::new(12, 21);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spelled_arithmetic_keeps_letters() {
        let bb = NoteName::parse("Bb").unwrap();
        assert_eq!(bb.up(iv::P4).to_string(), "Eb");
        assert_eq!(bb.up(iv::MA3).to_string(), "D");
        let fs = NoteName::new(Step::F, 1);
        assert_eq!(fs.up(iv::MA7).to_string(), "E#");
        let db = NoteName::new(Step::D, -1);
        assert_eq!(db.up(iv::MI7).to_string(), "Cb");
    }

    #[test]
    fn pitches_parse_and_transpose() {
        let p = Pitch::parse("Bb3").unwrap();
        assert_eq!(p.midi(), 58);
        assert_eq!(p.transpose(iv::MA3).to_string(), "D4");
        assert_eq!(p.transpose(iv::MA3.neg()).to_string(), "Gb3");
        assert_eq!(Pitch::parse("C-1").map(Pitch::midi), Some(0));
        assert!(Pitch::parse("H4").is_none());
        assert!(Pitch::parse("C#").is_none());
        let b = Pitch::from_midi_named(71, NoteName::new(Step::C, -1));
        assert_eq!((b.to_string(), b.midi()), ("Cb5".to_string(), 71));
    }

    #[test]
    fn serde_shape_matches_the_docs() {
        let p = Pitch::new(NoteName::new(Step::B, -1), 4);
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, r#"{"step":"B","alter":-1,"octave":4}"#);
    }
}
