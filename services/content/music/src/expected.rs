//! The notes a player is expected to strike, read off a [`Score`]: what
//! practice scoring aligns a take against.
//!
//! Each struck note (a tie's continuation is not struck again) gets a
//! stable id from its place in `music_data`: `m<measure number>.e<index in
//! the measure's events>.p<index in the event's pitches>` (e.g. `m3.e1.p0`),
//! so a client holding the item's `music_data` finds the note it must
//! colour. Onsets and lengths are in quarter-note beats from bar 1; a note
//! tied on keeps the length of all its tied pieces.

use crate::score::Score;

/// One struck note of a score.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedNote {
    /// `m<measure>.e<event>.p<pitch>`.
    pub id: String,
    /// MIDI note number.
    pub pitch: u8,
    /// Onset, quarter beats from the start of bar 1.
    pub onset_beats: f64,
    /// Sounding length including tied pieces, quarter beats.
    pub duration_beats: f64,
    /// 1 treble (right hand), 2 bass (left hand).
    pub staff: u8,
}

/// The struck notes of `score`, in `music_data` order.
pub fn expected_notes(score: &Score) -> Vec<ExpectedNote> {
    let div = f64::from(score.divisions.max(1));
    let len = score.measure_len();
    let mut out: Vec<ExpectedNote> = Vec::new();
    // (staff, midi) → the note a tie continues, and where it ends (divisions).
    let mut open: Vec<((u8, i32), usize, u32)> = Vec::new();
    for (i, m) in score.measures.iter().enumerate() {
        let base = i as u32 * len;
        for (e, event) in m.events.iter().enumerate() {
            let start = base + event.onset;
            let end = start + event.duration;
            for (p, pitch) in event.pitches.iter().enumerate() {
                let key = (event.staff, pitch.midi());
                if event.tie_stop
                    && let Some((_, note, until)) = open.iter_mut().find(|(k, _, until)| *k == key && *until == start)
                {
                    *until = end;
                    let onset = base_start(out[*note].onset_beats, div);
                    out[*note].duration_beats = f64::from(end - onset) / div;
                    continue;
                }
                open.retain(|(k, _, _)| *k != key);
                open.push((key, out.len(), end));
                out.push(ExpectedNote {
                    id: format!("m{}.e{e}.p{p}", m.number),
                    pitch: pitch.midi().clamp(0, 127) as u8,
                    onset_beats: f64::from(start) / div,
                    duration_beats: f64::from(event.duration) / div,
                    staff: event.staff,
                });
            }
        }
    }
    out
}

/// An onset in beats back in divisions (exact: onsets are whole divisions).
fn base_start(onset_beats: f64, div: f64) -> u32 {
    (onset_beats * div).round() as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ContentType, Difficulty, GenerationRequest, generate};

    #[test]
    fn every_struck_note_once_with_unique_ids() {
        let mut req = GenerationRequest::new(ContentType::CompletePiece, Difficulty::Advanced);
        req.seed = Some(3);
        let Ok(item) = generate(&req) else { panic!("generation failed") };
        let notes = expected_notes(&item.score);
        assert_eq!(notes.len(), item.score.attacks().len());
        let mut ids: Vec<&str> = notes.iter().map(|n| n.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), notes.len());
        assert!(notes.iter().all(|n| n.duration_beats > 0.0));
    }
}
