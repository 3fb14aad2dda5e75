//! Standard MIDI File output (format 1, 480 ticks per quarter): a
//! conductor track with tempo, meter and key, then the right hand (MIDI
//! channel 1) and left hand (channel 2) on their own tracks. Tied notes sound once.
//! Swing is applied here, to playback only: an eighth on the off-beat
//! starts two-thirds of the way through the beat (long-short eighths),
//! while the written score stays straight.

use crate::score::Score;
use midly::num::{u4, u7, u15, u24, u28};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};

/// Ticks per quarter note.
pub const TICKS_PER_QUARTER: u32 = 480;

/// Renders the score; never fails for any `Score` value.
pub fn write(score: &Score) -> Vec<u8> {
    let div = score.divisions.max(1);
    let ticks = |t: u32| -> u32 {
        let beat = t / div;
        let within = t % div;
        let base = u64::from(beat) * u64::from(TICKS_PER_QUARTER);
        // Swing: the off-beat eighth moves from 1/2 to 2/3 of the beat.
        let offset = if score.swing && div.is_multiple_of(2) && within == div / 2 {
            u64::from(TICKS_PER_QUARTER) * 2 / 3
        } else {
            u64::from(within) * u64::from(TICKS_PER_QUARTER) / u64::from(div)
        };
        (base + offset).min(u64::from(u32::MAX / 2)) as u32
    };
    let mlen = score.measure_len();
    let mut notes: [Vec<(u32, u32, u8)>; 2] = [Vec::new(), Vec::new()];
    for (i, m) in score.measures.iter().enumerate() {
        let base = i as u32 * mlen;
        for e in &m.events {
            let hand = usize::from(e.staff != 1);
            for p in &e.pitches {
                let key = p.midi().clamp(0, 127) as u8;
                let start = base + e.onset;
                let end = start + e.duration;
                let open = notes[hand].iter_mut().rev().find(|n| n.2 == key && n.1 == start);
                match open {
                    Some(n) if e.tie_stop => n.1 = end,
                    _ => notes[hand].push((start, end, key)),
                }
            }
        }
    }
    let bpm = score.tempo.clamp(1, 1000);
    let mut conductor = vec![
        meta(0, MetaMessage::TrackName(b"JazzMaster Pro")),
        meta(0, MetaMessage::Tempo(u24::from_int_lossy(60_000_000 / bpm))),
        meta(0, MetaMessage::TimeSignature(score.time_signature.beats, 2, 24, 8)),
        meta(0, MetaMessage::KeySignature(score.key.fifths.clamp(-7, 7), score.key.mode == crate::key::Mode::Minor)),
    ];
    conductor.push(meta(0, MetaMessage::EndOfTrack));
    let mut tracks = vec![conductor];
    for (hand, list) in notes.iter().enumerate() {
        let channel = u4::from_int_lossy(hand as u8);
        let name: &[u8] = if hand == 0 { b"Right hand" } else { b"Left hand" };
        let mut evs: Vec<(u32, bool, u8, u8)> = Vec::new();
        for &(s, e, key) in list {
            let vel = if hand == 1 {
                62
            } else if s % mlen == 0 {
                84
            } else {
                74
            };
            let (on, off) = (ticks(s), ticks(e).max(ticks(s) + 1));
            evs.push((on, true, key, vel));
            evs.push((off, false, key, 0));
        }
        // note-offs before note-ons at the same tick, so repeated keys re-strike
        evs.sort_by_key(|(t, on, key, _)| (*t, *on, *key));
        let mut track = vec![
            meta(0, MetaMessage::TrackName(name)),
            TrackEvent {
                delta: u28::from_int_lossy(0),
                kind: TrackEventKind::Midi {
                    channel,
                    message: MidiMessage::ProgramChange { program: u7::from_int_lossy(0) },
                },
            },
        ];
        let mut now = 0;
        for (t, on, key, vel) in evs {
            let message = if on {
                MidiMessage::NoteOn { key: u7::from_int_lossy(key), vel: u7::from_int_lossy(vel) }
            } else {
                MidiMessage::NoteOff { key: u7::from_int_lossy(key), vel: u7::from_int_lossy(0) }
            };
            track.push(TrackEvent {
                delta: u28::from_int_lossy(t - now),
                kind: TrackEventKind::Midi { channel, message },
            });
            now = t;
        }
        track.push(meta(0, MetaMessage::EndOfTrack));
        tracks.push(track);
    }
    let smf = Smf {
        header: Header::new(Format::Parallel, Timing::Metrical(u15::from_int_lossy(TICKS_PER_QUARTER as u16))),
        tracks,
    };
    let mut out = Vec::new();
    match smf.write_std(&mut out) {
        Ok(()) => out,
        Err(_) => Vec::new(),
    }
}

fn meta(delta: u32, m: MetaMessage<'static>) -> TrackEvent<'static> {
    TrackEvent { delta: u28::from_int_lossy(delta), kind: TrackEventKind::Meta(m) }
}
