//! Scales and modes as spelled interval lists above a root, plus the
//! chord-scale choice the line generators use for passing tones.

use crate::chord::{Chord, Quality};
use crate::error::EngineError;
use crate::pitch::{Interval, NoteName, iv};

/// A scale or mode. Names are the API's (`lydian-dominant`, `bebop-dominant`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScaleKind {
    /// Ionian (major).
    Ionian,
    /// Dorian.
    Dorian,
    /// Phrygian.
    Phrygian,
    /// Lydian.
    Lydian,
    /// Mixolydian.
    Mixolydian,
    /// Aeolian (natural minor).
    Aeolian,
    /// Locrian.
    Locrian,
    /// Melodic minor (jazz minor, same up and down).
    MelodicMinor,
    /// Dorian ♭2, second mode of melodic minor.
    DorianFlat2,
    /// Lydian augmented, third mode.
    LydianAugmented,
    /// Lydian dominant, fourth mode.
    LydianDominant,
    /// Mixolydian ♭6, fifth mode.
    MixolydianFlat6,
    /// Locrian ♮2, sixth mode.
    LocrianNatural2,
    /// Altered (super-locrian), seventh mode.
    Altered,
    /// Harmonic minor.
    HarmonicMinor,
    /// Bebop dominant (mixolydian plus major seventh).
    BebopDominant,
    /// Bebop major (major plus ♯5/♭6).
    BebopMajor,
    /// Six-note blues scale.
    Blues,
    /// Major pentatonic.
    MajorPentatonic,
    /// Minor pentatonic.
    MinorPentatonic,
    /// Diminished half-whole (for 7♭9 chords).
    DiminishedHalfWhole,
    /// Diminished whole-half (for dim7 chords).
    DiminishedWholeHalf,
    /// Whole tone.
    WholeTone,
}

use ScaleKind::*;

impl ScaleKind {
    /// Every scale, in documentation order.
    pub const ALL: [ScaleKind; 23] = [
        Ionian,
        Dorian,
        Phrygian,
        Lydian,
        Mixolydian,
        Aeolian,
        Locrian,
        MelodicMinor,
        DorianFlat2,
        LydianAugmented,
        LydianDominant,
        MixolydianFlat6,
        LocrianNatural2,
        Altered,
        HarmonicMinor,
        BebopDominant,
        BebopMajor,
        Blues,
        MajorPentatonic,
        MinorPentatonic,
        DiminishedHalfWhole,
        DiminishedWholeHalf,
        WholeTone,
    ];

    /// The API name.
    pub fn name(self) -> &'static str {
        match self {
            Ionian => "ionian",
            Dorian => "dorian",
            Phrygian => "phrygian",
            Lydian => "lydian",
            Mixolydian => "mixolydian",
            Aeolian => "aeolian",
            Locrian => "locrian",
            MelodicMinor => "melodic-minor",
            DorianFlat2 => "dorian-b2",
            LydianAugmented => "lydian-augmented",
            LydianDominant => "lydian-dominant",
            MixolydianFlat6 => "mixolydian-b6",
            LocrianNatural2 => "locrian-natural-2",
            Altered => "altered",
            HarmonicMinor => "harmonic-minor",
            BebopDominant => "bebop-dominant",
            BebopMajor => "bebop-major",
            Blues => "blues",
            MajorPentatonic => "major-pentatonic",
            MinorPentatonic => "minor-pentatonic",
            DiminishedHalfWhole => "diminished-half-whole",
            DiminishedWholeHalf => "diminished-whole-half",
            WholeTone => "whole-tone",
        }
    }

    /// Human label, e.g. `lydian dominant`.
    pub fn label(self) -> String {
        self.name().replace('-', " ").replace(" b2", " ♭2").replace(" b6", " ♭6")
    }

    /// Parses an API name (case-insensitive; spaces, `_` and `-` alike;
    /// `major` and `natural-minor` accepted as aliases).
    pub fn parse(s: &str) -> Result<ScaleKind, EngineError> {
        let norm = crate::progression::normalize_name(s);
        let alias = match norm.as_str() {
            "major" => Some(Ionian),
            "natural-minor" | "minor" => Some(Aeolian),
            "super-locrian" => Some(Altered),
            _ => None,
        };
        alias
            .or_else(|| ScaleKind::ALL.into_iter().find(|k| k.name() == norm))
            .ok_or_else(|| EngineError::invalid("scale", format!("unknown scale {s:?}")))
    }

    /// Spelled intervals above the root, ascending within one octave.
    pub fn intervals(self) -> &'static [Interval] {
        use iv::*;
        match self {
            Ionian => &[P1, MA2, MA3, P4, P5, MA6, MA7],
            Dorian => &[P1, MA2, MI3, P4, P5, MA6, MI7],
            Phrygian => &[P1, MI2, MI3, P4, P5, MI6, MI7],
            Lydian => &[P1, MA2, MA3, A4, P5, MA6, MA7],
            Mixolydian => &[P1, MA2, MA3, P4, P5, MA6, MI7],
            Aeolian => &[P1, MA2, MI3, P4, P5, MI6, MI7],
            Locrian => &[P1, MI2, MI3, P4, D5, MI6, MI7],
            MelodicMinor => &[P1, MA2, MI3, P4, P5, MA6, MA7],
            DorianFlat2 => &[P1, MI2, MI3, P4, P5, MA6, MI7],
            LydianAugmented => &[P1, MA2, MA3, A4, A5, MA6, MA7],
            LydianDominant => &[P1, MA2, MA3, A4, P5, MA6, MI7],
            MixolydianFlat6 => &[P1, MA2, MA3, P4, P5, MI6, MI7],
            LocrianNatural2 => &[P1, MA2, MI3, P4, D5, MI6, MI7],
            Altered => &[P1, MI2, MI3, D4, D5, MI6, MI7],
            HarmonicMinor => &[P1, MA2, MI3, P4, P5, MI6, MA7],
            BebopDominant => &[P1, MA2, MA3, P4, P5, MA6, MI7, MA7],
            BebopMajor => &[P1, MA2, MA3, P4, P5, A5, MA6, MA7],
            Blues => &[P1, MI3, P4, A4, P5, MI7],
            MajorPentatonic => &[P1, MA2, MA3, P5, MA6],
            MinorPentatonic => &[P1, MI3, P4, P5, MI7],
            DiminishedHalfWhole => &[P1, MI2, A2, MA3, A4, P5, MA6, MI7],
            DiminishedWholeHalf => &[P1, MA2, MI3, P4, D5, MI6, MA6, MA7],
            WholeTone => &[P1, MA2, MA3, A4, A5, MI7],
        }
    }

    /// The chord this scale is usually played over, built on the same root.
    pub fn parent_chord(self) -> Quality {
        match self {
            Ionian | BebopMajor => Quality::Maj7,
            MajorPentatonic => Quality::Six,
            Lydian | LydianAugmented => Quality::Maj7,
            Dorian | Phrygian | Aeolian | MinorPentatonic | DorianFlat2 | Blues => Quality::Min7,
            Locrian | LocrianNatural2 => Quality::HalfDim,
            Mixolydian | BebopDominant | MixolydianFlat6 => Quality::Dom7,
            LydianDominant | WholeTone => Quality::Dom9,
            Altered => Quality::Alt,
            MelodicMinor | HarmonicMinor => Quality::MinMaj7,
            DiminishedHalfWhole => Quality::Dom7Flat9,
            DiminishedWholeHalf => Quality::Dim7,
        }
    }

    /// The spelled notes on `root`.
    pub fn notes(self, root: NoteName) -> Vec<NoteName> {
        self.intervals().iter().map(|i| root.up(*i)).collect()
    }
}

/// The scale a soloist thinks of over `chord`. With `diatonic_only` (beginner
/// material) the plain church-mode choice is made; otherwise bebop and
/// melodic-minor colours are used where they fit.
pub fn chord_scale(chord: &Chord, diatonic_only: bool, bebop: bool) -> ScaleKind {
    use Quality::*;
    match chord.quality {
        Maj7 | Six | SixNine if bebop && !diatonic_only => BebopMajor,
        Maj7 | Six | SixNine => Ionian,
        Min7 => Dorian,
        Min6 if diatonic_only => Dorian,
        MinMaj7 if diatonic_only => HarmonicMinor,
        Min6 | MinMaj7 => MelodicMinor,
        Dom7 | Dom9 | Dom13 if bebop && !diatonic_only => BebopDominant,
        Dom7 | Dom9 | Dom13 | Sus4 => Mixolydian,
        HalfDim if diatonic_only => Locrian,
        HalfDim => LocrianNatural2,
        Dim7 => DiminishedWholeHalf,
        Dom7Flat9 | Dom7Sharp9 => DiminishedHalfWhole,
        Alt => Altered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spelled(kind: ScaleKind, root: &str) -> Vec<String> {
        kind.notes(NoteName::parse(root).unwrap()).iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn modes_are_spelled_one_letter_each() {
        assert_eq!(spelled(Altered, "G"), ["G", "Ab", "Bb", "Cb", "Db", "Eb", "F"]);
        assert_eq!(spelled(LydianDominant, "Bb"), ["Bb", "C", "D", "E", "F", "G", "Ab"]);
        assert_eq!(spelled(Blues, "F"), ["F", "Ab", "Bb", "B", "C", "Eb"]);
        assert_eq!(spelled(HarmonicMinor, "G#"), ["G#", "A#", "B", "C#", "D#", "E", "Fx"]);
    }

    #[test]
    fn every_scale_has_its_parent_chords_tones_or_guide_tones() {
        for kind in ScaleKind::ALL {
            let root = NoteName::parse("D").unwrap();
            let pcs: Vec<i32> = kind.notes(root).iter().map(|n| n.pc()).collect();
            let chord = Chord::new(root, kind.parent_chord());
            for g in chord.guide_tones() {
                assert!(pcs.contains(&g.pc()), "{} lacks {}", kind.name(), g);
            }
            assert_eq!(ScaleKind::parse(kind.name()).unwrap(), kind);
        }
        assert!(ScaleKind::parse("hungarian").is_err());
    }

    #[test]
    fn chord_scales_contain_the_chord() {
        for q in Quality::ALL {
            let chord = Chord::new(NoteName::parse("Eb").unwrap(), q);
            for (d, b) in [(true, false), (false, false), (false, true)] {
                let pcs: Vec<i32> = chord_scale(&chord, d, b).notes(chord.root).iter().map(|n| n.pc()).collect();
                for t in chord.tone_pcs() {
                    assert!(pcs.contains(&t), "{} over {}", chord_scale(&chord, d, b).name(), chord);
                }
            }
        }
    }
}
