//! Time: divisions, time signatures, strong beats, note values, and the
//! splitting of long or bar-crossing durations into notatable pieces.

use crate::error::EngineError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Divisions per quarter note in every score: 12 holds eighths (6),
/// sixteenths (3), eighth triplets (4) and quarter triplets (8) exactly.
pub const DIVISIONS: u32 = 12;
/// One quarter note in divisions.
pub const QUARTER: u32 = DIVISIONS;
/// One eighth note in divisions.
pub const EIGHTH: u32 = DIVISIONS / 2;
/// One eighth-note triplet in divisions.
pub const TRIPLET: u32 = DIVISIONS / 3;

/// A time signature with a quarter-note beat (2/4 to 7/4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TimeSignature {
    /// Beats per bar (the upper number).
    pub beats: u8,
    /// The beat's note value (the lower number); always 4 here.
    pub beat_type: u8,
}

impl TimeSignature {
    /// Common time.
    pub const FOUR_FOUR: TimeSignature = TimeSignature { beats: 4, beat_type: 4 };

    /// Parses `4/4`, `3/4`, `C` (…2/4 to 7/4).
    pub fn parse(s: &str) -> Result<TimeSignature, EngineError> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("c") {
            return Ok(Self::FOUR_FOUR);
        }
        let bad = |why: &str| EngineError::invalid("time_signature", format!("{s:?}: {why}"));
        let (a, b) = t.split_once('/').ok_or_else(|| bad("expected beats/beat-type such as 4/4"))?;
        let beats: u8 = a.trim().parse().map_err(|_| bad("beats must be a number"))?;
        let beat_type: u8 = b.trim().parse().map_err(|_| bad("beat type must be a number"))?;
        if beat_type != 4 {
            return Err(bad("only quarter-note beats (x/4) are supported"));
        }
        if !(2..=7).contains(&beats) {
            return Err(bad("beats must be between 2 and 7"));
        }
        Ok(TimeSignature { beats, beat_type })
    }

    /// Length of one bar in divisions.
    pub fn measure_len(&self) -> u32 {
        u32::from(self.beats) * DIVISIONS * 4 / u32::from(self.beat_type.max(1))
    }

    /// Whether harmony may change at mid-bar (even beat counts only).
    pub fn has_half_bar(&self) -> bool {
        self.beats.is_multiple_of(2)
    }

    /// Strong beats: the downbeat, and the middle of the bar in even meters
    /// (beats 1 and 3 of 4/4). Chord changes only ever fall on these.
    pub fn is_strong(&self, onset_in_measure: u32) -> bool {
        let half = self.measure_len() / 2;
        onset_in_measure == 0 || (self.has_half_bar() && onset_in_measure == half)
    }
}

impl fmt::Display for TimeSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.beats, self.beat_type)
    }
}

/// How a duration is written: MusicXML note type, dots, and whether it is a
/// triplet (3 in the time of 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoteValue {
    /// MusicXML `<type>`: `whole`, `half`, `quarter`, `eighth`, `16th`.
    pub type_name: &'static str,
    /// Number of augmentation dots.
    pub dots: u8,
    /// Eighth- or quarter-note triplet.
    pub triplet: bool,
}

/// The written value of a duration in divisions, if it is a single note.
pub fn note_value(duration: u32) -> Option<NoteValue> {
    let (type_name, dots, triplet) = match duration {
        48 => ("whole", 0, false),
        36 => ("half", 1, false),
        24 => ("half", 0, false),
        18 => ("quarter", 1, false),
        12 => ("quarter", 0, false),
        9 => ("eighth", 1, false),
        6 => ("eighth", 0, false),
        3 => ("16th", 0, false),
        8 => ("quarter", 0, true),
        4 => ("eighth", 0, true),
        _ => return None,
    };
    Some(NoteValue { type_name, dots, triplet })
}

/// Where a value may start, in divisions within the bar: quarters and longer
/// on a beat (whole notes on the downbeat), dotted quarters on an eighth.
fn aligned(pos: u32, d: u32) -> bool {
    match d {
        48 => pos == 0,
        36 | 24 => pos.is_multiple_of(QUARTER),
        18 | 12 => pos.is_multiple_of(EIGHTH),
        9 | 6 | 3 => pos.is_multiple_of(3),
        8 | 4 => pos.is_multiple_of(4),
        _ => false,
    }
}

/// Splits `len` divisions starting `pos` divisions into a bar into written
/// values (to be tied for notes): the value itself if it is one, otherwise
/// greedily the longest aligned value. Remainders that no value fits
/// (impossible for engine output) are emitted raw rather than dropped.
pub fn split_duration(pos: u32, len: u32) -> Vec<u32> {
    if note_value(len).is_some() && aligned(pos, len) {
        return vec![len];
    }
    let mut out = Vec::new();
    let (mut p, mut left) = (pos, len);
    while left > 0 {
        let d = [48, 36, 24, 18, 12, 9, 6, 3, 8, 4].into_iter().find(|&d| d <= left && aligned(p, d)).unwrap_or(left);
        out.push(d);
        p += d;
        left -= d;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_time_signatures() {
        assert_eq!(TimeSignature::parse("3/4").unwrap().measure_len(), 36);
        assert_eq!(TimeSignature::parse("C").unwrap(), TimeSignature::FOUR_FOUR);
        for bad in ["4/0", "4", "x/4", "9/4", "6/8", "", "4/4/4", "-1/4"] {
            assert_eq!(TimeSignature::parse(bad).unwrap_err().field(), "time_signature", "{bad}");
        }
    }

    #[test]
    fn strong_beats() {
        let ts = TimeSignature::FOUR_FOUR;
        assert!(ts.is_strong(0) && ts.is_strong(24) && !ts.is_strong(12));
        let waltz = TimeSignature::parse("3/4").unwrap();
        assert!(waltz.is_strong(0) && !waltz.is_strong(18) && !waltz.is_strong(24));
    }

    #[test]
    fn splits_into_written_values() {
        assert_eq!(split_duration(0, 48), [48]);
        assert_eq!(split_duration(6, 42), [18, 24]);
        assert_eq!(split_duration(0, 30), [24, 6]);
        assert_eq!(split_duration(0, 60), [48, 12]);
        assert_eq!(split_duration(4, 8), [8]);
        for pos in (0..48).step_by(3) {
            for len in (3..=48 - pos).step_by(3) {
                let parts = split_duration(pos, len);
                assert_eq!(parts.iter().sum::<u32>(), len);
                assert!(parts.iter().all(|d| note_value(*d).is_some()), "{pos} {len} {parts:?}");
            }
        }
    }
}
