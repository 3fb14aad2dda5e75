//! Title, description and tags of an item, e.g. "ii–V–I lick in B♭ —
//! bebop, intermediate" with tags `lick`, `ii-v-i`, `bebop`, `b-flat-major`.

use crate::defaults::Resolved;
use crate::key::Mode;
use crate::params::ContentType;

/// (title, description, tags) for resolved parameters.
pub(crate) fn describe(p: &Resolved) -> (String, String, Vec<String>) {
    let key = match p.key.mode {
        Mode::Major => p.key.tonic.pretty(),
        Mode::Minor => format!("{} minor", p.key.tonic.pretty()),
    };
    let level = p.difficulty.as_str().to_ascii_lowercase();
    let style = p.style.label();
    let prog = p.progression.map_or("", |x| x.label);
    let scale = p.scale.map(|s| s.label()).unwrap_or_default();
    let pattern = p.pattern.map_or("", |x| x.label());
    let voicing = p.voicing.label();
    let (title, what, kind) = match p.content_type {
        ContentType::JazzLick => (
            format!("{prog} lick in {key} — {style}, {level}"),
            format!(
                "A {}-bar {style} line over a {prog} in {key}: chord tones on the strong beats, approach notes and passing tones in between",
                p.bars
            ),
            "lick",
        ),
        ContentType::ChordProgression => (
            format!("{prog} in {key} with {voicing} — {level}"),
            format!("The {prog} in {key} over {} bars, one voice-led chord per change using {voicing}", p.bars),
            "chord-progression",
        ),
        ContentType::ScalePattern => (
            format!("{} {scale} {pattern} — {level}", p.key.tonic.pretty()),
            format!(
                "The {} {scale} scale {pattern}, up and down from {} to {}",
                p.key.tonic.pretty(),
                p.range.0,
                p.range.1
            ),
            "scale-pattern",
        ),
        ContentType::HarmonyExercise => (
            format!("{} drill: {prog} in {key} — {level}", capitalize(voicing)),
            format!(
                "Play the {voicing} through the {prog} in {key} ({} bars); the right hand sings the guide-tone line",
                p.bars
            ),
            "harmony-exercise",
        ),
        ContentType::Melody => (
            format!("Melody over {prog} in {key} — {style}, {level}"),
            format!("A {}-bar motif-based {style} melody over the {prog} in {key}, with left-hand comping", p.bars),
            "melody",
        ),
        ContentType::CompletePiece => (
            format!("{} head in {key} — {style}, {level}", capitalize(prog)),
            format!("A {}-bar head on the {prog} in {key}: melody, chord symbols and left-hand comping", p.bars),
            "complete-piece",
        ),
    };
    let description = format!("{what}. {} at {} bpm in {}, {level}.", capitalize(style), p.tempo, p.ts);
    let mut tags: Vec<String> = vec![kind.to_string()];
    if let Some(pr) = p.progression {
        tags.push(pr.name.to_string());
    }
    if let Some(s) = p.scale {
        tags.push(s.name().to_string());
    }
    if let Some(x) = p.pattern {
        tags.push(x.name().to_string());
    }
    tags.push(p.style.name().to_string());
    tags.push(p.key.slug());
    tags.push(level);
    tags.push(p.voicing.name().to_string());
    tags.dedup();
    (title, description, tags)
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}
