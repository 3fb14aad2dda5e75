//! Prints a few generated items as chord symbols and note names, bar by
//! bar, for musicians to check by eye (pasted into `docs/music.md`).
//!
//! Usage: `cargo run -p jazz-music --example golden`

use jazz_music::score::Score;
use jazz_music::{ContentType, Difficulty, GenerationRequest, generate};

fn show(score: &Score) -> String {
    let mut out = String::new();
    for m in &score.measures {
        let chords: Vec<String> = m.chords.iter().map(|c| format!("{}@{}", c.text, c.onset / 12 + 1)).collect();
        let line = |staff: u8| -> String {
            m.events
                .iter()
                .filter(|e| e.staff == staff)
                .map(|e| {
                    let p: Vec<String> = e.pitches.iter().map(|p| p.to_string()).collect();
                    let body = if p.is_empty() { "rest".to_string() } else { p.join("+") };
                    let tie = if e.tie_stop { "~" } else { "" };
                    format!("{tie}{body}/{}", e.duration)
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        out.push_str(&format!("bar {:>2} | {}\n  RH: {}\n  LH: {}\n", m.number, chords.join(" "), line(1), line(2)));
    }
    out
}

fn main() -> Result<(), jazz_music::EngineError> {
    let cases = [
        (ContentType::JazzLick, Difficulty::Intermediate, "Bb", None, 11),
        (ContentType::JazzLick, Difficulty::Expert, "C", None, 5),
        (ContentType::ChordProgression, Difficulty::Intermediate, "C", Some("ii-v-i"), 1),
        (ContentType::ScalePattern, Difficulty::Advanced, "F", None, 2),
        (ContentType::HarmonyExercise, Difficulty::Intermediate, "Eb", Some("iii-vi-ii-v"), 3),
        (ContentType::CompletePiece, Difficulty::Beginner, "F", None, 4),
    ];
    for (ct, d, key, prog, seed) in cases {
        let mut req = GenerationRequest::new(ct, d);
        req.key = Some(key.into());
        req.progression = prog.map(str::to_string);
        req.seed = Some(seed);
        let item = generate(&req)?;
        println!("### {}\n", item.title);
        println!("parameters: {}\n", serde_json::to_string(&item.parameters).unwrap_or_default());
        println!("```\n{}```\n", show(&item.score));
    }
    Ok(())
}
