//! Transposition of a stored score to another key of the same mode (the
//! twelve-key drill): every pitch and chord root moves by the spelled
//! interval between the tonics, by the shorter way (at most a tritone), and
//! is then re-spelled by the new key's rule.

use crate::error::EngineError;
use crate::key::Key;
use crate::pitch::Interval;
use crate::score::{ChordSymbol, KeySignature, Score};

/// `score` moved to `target` (e.g. `Eb`, `F#m`).
pub fn transpose(score: &Score, target: &str) -> Result<Score, EngineError> {
    let from = score.key.key()?;
    let to = match Key::parse(target, Some(from.mode)) {
        Err(e) if e.field() == "mode" => Key::parse(target, None)?,
        other => other?,
    };
    if to.mode != from.mode {
        return Err(EngineError::invalid(
            "key",
            format!("transposition keeps the mode: the score is in {}, not {}", from.mode, to.mode),
        ));
    }
    let up = Interval::between(from.tonic, to.tonic);
    let by = match up.semitones {
        s if s > 6 => Interval::new(up.steps - 7, s - 12),
        s if s < -6 => Interval::new(up.steps + 7, s + 12),
        _ => up,
    };
    let mut out = score.clone();
    out.key = KeySignature::of(to);
    let (old_name, new_name) = (from.tonic.pretty(), to.tonic.pretty());
    out.title = if let Some(rest) = score.title.strip_prefix(&format!("{old_name} ")) {
        format!("{new_name} {rest}")
    } else {
        score.title.replace(&format!(" in {old_name}"), &format!(" in {new_name}"))
    };
    for m in &mut out.measures {
        for c in &mut m.chords {
            let root = to.respell_root(c.root.up(by));
            *c = ChordSymbol::new(c.onset, crate::chord::Chord::new(root, c.quality));
        }
        for e in &mut m.events {
            for p in &mut e.pitches {
                *p = to.respell(p.transpose(by));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::{ContentType, Difficulty, GenerationRequest, generate};

    #[test]
    fn twelve_key_drill_keeps_intervals_and_spells_for_the_key() {
        let mut req = GenerationRequest::new(ContentType::JazzLick, Difficulty::Advanced);
        req.key = Some("C".into());
        req.seed = Some(3);
        let item = generate(&req).unwrap();
        let src: Vec<i32> = item.score.attacks().iter().map(|a| a.2.midi()).collect();
        for key in ["Bb", "F#", "Db", "B", "E"] {
            let t = item.score.transpose_to(key).unwrap();
            let dst: Vec<i32> = t.attacks().iter().map(|a| a.2.midi()).collect();
            let d = dst[0] - src[0];
            assert!(d.abs() <= 6);
            assert!(src.iter().zip(&dst).all(|(a, b)| b - a == d));
            let k = t.key.key().unwrap();
            for (_, _, p) in t.attacks() {
                if let Some(n) = k.diatonic_name(p.name().pc()) {
                    assert_eq!(n, p.name(), "{key}: {p}");
                }
            }
            assert!(t.title.contains(&k.tonic.pretty()), "{}", t.title);
        }
        assert_eq!(item.score.transpose_to("H").unwrap_err().field(), "key");
        assert_eq!(item.score.transpose_to("Am").unwrap_err().field(), "key");
    }
}
