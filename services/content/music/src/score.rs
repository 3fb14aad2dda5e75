//! The `music_data` model (schema version 1): what the content service
//! stores as jsonb and later turns into MusicXML, MIDI or another key.
//!
//! Times are integers in divisions of a quarter note (`divisions`, always 12
//! in version 1) so every value is exact. Each measure lists its events per
//! staff in onset order; staff 1 (treble) is voice 1, staff 2 (bass) is
//! voice 2, and each voice's durations fill the measure exactly, rests
//! included. See `docs/music.md` for the field-by-field description.

use crate::chord::{Chord, Quality};
use crate::error::EngineError;
use crate::key::{Key, Mode};
use crate::pitch::{NoteName, Pitch};
use crate::rhythm::TimeSignature;
use serde::{Deserialize, Serialize};

/// The current `schema_version`.
pub const SCHEMA_VERSION: u32 = 1;

/// A generated piece of music: the `music_data` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// Format version; 1 for this layout.
    pub schema_version: u32,
    /// Title shown on the sheet.
    pub title: String,
    /// Key signature and mode.
    pub key: KeySignature,
    /// Meter.
    pub time_signature: TimeSignature,
    /// Quarter notes per minute.
    pub tempo: u32,
    /// Whether eighths are played long-short (written straight).
    pub swing: bool,
    /// Divisions per quarter note in which `onset` and `duration` count.
    pub divisions: u32,
    /// The bars, in order.
    pub measures: Vec<Measure>,
}

/// A key signature as stored: tonic spelling, mode, and sharps/flats count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySignature {
    /// The tonic, e.g. `{"step":"B","alter":-1}`.
    pub tonic: NoteName,
    /// `major` or `minor`.
    pub mode: Mode,
    /// Sharps (positive) or flats (negative) in the signature.
    pub fifths: i8,
}

impl KeySignature {
    /// The stored signature of `key`.
    pub fn of(key: Key) -> Self {
        Self { tonic: key.tonic, mode: key.mode, fifths: key.fifths() as i8 }
    }

    /// Back to a [`Key`]; fails only for a hand-edited document.
    pub fn key(&self) -> Result<Key, EngineError> {
        Key::new(self.tonic, self.mode)
    }
}

/// One bar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measure {
    /// Bar number, from 1.
    pub number: u32,
    /// Chord symbols starting in this bar, by onset. A chord sounds until the
    /// next symbol, across bar lines.
    pub chords: Vec<ChordSymbol>,
    /// Notes, chords and rests: staff 1's events by onset, then staff 2's.
    pub events: Vec<Event>,
}

/// A chord symbol above the treble staff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChordSymbol {
    /// Start within the bar, in divisions.
    pub onset: u32,
    /// Root spelling.
    pub root: NoteName,
    /// Quality in ASCII form: `maj7`, `m7b5`, `7#9`, `7alt`, `6/9` …
    pub quality: Quality,
    /// The symbol as printed, e.g. `B♭m7`.
    pub text: String,
}

impl ChordSymbol {
    /// The symbol for `chord` at `onset`.
    pub fn new(onset: u32, chord: Chord) -> Self {
        Self { onset, root: chord.root, quality: chord.quality, text: chord.symbol() }
    }

    /// The chord it names.
    pub fn chord(&self) -> Chord {
        Chord::new(self.root, self.quality)
    }
}

/// A note, a chord (several pitches) or a rest (no pitches) in one voice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Start within the bar, in divisions.
    pub onset: u32,
    /// Length in divisions; always a single written value (tied pieces are
    /// separate events).
    pub duration: u32,
    /// Spelled pitches, lowest first; empty for a rest.
    pub pitches: Vec<Pitch>,
    /// Voice number: 1 in the treble staff, 2 in the bass staff.
    pub voice: u8,
    /// Staff: 1 treble (right hand), 2 bass (left hand).
    pub staff: u8,
    /// These pitches are tied into the next event of the voice.
    #[serde(default, skip_serializing_if = "is_false")]
    pub tie_start: bool,
    /// These pitches continue a tie from the previous event (not re-struck).
    #[serde(default, skip_serializing_if = "is_false")]
    pub tie_stop: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Event {
    /// True for a rest.
    pub fn is_rest(&self) -> bool {
        self.pitches.is_empty()
    }
}

impl Score {
    /// Length of one bar in this score's divisions.
    pub fn measure_len(&self) -> u32 {
        u32::from(self.time_signature.beats) * self.divisions * 4 / u32::from(self.time_signature.beat_type.max(1))
    }

    /// The chord sounding at each chord symbol, with its absolute onset.
    pub fn chord_timeline(&self) -> Vec<(u32, Chord)> {
        let len = self.measure_len();
        let mut out = Vec::new();
        for (i, m) in self.measures.iter().enumerate() {
            for c in &m.chords {
                out.push((i as u32 * len + c.onset, c.chord()));
            }
        }
        out
    }

    /// The chord sounding at absolute time `t`, if any symbol precedes it.
    pub fn chord_at(&self, t: u32) -> Option<Chord> {
        self.chord_timeline().into_iter().take_while(|(on, _)| *on <= t).last().map(|(_, c)| c)
    }

    /// Every sounded (not tie-continued) note as (absolute onset, staff, pitch).
    pub fn attacks(&self) -> Vec<(u32, u8, Pitch)> {
        let len = self.measure_len();
        let mut out = Vec::new();
        for (i, m) in self.measures.iter().enumerate() {
            for e in m.events.iter().filter(|e| !e.tie_stop) {
                for p in &e.pitches {
                    out.push((i as u32 * len + e.onset, e.staff, *p));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pitch::Step;

    #[test]
    fn event_json_shape() {
        let e = Event {
            onset: 0,
            duration: 12,
            pitches: vec![Pitch::new(NoteName::new(Step::B, -1), 4)],
            voice: 1,
            staff: 1,
            tie_start: true,
            tie_stop: false,
        };
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(
            json,
            r#"{"onset":0,"duration":12,"pitches":[{"step":"B","alter":-1,"octave":4}],"voice":1,"staff":1,"tie_start":true}"#
        );
        assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), e);
    }
}
