//! Chord symbols: parse, print, chord tones, guide tones and tensions.
//!
//! Everything is stored as spelled intervals above the root, so D♭7 is spelled
//! D♭–F–A♭–C♭ here; the key's spelling rule (see `key`) decides later how a
//! note is written in a given key.

use crate::error::EngineError;
use crate::pitch::{Interval, NoteName, iv};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The chord qualities the engine knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Quality {
    /// Major seventh, `maj7`.
    #[serde(rename = "maj7")]
    Maj7,
    /// Major sixth, `6`.
    #[serde(rename = "6")]
    Six,
    /// Minor seventh, `m7`.
    #[serde(rename = "m7")]
    Min7,
    /// Minor sixth, `m6`.
    #[serde(rename = "m6")]
    Min6,
    /// Dominant seventh, `7`.
    #[serde(rename = "7")]
    Dom7,
    /// Half-diminished, `m7♭5`.
    #[serde(rename = "m7b5")]
    HalfDim,
    /// Diminished seventh, `dim7`.
    #[serde(rename = "dim7")]
    Dim7,
    /// Dominant with flat nine, `7♭9`.
    #[serde(rename = "7b9")]
    Dom7Flat9,
    /// Dominant with sharp nine, `7♯9`.
    #[serde(rename = "7#9")]
    Dom7Sharp9,
    /// Altered dominant, `7alt` (♭9 ♯9 ♯11 ♭13).
    #[serde(rename = "7alt")]
    Alt,
    /// Dominant ninth, `9`.
    #[serde(rename = "9")]
    Dom9,
    /// Dominant thirteenth, `13`.
    #[serde(rename = "13")]
    Dom13,
    /// Suspended dominant, `7sus4`.
    #[serde(rename = "7sus4")]
    Sus4,
    /// Minor-major seventh, `m(maj7)`.
    #[serde(rename = "m(maj7)")]
    MinMaj7,
    /// Six-nine, `6/9`.
    #[serde(rename = "6/9")]
    SixNine,
}

use Quality::*;

impl Quality {
    /// Every quality, in the order of the spec.
    pub const ALL: [Quality; 15] =
        [Maj7, Six, Min7, Min6, Dom7, HalfDim, Dim7, Dom7Flat9, Dom7Sharp9, Alt, Dom9, Dom13, Sus4, MinMaj7, SixNine];

    /// The symbol suffix with ♭/♯ signs, e.g. `m7♭5`.
    pub fn suffix(self) -> &'static str {
        match self {
            Maj7 => "maj7",
            Six => "6",
            Min7 => "m7",
            Min6 => "m6",
            Dom7 => "7",
            HalfDim => "m7♭5",
            Dim7 => "dim7",
            Dom7Flat9 => "7♭9",
            Dom7Sharp9 => "7♯9",
            Alt => "7alt",
            Dom9 => "9",
            Dom13 => "13",
            Sus4 => "7sus4",
            MinMaj7 => "m(maj7)",
            SixNine => "6/9",
        }
    }

    /// The suffix in ASCII, as serialized: `m7b5`, `7#9`.
    pub fn ascii(self) -> &'static str {
        match self {
            HalfDim => "m7b5",
            Dom7Flat9 => "7b9",
            Dom7Sharp9 => "7#9",
            other => other.suffix(),
        }
    }

    /// Chord tones above the root, bottom up. Altered dominants list the
    /// ♯5 (♭13) as their fifth; 9ths and 13ths count as chord tones of
    /// 9 and 13 chords.
    pub fn tones(self) -> &'static [Interval] {
        match self {
            Maj7 => &[iv::P1, iv::MA3, iv::P5, iv::MA7],
            Six => &[iv::P1, iv::MA3, iv::P5, iv::MA6],
            Min7 => &[iv::P1, iv::MI3, iv::P5, iv::MI7],
            Min6 => &[iv::P1, iv::MI3, iv::P5, iv::MA6],
            Dom7 => &[iv::P1, iv::MA3, iv::P5, iv::MI7],
            HalfDim => &[iv::P1, iv::MI3, iv::D5, iv::MI7],
            Dim7 => &[iv::P1, iv::MI3, iv::D5, iv::D7],
            Dom7Flat9 => &[iv::P1, iv::MA3, iv::P5, iv::MI7, iv::MI9],
            Dom7Sharp9 => &[iv::P1, iv::MA3, iv::P5, iv::MI7, iv::A9],
            Alt => &[iv::P1, iv::MA3, iv::A5, iv::MI7],
            Dom9 => &[iv::P1, iv::MA3, iv::P5, iv::MI7, iv::MA9],
            Dom13 => &[iv::P1, iv::MA3, iv::P5, iv::MI7, iv::MA9, iv::MA13],
            Sus4 => &[iv::P1, iv::P4, iv::P5, iv::MI7],
            MinMaj7 => &[iv::P1, iv::MI3, iv::P5, iv::MA7],
            SixNine => &[iv::P1, iv::MA3, iv::P5, iv::MA6, iv::MA9],
        }
    }

    /// The two guide tones: third and seventh (sixth for 6 chords, fourth
    /// for sus chords), lower one first.
    pub fn guide_tones(self) -> [Interval; 2] {
        match self {
            Maj7 => [iv::MA3, iv::MA7],
            Six | SixNine => [iv::MA3, iv::MA6],
            Min7 => [iv::MI3, iv::MI7],
            Min6 => [iv::MI3, iv::MA6],
            Dom7 | Dom7Flat9 | Dom7Sharp9 | Alt | Dom9 | Dom13 => [iv::MA3, iv::MI7],
            HalfDim => [iv::MI3, iv::MI7],
            Dim7 => [iv::MI3, iv::D7],
            Sus4 => [iv::P4, iv::MI7],
            MinMaj7 => [iv::MI3, iv::MA7],
        }
    }

    /// Available tensions (upper extensions that are not already chord tones).
    pub fn tensions(self) -> &'static [Interval] {
        match self {
            Maj7 => &[iv::MA9, iv::A11, iv::MA13],
            Six => &[iv::MA9],
            Min7 | Min6 | MinMaj7 => &[iv::MA9, iv::P11],
            Dom7 => &[iv::MA9, iv::MA13],
            HalfDim => &[iv::P11, iv::MI13],
            Dim7 => &[iv::MA9, iv::P11],
            Dom7Flat9 => &[iv::A11, iv::MA13],
            Dom7Sharp9 => &[iv::MI13],
            Alt => &[iv::MI9, iv::A9, iv::A11],
            Dom9 => &[iv::MA13],
            Dom13 => &[iv::A11],
            Sus4 => &[iv::MA9, iv::MA13],
            SixNine => &[iv::A11],
        }
    }

    /// True for every kind of dominant seventh (not sus).
    pub fn is_dominant(self) -> bool {
        matches!(self, Dom7 | Dom7Flat9 | Dom7Sharp9 | Alt | Dom9 | Dom13)
    }

    /// True for minor-third qualities other than diminished ones.
    pub fn is_minor(self) -> bool {
        matches!(self, Min7 | Min6 | MinMaj7)
    }

    fn parse_suffix(s: &str) -> Option<Quality> {
        let norm: String = s
            .chars()
            .map(|c| match c {
                '♭' => 'b',
                '♯' => '#',
                'Δ' => '^',
                c => c,
            })
            .filter(|c| !c.is_whitespace())
            .collect();
        Some(match norm.as_str() {
            "maj7" | "M7" | "^7" | "^" | "ma7" => Maj7,
            "6" | "maj6" => Six,
            "m7" | "-7" | "min7" | "mi7" => Min7,
            "m6" | "-6" | "min6" => Min6,
            "7" | "dom7" => Dom7,
            "m7b5" | "-7b5" | "ø" | "ø7" | "min7b5" => HalfDim,
            "dim7" | "o7" | "°7" | "dim" | "°" => Dim7,
            "7b9" => Dom7Flat9,
            "7#9" => Dom7Sharp9,
            "7alt" | "alt" => Alt,
            "9" => Dom9,
            "13" => Dom13,
            "7sus4" | "7sus" | "sus4" | "sus" => Sus4,
            "m(maj7)" | "mMaj7" | "mmaj7" | "m^7" | "-^7" | "-(maj7)" => MinMaj7,
            "6/9" | "69" => SixNine,
            _ => return None,
        })
    }
}

impl fmt::Display for Quality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.suffix())
    }
}

/// A chord symbol: spelled root and quality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Chord {
    /// The root's spelling.
    pub root: NoteName,
    /// The quality.
    pub quality: Quality,
}

impl Chord {
    /// A chord from root and quality.
    pub const fn new(root: NoteName, quality: Quality) -> Self {
        Self { root, quality }
    }

    /// Spelled chord tones, root first.
    pub fn tones(&self) -> Vec<NoteName> {
        self.quality.tones().iter().map(|i| self.root.up(*i)).collect()
    }

    /// Spelled guide tones (third and seventh, or their stand-ins).
    pub fn guide_tones(&self) -> [NoteName; 2] {
        self.quality.guide_tones().map(|i| self.root.up(i))
    }

    /// Spelled tensions.
    pub fn tensions(&self) -> Vec<NoteName> {
        self.quality.tensions().iter().map(|i| self.root.up(*i)).collect()
    }

    /// Pitch classes of the chord tones.
    pub fn tone_pcs(&self) -> Vec<i32> {
        self.tones().iter().map(|n| n.pc()).collect()
    }

    /// The symbol with ♭/♯, e.g. `B♭m7`, `F♯7♯9`.
    pub fn symbol(&self) -> String {
        format!("{}{}", self.root.pretty(), self.quality.suffix())
    }
}

impl fmt::Display for Chord {
    /// ASCII form, e.g. `Bbm7`, `F#7#9`, round-trips through `FromStr`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.root, self.quality.ascii())
    }
}

impl FromStr for Chord {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || EngineError::invalid("progression", format!("unknown chord symbol {s:?}"));
        let (root, rest) = NoteName::parse_prefix(s.trim()).ok_or_else(bad)?;
        // "Bb" parsed greedily could eat the "b" of "b9"-less symbols only
        // after a root letter, which is what we want: "Bb7" = B♭ + "7".
        let quality = Quality::parse_suffix(rest).ok_or_else(bad)?;
        Ok(Chord { root, quality })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_quality_prints_and_parses_back() {
        for q in Quality::ALL {
            for root in ["C", "Bb", "F#", "Db"] {
                let chord = Chord::new(NoteName::parse(root).unwrap(), q);
                assert_eq!(chord.to_string().parse::<Chord>().unwrap(), chord);
                assert_eq!(chord.symbol().parse::<Chord>().unwrap(), chord);
            }
        }
    }

    #[test]
    fn tones_are_spelled_from_the_root() {
        let c: Chord = "Bbm7b5".parse().unwrap();
        let t: Vec<String> = c.tones().iter().map(|n| n.to_string()).collect();
        assert_eq!(t, ["Bb", "Db", "Fb", "Ab"]);
        let g: Chord = "G7alt".parse().unwrap();
        assert_eq!(g.guide_tones().map(|n| n.to_string()), ["B", "F"]);
        let c6: Chord = "C6/9".parse().unwrap();
        assert_eq!(c6.guide_tones().map(|n| n.to_string()), ["E", "A"]);
        let d: Chord = "Ddim7".parse().unwrap();
        assert_eq!(d.tones().iter().map(|n| n.to_string()).collect::<Vec<_>>(), ["D", "F", "Ab", "Cb"]);
        assert!(c.quality.tensions().iter().all(|i| !c.quality.tones().contains(i)));
    }

    #[test]
    fn unknown_symbols_are_errors() {
        for s in ["", "H7", "Cmaj8", "C7b", "Xm7"] {
            assert!(s.parse::<Chord>().is_err(), "{s}");
        }
    }
}
