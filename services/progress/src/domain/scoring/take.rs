//! A take as the client sends it (timestamped MIDI note-on/off events)
//! turned into played notes, with the take's limits. Every bad event is
//! refused with its field path (`events[12].pitch`), nothing is clamped.

use jazz_platform::error::FieldViolation;

/// Limits of one take (documented in `practice.proto` and `docs/scoring.md`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TakeLimits {
    /// Most events in one take.
    pub max_events: usize,
    /// Longest take, from its start to its last event, in milliseconds.
    pub max_length_ms: f64,
    /// Most events within any one second of the take.
    pub max_events_per_second: usize,
}

impl TakeLimits {
    /// The limits every take is held to.
    pub const DEFAULT: Self = Self { max_events: 10_000, max_length_ms: 600_000.0, max_events_per_second: 100 };
}

/// Stated tempo range of a take, in quarter notes per minute.
pub const TEMPO_RANGE: (f64, f64) = (20.0, 400.0);
/// Most count-in beats.
pub const MAX_COUNT_IN: i32 = 16;
/// Most violations reported for one take (a garbled take would otherwise
/// answer with thousands).
const MAX_VIOLATIONS: usize = 10;

/// One MIDI event as received.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RawEvent {
    /// Milliseconds since the take started (the count-in's first click).
    pub time_ms: f64,
    /// MIDI note number.
    pub pitch: i32,
    /// MIDI velocity; a note-on with velocity 0 is a note-off.
    pub velocity: i32,
    /// Note-on (true) or note-off.
    pub on: bool,
}

/// One struck key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlayedNote {
    /// MIDI pitch.
    pub pitch: u8,
    /// When it was struck, ms since the take started.
    pub onset_ms: f64,
    /// How long it was held, ms (to its note-off, or to the take's end).
    pub duration_ms: f64,
    /// Strike velocity, 1–127.
    pub velocity: u8,
}

/// A validated take.
#[derive(Debug, Clone, PartialEq)]
pub struct Take {
    /// Played notes by onset (ties by pitch).
    pub notes: Vec<PlayedNote>,
    /// The tempo the learner played to (the count-in's), quarter notes per minute.
    pub tempo_bpm: f64,
    /// Beats of count-in before bar 1.
    pub count_in_beats: f64,
    /// Time of the last event, ms.
    pub length_ms: f64,
}

impl Take {
    /// The take played at `bpm` when it stated no tempo (0).
    pub fn at_tempo(mut self, bpm: f64) -> Self {
        if self.tempo_bpm == 0.0 {
            self.tempo_bpm = bpm.clamp(TEMPO_RANGE.0, TEMPO_RANGE.1);
        }
        self
    }

    /// Milliseconds per beat at the stated tempo.
    pub fn beat_ms(&self) -> f64 {
        60_000.0 / self.tempo_bpm
    }
}

/// Checks the events one by one (range, order) and against `limits`, then
/// pairs note-ons with their note-offs. A `tempo_bpm` of 0 is accepted
/// (the item's tempo): set it with [`Take::at_tempo`] before scoring.
pub fn parse(
    events: &[RawEvent],
    tempo_bpm: f64,
    count_in_beats: i32,
    limits: TakeLimits,
) -> Result<Take, Vec<FieldViolation>> {
    let mut violations = Vec::new();
    if tempo_bpm != 0.0 && !(TEMPO_RANGE.0..=TEMPO_RANGE.1).contains(&tempo_bpm) {
        violations.push(FieldViolation::new("tempo_bpm", "must be 20–400 (or 0 for the item's tempo)"));
    }
    if !(0..=MAX_COUNT_IN).contains(&count_in_beats) {
        violations.push(FieldViolation::new("count_in_beats", "must be 0–16"));
    }
    if events.is_empty() {
        violations.push(FieldViolation::new("events", "must hold at least one note"));
    }
    if events.len() > limits.max_events {
        violations.push(FieldViolation::new("events", format!("must hold at most {} events", limits.max_events)));
        return Err(violations);
    }
    let mut previous = 0.0_f64;
    for (i, e) in events.iter().enumerate() {
        if violations.len() >= MAX_VIOLATIONS {
            break;
        }
        if !e.time_ms.is_finite() || e.time_ms < 0.0 {
            violations.push(FieldViolation::new(format!("events[{i}].time_ms"), "must be a finite time ≥ 0"));
        } else if e.time_ms < previous {
            violations
                .push(FieldViolation::new(format!("events[{i}].time_ms"), "must not be before the previous event"));
        } else if e.time_ms > limits.max_length_ms {
            let minutes = limits.max_length_ms / 60_000.0;
            violations.push(FieldViolation::new(
                format!("events[{i}].time_ms"),
                format!("take longer than {minutes} minutes"),
            ));
        } else {
            previous = e.time_ms;
        }
        if !(0..=127).contains(&e.pitch) {
            violations.push(FieldViolation::new(format!("events[{i}].pitch"), "must be a MIDI note 0–127"));
        }
        if !(0..=127).contains(&e.velocity) {
            violations.push(FieldViolation::new(format!("events[{i}].velocity"), "must be 0–127"));
        }
    }
    if violations.is_empty() && too_dense(events, limits.max_events_per_second) {
        let rate = limits.max_events_per_second;
        violations.push(FieldViolation::new("events", format!("more than {rate} events within one second")));
    }
    if !violations.is_empty() {
        return Err(violations);
    }
    let notes = pair(events);
    if notes.is_empty() {
        return Err(vec![FieldViolation::new("events", "must hold at least one note-on")]);
    }
    Ok(Take { notes, tempo_bpm, count_in_beats: f64::from(count_in_beats), length_ms: previous })
}

/// Whether any one-second window holds more than `max` events (events are
/// in time order: two pointers).
fn too_dense(events: &[RawEvent], max: usize) -> bool {
    let mut start = 0;
    for (end, e) in events.iter().enumerate() {
        while e.time_ms - events[start].time_ms >= 1000.0 {
            start += 1;
        }
        if end - start + 1 > max {
            return true;
        }
    }
    false
}

/// Note-ons paired with the next note-off of the same key; a key struck
/// again while held ends the held note; a note never released lasts to the
/// last event; a note-off with nothing held is ignored.
fn pair(events: &[RawEvent]) -> Vec<PlayedNote> {
    let end = events.last().map_or(0.0, |e| e.time_ms);
    let mut held: [Option<usize>; 128] = [None; 128];
    let mut notes: Vec<PlayedNote> = Vec::new();
    for e in events {
        let key = e.pitch.clamp(0, 127) as usize;
        if let Some(open) = held[key].take()
            && let Some(note) = notes.get_mut(open)
        {
            note.duration_ms = e.time_ms - note.onset_ms;
        }
        if e.on && e.velocity > 0 {
            held[key] = Some(notes.len());
            notes.push(PlayedNote {
                pitch: key as u8,
                onset_ms: e.time_ms,
                duration_ms: 0.0,
                velocity: e.velocity.clamp(1, 127) as u8,
            });
        }
    }
    for open in held.into_iter().flatten() {
        if let Some(note) = notes.get_mut(open) {
            note.duration_ms = end - note.onset_ms;
        }
    }
    notes.sort_by(|a, b| a.onset_ms.total_cmp(&b.onset_ms).then(a.pitch.cmp(&b.pitch)));
    notes
}
