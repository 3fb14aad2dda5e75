//! Scoring a played take against an item's expected notes
//! (`PracticeService.ScorePerformance`; the method is `docs/scoring.md`).
//!
//! Pure and deterministic: the api hands in the expected notes (from
//! content's `GetExpectedNotes`) and the validated take, and gets back a
//! per-note judgement and the 0–100 score. No I/O, no clock except the
//! optional deadline the aligner checks between rows.
//!
//! - [`take`]: MIDI events → played notes, with the take's limits.
//! - [`align`]: chord grouping and the dynamic-programming alignment.
//! - [`tempo`]: the tempo map that follows the player, swing, segments.
//! - [`judge`]: verdicts, per-bar feel, the summary and the formula.

pub mod align;
pub mod judge;
pub mod take;
pub mod tempo;

#[cfg(test)]
mod tests;

use std::time::Instant;

pub use judge::{BarFeel, BarResult, ExtraNote, NoteResult, Summary, Verdict};
pub use take::{PlayedNote, RawEvent, Take, TakeLimits};

/// One note of the item as written, keyed by the id clients draw it with.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedNote {
    /// Stable id (`m<bar>.e<event>.p<pitch>`, see `docs/scoring.md`).
    pub id: String,
    /// MIDI pitch, 0–127.
    pub pitch: u8,
    /// Onset in quarter-note beats from the start of bar 1.
    pub onset_beats: f64,
    /// Written length in quarter-note beats.
    pub duration_beats: f64,
}

/// The item as the aligner needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    /// The notes, any order.
    pub notes: Vec<ExpectedNote>,
    /// Quarter-note beats per bar (4 in 4/4, 3 in 3/4, 3 in 6/8).
    pub beats_per_bar: f64,
}

impl Piece {
    /// The bar (from 1) of a beat position.
    pub fn bar_of(&self, beat: f64) -> u32 {
        let per_bar = if self.beats_per_bar > 0.0 { self.beats_per_bar } else { 4.0 };
        ((beat / per_bar).floor().max(0.0) as u32).saturating_add(1)
    }
}

/// The whole judgement of one take.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// Totals and the score.
    pub summary: Summary,
    /// One result per expected note, in score order (onset, then pitch).
    pub notes: Vec<NoteResult>,
    /// Played notes that match no expected note, in time order.
    pub extra: Vec<ExtraNote>,
    /// One entry per bar that has expected notes.
    pub bars: Vec<BarResult>,
}

/// Why a take could not be judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ScoringError {
    /// The deadline passed while aligning.
    #[error("scoring deadline exceeded")]
    DeadlineExceeded,
    /// The take has too many onsets for the item (the alignment table
    /// would exceed [`MAX_CELLS`]).
    #[error("take too large for the item")]
    TooLarge,
}

/// Largest alignment table (written × played onsets): 2 M cells of 21
/// bytes (cost, step, last match), about 42 MB, well under a second in
/// release builds.
pub const MAX_CELLS: usize = 2_000_000;

/// Judges `take` against `piece`. `deadline`, when set, is checked once per
/// row of the alignment table.
pub fn score(piece: &Piece, take: &Take, deadline: Option<Instant>) -> Result<Judgement, ScoringError> {
    let expected = align::expected_groups(piece);
    let played = align::played_groups(&take.notes);
    if (expected.len() + 1).saturating_mul(played.len() + 1) > MAX_CELLS {
        return Err(ScoringError::TooLarge);
    }
    let nominal = tempo::TempoMap::nominal(take);
    // Pass 1 follows the pitches, with a weak pull toward the stated tempo:
    // it survives a wrong tempo, pauses and repeats.
    let first = align::align(&expected, &played, &take.notes, &nominal, align::PASS_ONE, deadline)?;
    // Pass 2 follows the player: the map is fitted to pass 1's anchors.
    let map = tempo::TempoMap::fit(&expected, &played, &take.notes, &first, take);
    let second = align::align(&expected, &played, &take.notes, &map, align::PASS_TWO, deadline)?;
    Ok(judge::judge(piece, take, &expected, &played, &second))
}
