//! Turns generator output (notes at absolute times, free of bar lines) into a
//! [`Score`]: clips overlaps, splits at bar lines and into written values with
//! ties, fills silence with rests, and spells every pitch by the key's rule.
//! Generators never deal with bar lines or rests themselves, which is what
//! makes "each voice fills its measure exactly" hold by construction.

use crate::chord::Chord;
use crate::key::Key;
use crate::pitch::Pitch;
use crate::rhythm::{DIVISIONS, TimeSignature, split_duration};
use crate::score::{ChordSymbol, Event, KeySignature, Measure, SCHEMA_VERSION, Score};

/// A note or chord at an absolute time (divisions from the start).
#[derive(Debug, Clone)]
struct Note {
    staff: u8,
    onset: u32,
    duration: u32,
    pitches: Vec<Pitch>,
}

/// Collects notes and chord symbols before they are laid out in bars.
#[derive(Debug, Clone)]
pub struct Timeline {
    ts: TimeSignature,
    bars: u32,
    notes: Vec<Note>,
    chords: Vec<(u32, Chord)>,
}

/// The score-level facts the timeline does not know.
#[derive(Debug, Clone)]
pub struct ScoreMeta {
    /// Title.
    pub title: String,
    /// Key.
    pub key: Key,
    /// Tempo in bpm.
    pub tempo: u32,
    /// Swing playback.
    pub swing: bool,
}

impl Timeline {
    /// An empty timeline of `bars` bars.
    pub fn new(ts: TimeSignature, bars: u32) -> Self {
        Self { ts, bars, notes: Vec::new(), chords: Vec::new() }
    }

    /// Total length in divisions.
    pub fn total_len(&self) -> u32 {
        self.bars * self.ts.measure_len()
    }

    /// Adds a note or chord (several pitches) to `staff` (1 or 2).
    pub fn note(&mut self, staff: u8, onset: u32, duration: u32, pitches: Vec<Pitch>) {
        if duration > 0 && !pitches.is_empty() {
            self.notes.push(Note { staff, onset, duration, pitches });
        }
    }

    /// Adds a chord symbol at absolute time `onset`.
    pub fn chord(&mut self, onset: u32, chord: Chord) {
        self.chords.push((onset, chord));
    }

    /// Lays everything out as a score.
    pub fn into_score(self, meta: &ScoreMeta) -> Score {
        let mlen = self.ts.measure_len();
        let total = self.total_len();
        let mut measures: Vec<Measure> =
            (0..self.bars).map(|i| Measure { number: i + 1, chords: Vec::new(), events: Vec::new() }).collect();

        let mut chords = self.chords.clone();
        chords.sort_by_key(|(t, _)| *t);
        let mut last: Option<Chord> = None;
        for (t, chord) in chords {
            let chord = Chord::new(meta.key.respell_root(chord.root), chord.quality);
            if t >= total || last == Some(chord) {
                continue;
            }
            last = Some(chord);
            if let Some(m) = measures.get_mut((t / mlen) as usize) {
                m.chords.retain(|c| c.onset != t % mlen);
                m.chords.push(ChordSymbol::new(t % mlen, chord));
            }
        }

        for staff in [1u8, 2] {
            let mut notes: Vec<Note> = self.notes.iter().filter(|n| n.staff == staff).cloned().collect();
            notes.sort_by_key(|n| n.onset);
            let mut pos = 0;
            for (i, n) in notes.iter().enumerate() {
                let next = notes.get(i + 1).map_or(total, |m| m.onset).min(total);
                let start = n.onset.max(pos);
                let end = (n.onset + n.duration).min(next);
                if end <= start {
                    continue;
                }
                place(&mut measures, mlen, staff, pos, start, Vec::new());
                let mut pitches: Vec<Pitch> = n.pitches.iter().map(|p| meta.key.respell(*p)).collect();
                pitches.sort_by_key(|p| p.midi());
                pitches.dedup_by_key(|p| p.midi());
                place(&mut measures, mlen, staff, start, end, pitches);
                pos = end;
            }
            place(&mut measures, mlen, staff, pos, total, Vec::new());
        }
        for m in &mut measures {
            m.events.sort_by_key(|e| (e.staff, e.onset));
        }
        Score {
            schema_version: SCHEMA_VERSION,
            title: meta.title.clone(),
            key: KeySignature::of(meta.key),
            time_signature: self.ts,
            tempo: meta.tempo,
            swing: meta.swing,
            divisions: DIVISIONS,
            measures,
        }
    }
}

/// Writes `[start, end)` into the measures as tied written values (a rest
/// when `pitches` is empty; a whole-bar rest stays one event).
fn place(measures: &mut [Measure], mlen: u32, staff: u8, start: u32, end: u32, pitches: Vec<Pitch>) {
    let mut pieces = Vec::new();
    let mut t = start;
    while t < end {
        let bar = t / mlen;
        let in_bar = t % mlen;
        let seg_end = end.min((bar + 1) * mlen);
        let seg = seg_end - t;
        if pitches.is_empty() && in_bar == 0 && seg == mlen {
            pieces.push((bar, in_bar, mlen));
        } else {
            let mut p = in_bar;
            for d in split_duration(in_bar, seg) {
                pieces.push((bar, p, d));
                p += d;
            }
        }
        t = seg_end;
    }
    let n = pieces.len();
    let tied = !pitches.is_empty();
    for (i, (bar, onset, duration)) in pieces.into_iter().enumerate() {
        if let Some(m) = measures.get_mut(bar as usize) {
            m.events.push(Event {
                onset,
                duration,
                pitches: pitches.clone(),
                voice: staff,
                staff,
                tie_start: tied && i + 1 < n,
                tie_stop: tied && i > 0,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Mode;
    use crate::pitch::NoteName;

    #[test]
    fn ties_across_the_bar_and_fills_rests() {
        let key = Key::new(NoteName::parse("Bb").unwrap(), Mode::Major).unwrap();
        let mut tl = Timeline::new(TimeSignature::FOUR_FOUR, 2);
        tl.note(1, 36, 24, vec![Pitch::parse("A#4").unwrap()]);
        tl.chord(0, "Bbmaj7".parse().unwrap());
        tl.chord(48, "Bbmaj7".parse().unwrap());
        let meta = ScoreMeta { title: "t".into(), key, tempo: 120, swing: true };
        let s = tl.into_score(&meta);
        let m1: Vec<_> = s.measures[0].events.iter().filter(|e| e.staff == 1).collect();
        assert_eq!(m1.iter().map(|e| e.duration).sum::<u32>(), 48);
        assert!(m1.last().unwrap().tie_start);
        assert_eq!(m1.last().unwrap().pitches[0].to_string(), "Bb4");
        assert!(s.measures[1].events[0].tie_stop);
        assert_eq!(s.measures[1].chords.len(), 0, "repeated chord symbol dropped");
        for m in &s.measures {
            for staff in [1, 2] {
                let sum: u32 = m.events.iter().filter(|e| e.staff == staff).map(|e| e.duration).sum();
                assert_eq!(sum, 48);
            }
        }
    }
}
