//! MusicXML 4.0 `score-partwise` output: one piano part with treble and
//! bass staves, `<harmony>` chord symbols, key, time and tempo, notes,
//! rests, chords, ties and triplets. Written through quick-xml's writer so
//! every text and attribute is escaped.

use crate::chord::Quality;
use crate::rhythm::note_value;
use crate::score::{ChordSymbol, Event, Measure, Score};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event as X};
use std::io::{self, Write};

type W = Writer<Vec<u8>>;

/// Renders the score; never fails for any `Score` value.
pub fn write(score: &Score) -> String {
    let bytes = render(score).unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

fn text(w: &mut W, name: &str, value: &str) -> io::Result<()> {
    w.create_element(name).write_text_content(BytesText::new(value))?;
    Ok(())
}

fn render(score: &Score) -> io::Result<Vec<u8>> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(X::Decl(BytesDecl::new("1.0", Some("UTF-8"), Some("no"))))?;
    w.write_event(X::DocType(BytesText::from_escaped(
        r#"score-partwise PUBLIC "-//Recordare//DTD MusicXML 4.0 Partwise//EN" "http://www.musicxml.org/dtds/partwise.dtd""#,
    )))?;
    w.create_element("score-partwise").with_attribute(("version", "4.0")).write_inner_content(|w| {
        w.create_element("work").write_inner_content(|w| text(w, "work-title", &score.title))?;
        w.create_element("identification").write_inner_content(|w| {
            w.create_element("encoding").write_inner_content(|w| text(w, "software", "JazzMaster Pro jazz-music"))?;
            Ok(())
        })?;
        w.create_element("part-list").write_inner_content(|w| {
            w.create_element("score-part").with_attribute(("id", "P1")).write_inner_content(|w| {
                text(w, "part-name", "Piano")?;
                Ok(())
            })?;
            Ok(())
        })?;
        w.create_element("part").with_attribute(("id", "P1")).write_inner_content(|w| {
            let n = score.measures.len();
            for (i, m) in score.measures.iter().enumerate() {
                measure(w, score, m, i == 0, i + 1 == n)?;
            }
            Ok(())
        })?;
        Ok(())
    })?;
    let mut out = w.into_inner();
    out.write_all(b"\n")?;
    Ok(out)
}

fn measure(w: &mut W, score: &Score, m: &Measure, first: bool, last: bool) -> io::Result<()> {
    let number = m.number.to_string();
    w.create_element("measure").with_attribute(("number", number.as_str())).write_inner_content(|w| {
        if first {
            attributes(w, score)?;
            let tempo = score.tempo.to_string();
            w.create_element("direction").with_attribute(("placement", "above")).write_inner_content(|w| {
                w.create_element("direction-type").write_inner_content(|w| {
                    w.create_element("metronome").write_inner_content(|w| {
                        text(w, "beat-unit", "quarter")?;
                        text(w, "per-minute", &tempo)?;
                        Ok(())
                    })?;
                    Ok(())
                })?;
                text(w, "staff", "1")?;
                w.create_element("sound").with_attribute(("tempo", tempo.as_str())).write_empty()?;
                Ok(())
            })?;
        }
        let len = score.measure_len();
        let staff1: Vec<&Event> = m.events.iter().filter(|e| e.staff == 1).collect();
        let staff2: Vec<&Event> = m.events.iter().filter(|e| e.staff != 1).collect();
        let mut pending: Vec<&ChordSymbol> = m.chords.iter().collect();
        for e in &staff1 {
            let (now, later): (Vec<&ChordSymbol>, Vec<&ChordSymbol>) =
                pending.into_iter().partition(|c| c.onset < e.onset + e.duration);
            for c in now {
                harmony(w, c, c.onset.saturating_sub(e.onset))?;
            }
            pending = later;
            note(w, e, len)?;
        }
        for c in pending {
            harmony(w, c, 0)?;
        }
        if !staff2.is_empty() {
            let used: u32 = staff1.iter().map(|e| e.duration).sum();
            w.create_element("backup").write_inner_content(|w| text(w, "duration", &used.to_string()))?;
            for e in &staff2 {
                note(w, e, len)?;
            }
        }
        if last {
            w.create_element("barline")
                .with_attribute(("location", "right"))
                .write_inner_content(|w| text(w, "bar-style", "light-heavy"))?;
        }
        Ok(())
    })?;
    Ok(())
}

fn attributes(w: &mut W, score: &Score) -> io::Result<()> {
    w.create_element("attributes").write_inner_content(|w| {
        text(w, "divisions", &score.divisions.to_string())?;
        w.create_element("key").write_inner_content(|w| {
            text(w, "fifths", &score.key.fifths.to_string())?;
            text(w, "mode", &score.key.mode.to_string())?;
            Ok(())
        })?;
        w.create_element("time").write_inner_content(|w| {
            text(w, "beats", &score.time_signature.beats.to_string())?;
            text(w, "beat-type", &score.time_signature.beat_type.to_string())?;
            Ok(())
        })?;
        text(w, "staves", "2")?;
        for (n, sign, line) in [("1", "G", "2"), ("2", "F", "4")] {
            w.create_element("clef").with_attribute(("number", n)).write_inner_content(|w| {
                text(w, "sign", sign)?;
                text(w, "line", line)?;
                Ok(())
            })?;
        }
        Ok(())
    })?;
    Ok(())
}

/// MusicXML `<kind>` and added/altered degrees (value, alter, type).
fn kind(q: Quality) -> (&'static str, &'static [(u8, i8, &'static str)]) {
    use Quality::*;
    match q {
        Maj7 => ("major-seventh", &[]),
        Six => ("major-sixth", &[]),
        Min7 => ("minor-seventh", &[]),
        Min6 => ("minor-sixth", &[]),
        Dom7 => ("dominant", &[]),
        HalfDim => ("half-diminished", &[]),
        Dim7 => ("diminished-seventh", &[]),
        Dom7Flat9 => ("dominant", &[(9, -1, "add")]),
        Dom7Sharp9 => ("dominant", &[(9, 1, "add")]),
        Alt => ("augmented-seventh", &[(9, 1, "add")]),
        Dom9 => ("dominant-ninth", &[]),
        Dom13 => ("dominant-13th", &[]),
        Sus4 => ("suspended-fourth", &[(7, -1, "add")]),
        MinMaj7 => ("major-minor", &[]),
        SixNine => ("major-sixth", &[(9, 0, "add")]),
    }
}

fn harmony(w: &mut W, c: &ChordSymbol, offset: u32) -> io::Result<()> {
    w.create_element("harmony").write_inner_content(|w| {
        w.create_element("root").write_inner_content(|w| {
            text(w, "root-step", &c.root.step.letter().to_string())?;
            if c.root.alter != 0 {
                text(w, "root-alter", &c.root.alter.to_string())?;
            }
            Ok(())
        })?;
        let (k, degrees) = kind(c.quality);
        w.create_element("kind").with_attribute(("text", c.quality.suffix())).write_text_content(BytesText::new(k))?;
        for (value, alter, ty) in degrees {
            w.create_element("degree").write_inner_content(|w| {
                text(w, "degree-value", &value.to_string())?;
                text(w, "degree-alter", &alter.to_string())?;
                text(w, "degree-type", ty)?;
                Ok(())
            })?;
        }
        if offset > 0 {
            text(w, "offset", &offset.to_string())?;
        }
        text(w, "staff", "1")?;
        Ok(())
    })?;
    Ok(())
}

fn note(w: &mut W, e: &Event, measure_len: u32) -> io::Result<()> {
    let value = note_value(e.duration);
    let whole_rest = e.is_rest() && e.onset == 0 && e.duration == measure_len;
    let duration = e.duration.to_string();
    let voice = e.voice.to_string();
    let staff = e.staff.to_string();
    let tuplet = match (value, e.duration) {
        (Some(v), 4) if v.triplet => match e.onset % 12 {
            0 => Some("start"),
            8 => Some("stop"),
            _ => None,
        },
        (Some(v), 8) if v.triplet => match e.onset % 24 {
            0 => Some("start"),
            16 => Some("stop"),
            _ => None,
        },
        _ => None,
    };
    let count = e.pitches.len().max(1);
    for i in 0..count {
        w.create_element("note").write_inner_content(|w| {
            if i > 0 {
                w.create_element("chord").write_empty()?;
            }
            match e.pitches.get(i) {
                Some(p) => {
                    w.create_element("pitch").write_inner_content(|w| {
                        text(w, "step", &p.step.letter().to_string())?;
                        if p.alter != 0 {
                            text(w, "alter", &p.alter.to_string())?;
                        }
                        text(w, "octave", &p.octave.to_string())?;
                        Ok(())
                    })?;
                }
                None if whole_rest => {
                    w.create_element("rest").with_attribute(("measure", "yes")).write_empty()?;
                }
                None => {
                    w.create_element("rest").write_empty()?;
                }
            }
            text(w, "duration", &duration)?;
            let ties = !e.is_rest() && (e.tie_start || e.tie_stop);
            if !e.is_rest() && e.tie_stop {
                w.create_element("tie").with_attribute(("type", "stop")).write_empty()?;
            }
            if !e.is_rest() && e.tie_start {
                w.create_element("tie").with_attribute(("type", "start")).write_empty()?;
            }
            text(w, "voice", &voice)?;
            if let (Some(v), false) = (value, whole_rest) {
                text(w, "type", v.type_name)?;
                for _ in 0..v.dots {
                    w.create_element("dot").write_empty()?;
                }
                if v.triplet {
                    w.create_element("time-modification").write_inner_content(|w| {
                        text(w, "actual-notes", "3")?;
                        text(w, "normal-notes", "2")?;
                        Ok(())
                    })?;
                }
            }
            text(w, "staff", &staff)?;
            let tup = tuplet.filter(|_| i == 0);
            if ties || tup.is_some() {
                w.create_element("notations").write_inner_content(|w| {
                    if ties && e.tie_stop {
                        w.create_element("tied").with_attribute(("type", "stop")).write_empty()?;
                    }
                    if ties && e.tie_start {
                        w.create_element("tied").with_attribute(("type", "start")).write_empty()?;
                    }
                    if let Some(t) = tup {
                        w.create_element("tuplet").with_attribute(("type", t)).write_empty()?;
                    }
                    Ok(())
                })?;
            }
            Ok(())
        })?;
    }
    Ok(())
}
