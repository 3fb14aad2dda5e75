//! Helpers shared by the integration tests: request builders, the
//! invariant checks every generated item must pass, and a small MusicXML
//! reader that parses our own output back into notes.

#![allow(dead_code)]

use jazz_music::key::Key;
use jazz_music::score::Score;
use jazz_music::{ContentType, Difficulty, GeneratedItem, GenerationRequest};
use quick_xml::Reader;
use quick_xml::events::Event;

/// The stated voice-leading bound: between consecutive voicings of a
/// progression, the average movement per voice is at most this many
/// semitones (the register pull and fixed forms keep it near 2).
pub const MAX_AVG_MOVEMENT_PER_VOICE: f64 = 5.0;

/// The bound for the fixed-form types (`rootless-a`, `rootless-b`), which
/// cannot alternate forms and so move further (a ii–V in B forms moves 5–7
/// semitones per voice).
pub const MAX_AVG_MOVEMENT_FIXED_FORM: f64 = 7.5;

/// A request for key `k` of the 24, with a seed and a variant selector that
/// also varies meter, style and voicing.
pub fn request(ct: ContentType, d: Difficulty, k: usize, seed: u64, variant: u8) -> GenerationRequest {
    let keys = Key::all24();
    let key = keys[k % keys.len()];
    let mut req = GenerationRequest::new(ct, d);
    req.key = Some(key.code());
    req.seed = Some(seed);
    match variant % 6 {
        1 => req.time_signature = Some("3/4".into()),
        2 => req.style = Some("bossa-nova".into()),
        3 => {
            req.voicing = Some(
                ["shell", "rootless", "drop-2", "quartal", "upper-structure", "rootless-b"][(seed % 6) as usize].into(),
            )
        }
        4 => req.style = Some("blues".into()),
        5 => req.style = Some("modal".into()),
        _ => {}
    }
    req
}

/// One note or chord as written: pitches (step, alter, octave) and duration.
pub type Written = (Vec<(char, i8, i8)>, u32);

/// The score's events per (measure, staff), in the written form.
pub fn score_notes(score: &Score) -> Vec<Vec<Vec<Written>>> {
    score
        .measures
        .iter()
        .map(|m| {
            [1u8, 2]
                .iter()
                .map(|&s| {
                    m.events
                        .iter()
                        .filter(|e| e.staff == s)
                        .map(|e| (e.pitches.iter().map(|p| (p.step.letter(), p.alter, p.octave)).collect(), e.duration))
                        .collect()
                })
                .collect()
        })
        .collect()
}

/// Facts read back from our MusicXML.
#[derive(Debug, Default)]
pub struct XmlFacts {
    /// Notes per (measure, staff).
    pub notes: Vec<Vec<Vec<Written>>>,
    /// `<fifths>` value.
    pub fifths: Option<i32>,
    /// `<mode>` value.
    pub mode: Option<String>,
    /// Number of `<harmony>` elements.
    pub harmonies: usize,
    /// `<divisions>`.
    pub divisions: Option<u32>,
}

/// Parses our MusicXML with quick-xml (fails on malformed XML).
pub fn read_xml(xml: &str) -> Result<XmlFacts, String> {
    let mut r = Reader::from_str(xml);
    let mut facts = XmlFacts::default();
    let mut path: Vec<String> = Vec::new();
    // (is a <chord/> note, pitch, duration, staff)
    type Open = (bool, Option<(char, i8, i8)>, u32, usize);
    let mut note: Option<Open> = None;
    let mut pitch = ('C', 0i8, 4i8);
    let mut depth_check = 0i32;
    loop {
        let ev = r.read_event().map_err(|e| e.to_string())?;
        match ev {
            Event::Start(e) => {
                depth_check += 1;
                let name = String::from_utf8_lossy(e.name().as_ref()).to_string();
                match name.as_str() {
                    "measure" => facts.notes.push(vec![Vec::new(), Vec::new()]),
                    "note" => note = Some((false, None, 0, 1)),
                    "pitch" => pitch = ('C', 0, 4),
                    "harmony" => facts.harmonies += 1,
                    _ => {}
                }
                path.push(name);
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).to_string();
                if name == "chord"
                    && let Some(n) = note.as_mut()
                {
                    n.0 = true;
                }
            }
            Event::Text(t) => {
                let text = t.decode().map_err(|e| e.to_string())?.to_string();
                let here = path.last().map(String::as_str).unwrap_or("");
                match here {
                    "step" => pitch.0 = text.chars().next().unwrap_or('?'),
                    "alter" => pitch.1 = text.parse().map_err(|_| "alter")?,
                    "octave" => pitch.2 = text.parse().map_err(|_| "octave")?,
                    "duration" if path.iter().any(|p| p == "note") => {
                        if let Some(n) = note.as_mut() {
                            n.2 = text.parse().map_err(|_| "duration")?;
                        }
                    }
                    "staff" if path.iter().any(|p| p == "note") => {
                        if let Some(n) = note.as_mut() {
                            n.3 = text.parse().map_err(|_| "staff")?;
                        }
                    }
                    "fifths" => facts.fifths = text.parse().ok(),
                    "mode" => facts.mode = Some(text),
                    "divisions" => facts.divisions = text.parse().ok(),
                    _ => {}
                }
            }
            Event::End(e) => {
                depth_check -= 1;
                let name = String::from_utf8_lossy(e.name().as_ref()).to_string();
                if name == "pitch"
                    && let Some(n) = note.as_mut()
                {
                    n.1 = Some(pitch);
                }
                if name == "note"
                    && let (Some((chord, p, dur, staff)), Some(m)) = (note.take(), facts.notes.last_mut())
                {
                    let list = &mut m[staff.clamp(1, 2) - 1];
                    match (chord, list.last_mut()) {
                        (true, Some(last)) => last.0.extend(p),
                        _ => list.push((p.into_iter().collect(), dur)),
                    }
                }
                path.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if depth_check != 0 {
        return Err("unbalanced".into());
    }
    Ok(facts)
}

/// Every invariant of a generated item; returns a description of the first
/// violation.
pub fn check(item: &GeneratedItem) -> Result<(), String> {
    let s = &item.score;
    let key = s.key.key().map_err(|e| e.to_string())?;
    let mlen = s.measure_len();
    let tag = &item.title;
    // spelling
    for (_, _, p) in s.attacks() {
        if let Some(n) = key.diatonic_name(p.name().pc())
            && n != p.name()
        {
            return Err(format!("{tag}: {p} should be spelled {n} in {key}"));
        }
        if p.alter.abs() > 2 {
            return Err(format!("{tag}: {p} has a triple accidental"));
        }
    }
    // measure sums and contiguity per voice
    if s.measures.len() as u32 != item.parameters.bars {
        return Err(format!("{tag}: {} measures for {} bars", s.measures.len(), item.parameters.bars));
    }
    for m in &s.measures {
        for staff in [1u8, 2] {
            let mut at = 0;
            for e in m.events.iter().filter(|e| e.staff == staff) {
                if e.onset != at || e.voice != staff || e.duration == 0 {
                    return Err(format!("{tag}: bar {} staff {staff} event at {} expected {at}", m.number, e.onset));
                }
                at += e.duration;
            }
            if at != mlen {
                return Err(format!("{tag}: bar {} staff {staff} sums to {at}, not {mlen}", m.number));
            }
        }
    }
    // A transposed score keeps the original parameters; its range moved with it.
    let transposed = item.parameters.key != s.key.tonic.to_string();
    let (lo, hi) = if transposed {
        (0, 127)
    } else {
        (
            jazz_music::pitch::Pitch::parse(&item.parameters.range_low).map_or(0, |p| p.midi()),
            jazz_music::pitch::Pitch::parse(&item.parameters.range_high).map_or(127, |p| p.midi()),
        )
    };
    match item.parameters.content_type {
        ContentType::JazzLick => {
            for (t, staff, p) in s.attacks() {
                if staff == 1 && s.time_signature_is_strong(t % mlen) {
                    let chord = s.chord_at(t).ok_or("no chord")?;
                    if !chord.tone_pcs().contains(&p.name().pc()) {
                        return Err(format!("{tag}: strong-beat {p} at {t} is not in {chord}"));
                    }
                }
                if staff == 1 && !(lo..=hi).contains(&p.midi()) {
                    return Err(format!("{tag}: {p} outside the range"));
                }
            }
        }
        ContentType::ScalePattern => {
            let scale = jazz_music::scale::ScaleKind::parse(item.parameters.scale.as_deref().unwrap_or(""))
                .map_err(|e| e.to_string())?;
            let pcs: Vec<i32> = scale.notes(key.tonic).iter().map(|n| n.pc()).collect();
            for (_, staff, p) in s.attacks() {
                if staff == 1 && (!pcs.contains(&p.name().pc()) || !(lo..=hi).contains(&p.midi())) {
                    return Err(format!("{tag}: {p} not in {} within the range", scale.name()));
                }
            }
        }
        ContentType::ChordProgression | ContentType::HarmonyExercise => {
            let two_handed = matches!(item.parameters.voicing.as_str(), "drop-2" | "quartal" | "upper-structure");
            let mut prev: Option<Vec<jazz_music::pitch::Pitch>> = None;
            for (t, chord) in s.chord_timeline() {
                let voicing: Vec<_> = s
                    .attacks()
                    .into_iter()
                    .filter(|(at, staff, _)| *at == t && (*staff == 2 || two_handed))
                    .map(|a| a.2)
                    .collect();
                let pcs: Vec<i32> = voicing.iter().map(|p| p.name().pc()).collect();
                for g in chord.guide_tones() {
                    if !pcs.contains(&g.pc()) {
                        return Err(format!("{tag}: voicing {voicing:?} of {chord} lacks guide tone {g}"));
                    }
                }
                if let Some(prev) = &prev {
                    let moved = jazz_music::voicing::movement(prev, &voicing) as f64 / voicing.len().max(1) as f64;
                    let fixed = matches!(item.parameters.voicing.as_str(), "rootless-a" | "rootless-b");
                    let bound = if fixed { MAX_AVG_MOVEMENT_FIXED_FORM } else { MAX_AVG_MOVEMENT_PER_VOICE };
                    if moved > bound {
                        return Err(format!("{tag}: {moved:.1} semitones per voice into {chord}"));
                    }
                }
                prev = Some(voicing);
            }
        }
        ContentType::Melody | ContentType::CompletePiece => {
            for (_, staff, p) in s.attacks() {
                if staff == 1 && !(lo..=hi).contains(&p.midi()) {
                    return Err(format!("{tag}: melody note {p} outside the range"));
                }
            }
        }
    }
    if item.parameters.difficulty == Difficulty::Beginner {
        for m in &s.measures {
            for e in m.events.iter().filter(|e| e.staff == 1 && !e.is_rest()) {
                if e.duration % 6 != 0 || e.onset % 6 != 0 {
                    return Err(format!("{tag}: beginner material has a {}-division note at {}", e.duration, e.onset));
                }
            }
        }
    }
    // MusicXML round trip
    let xml = s.to_music_xml();
    let facts = read_xml(&xml)?;
    if facts.notes != score_notes(s) {
        return Err(format!("{tag}: MusicXML notes differ from the score"));
    }
    if facts.fifths != Some(i32::from(s.key.fifths)) || facts.mode.as_deref() != Some(&s.key.mode.to_string()) {
        return Err(format!("{tag}: key signature {:?} {:?}", facts.fifths, facts.mode));
    }
    let symbols: usize = s.measures.iter().map(|m| m.chords.len()).sum();
    if facts.harmonies != symbols || facts.divisions != Some(s.divisions) {
        return Err(format!("{tag}: {} harmonies for {symbols} symbols", facts.harmonies));
    }
    // MIDI
    let midi = s.to_midi();
    let smf = midly::Smf::parse(&midi).map_err(|e| e.to_string())?;
    let ons = smf
        .tracks
        .iter()
        .flatten()
        .filter(|e| matches!(e.kind, midly::TrackEventKind::Midi { message: midly::MidiMessage::NoteOn { vel, .. }, .. } if vel > 0))
        .count();
    if ons != s.attacks().len() || smf.tracks.len() != 3 {
        return Err(format!("{tag}: {ons} note-ons for {} attacks", s.attacks().len()));
    }
    // JSON round trip
    let json = serde_json::to_string(s).map_err(|e| e.to_string())?;
    let back: Score = serde_json::from_str(&json).map_err(|e| e.to_string())?;
    if &back != s {
        return Err(format!("{tag}: music_data does not round-trip"));
    }
    Ok(())
}

/// Extension used by the checks.
pub trait StrongBeat {
    /// Whether `onset` (within a bar) is a strong beat of this score's meter.
    fn time_signature_is_strong(&self, onset: u32) -> bool;
}

impl StrongBeat for Score {
    fn time_signature_is_strong(&self, onset: u32) -> bool {
        self.time_signature.is_strong(onset)
    }
}
