//! Resolution: turns a [`GenerationRequest`] into typed, validated values,
//! filling every absent parameter with the default for the content type,
//! style and difficulty. Engine choices (key, scale, progression) draw from
//! their own seeded streams so an item regenerates identically from its
//! recorded parameters.

use crate::error::EngineError;
use crate::generate::scale_pattern::{self, Pattern};
use crate::key::{Key, Mode};
use crate::params::{ContentType, Difficulty, GenerationRequest, ResolvedParameters, Style};
use crate::pitch::{NoteName, Pitch};
use crate::progression::Progression;
use crate::rhythm::TimeSignature;
use crate::rng::{Rng, Stream};
use crate::scale::ScaleKind;
use crate::voicing::VoicingType;
use ContentType::*;
use Difficulty::*;

/// Version of the generation rules, recorded with every item.
pub const ENGINE_VERSION: u32 = 1;

/// Lowest and highest tempo accepted.
pub const TEMPO_RANGE: (u32, u32) = (40, 320);

/// Lowest and highest playable note (A0 and C8).
const PIANO: (i32, i32) = (21, 108);

/// Validated, typed parameters.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// Content type.
    pub content_type: ContentType,
    /// Key.
    pub key: Key,
    /// Tempo.
    pub tempo: u32,
    /// Meter.
    pub ts: TimeSignature,
    /// Style.
    pub style: Style,
    /// Difficulty.
    pub difficulty: Difficulty,
    /// Bars.
    pub bars: u32,
    /// Progression (absent for scale patterns).
    pub progression: Option<Progression>,
    /// Voicing.
    pub voicing: VoicingType,
    /// Melodic range, low and high.
    pub range: (Pitch, Pitch),
    /// Scale (scale patterns).
    pub scale: Option<ScaleKind>,
    /// Pattern (scale patterns).
    pub pattern: Option<Pattern>,
    /// Seed.
    pub seed: u64,
}

fn max_accidentals(d: Difficulty) -> i32 {
    match d {
        Beginner => 1,
        Intermediate => 3,
        Advanced => 5,
        Expert => 6,
    }
}

fn default_progression(ct: ContentType, mode: Mode, style: Style, d: Difficulty, rng: &mut Rng) -> Progression {
    let name = match (ct, mode, style, d) {
        (_, _, Style::Modal, _) => "modal-vamp",
        (CompletePiece | ChordProgression | Melody, Mode::Minor, Style::Blues, _)
        | (CompletePiece, Mode::Minor, _, _) => "minor-blues",
        (CompletePiece, _, _, Beginner) | (_, Mode::Major, Style::Blues, Beginner) => "blues",
        (CompletePiece, _, Style::Blues, _)
        | (CompletePiece, _, _, Intermediate)
        | (_, Mode::Major, Style::Blues, _) => "jazz-blues",
        (CompletePiece, _, _, _) => rng.pick_or(&["jazz-blues", "rhythm-changes"], "jazz-blues"),
        (_, Mode::Minor, _, _) => "minor-ii-v-i",
        (_, _, _, Beginner) | (JazzLick, _, _, Intermediate) => "ii-v-i",
        (_, _, _, Intermediate) => rng.pick_or(&["ii-v-i", "i-vi-ii-v", "iii-vi-ii-v"], "ii-v-i"),
        (JazzLick, _, _, _) => rng.pick_or(&["ii-v-i", "tritone-sub-ii-v-i", "backdoor-ii-v-i"], "ii-v-i"),
        (_, _, _, Advanced) => {
            rng.pick_or(&["ii-v-i", "i-vi-ii-v", "iii-vi-ii-v", "tritone-sub-ii-v-i", "backdoor-ii-v-i"], "ii-v-i")
        }
        (_, _, _, Expert) => rng.pick_or(
            &["iii-vi-ii-v", "tritone-sub-ii-v-i", "backdoor-ii-v-i", "cycle-of-fourths", "rhythm-changes-a"],
            "ii-v-i",
        ),
    };
    Progression::parse(name).unwrap_or(crate::progression::PROGRESSIONS[0])
}

fn default_scale(mode: Mode, d: Difficulty, rng: &mut Rng) -> ScaleKind {
    use ScaleKind::*;
    let pool: &[ScaleKind] = match (mode, d) {
        (Mode::Major, Beginner) => &[Ionian, MajorPentatonic],
        (Mode::Minor, Beginner) => &[Aeolian, MinorPentatonic],
        (Mode::Major, Intermediate) => &[Ionian, Lydian, Mixolydian, MajorPentatonic, BebopMajor, BebopDominant, Blues],
        (Mode::Minor, Intermediate) => &[Dorian, Aeolian, HarmonicMinor, MinorPentatonic, Blues, Phrygian],
        (Mode::Major, Advanced) => &[Lydian, Mixolydian, BebopDominant, BebopMajor, LydianDominant, MixolydianFlat6],
        (Mode::Minor, Advanced) => &[MelodicMinor, HarmonicMinor, Dorian, LocrianNatural2, DorianFlat2, Locrian],
        (Mode::Major, Expert) => &[Altered, DiminishedHalfWhole, WholeTone, LydianAugmented, LydianDominant],
        (Mode::Minor, Expert) => &[Altered, DiminishedWholeHalf, MelodicMinor, LocrianNatural2, DorianFlat2],
    };
    rng.pick_or(pool, Ionian)
}

fn default_pattern(d: Difficulty, rng: &mut Rng) -> Pattern {
    use Pattern::*;
    let pool: &[Pattern] = match d {
        Beginner => &[Straight, Thirds],
        Intermediate => &[Straight, Thirds, OneTwoThreeFive],
        Advanced => &[Thirds, OneTwoThreeFive, FourNoteGroups],
        Expert => &[OneTwoThreeFive, FourNoteGroups, Triplets],
    };
    rng.pick_or(pool, Straight)
}

fn default_voicing(ct: ContentType, style: Style, d: Difficulty) -> VoicingType {
    match (d, style, ct) {
        (Beginner, _, _) => VoicingType::Shell,
        (_, Style::Modal, _) => VoicingType::Quartal,
        (Advanced, _, ChordProgression) => VoicingType::Drop2,
        (Expert, _, ChordProgression | HarmonyExercise) => VoicingType::UpperStructure,
        _ => VoicingType::Rootless,
    }
}

fn default_tempo(style: Style, d: Difficulty) -> u32 {
    let base = match style {
        Style::Swing => 140,
        Style::Bebop => 200,
        Style::BossaNova => 140,
        Style::Ballad => 66,
        Style::Modal => 150,
        Style::Blues => 110,
    };
    let cap = match d {
        Beginner => 100,
        Intermediate => 160,
        Advanced => 220,
        Expert => 320,
    };
    base.min(cap)
}

fn default_range(ct: ContentType, key: Key, d: Difficulty) -> (i32, i32) {
    match ct {
        ScalePattern => {
            let pc = key.tonic.pc();
            let low = if pc <= 7 { 60 + pc } else { 48 + pc };
            (low, low + if d == Beginner { 12 } else { 24 })
        }
        JazzLick if d == Beginner => (60, 79),
        JazzLick if d == Expert => (55, 86),
        JazzLick => (57, 84),
        Melody | CompletePiece if d == Beginner => (60, 76),
        Melody | CompletePiece => (60, 81),
        ChordProgression | HarmonyExercise => (60, 84),
    }
}

fn parse_pitch(s: &str) -> Result<Pitch, EngineError> {
    let p = Pitch::parse(s)
        .ok_or_else(|| EngineError::invalid("range", format!("cannot read note {s:?}; expected e.g. C4, Bb3, F#5")))?;
    if !(PIANO.0..=PIANO.1).contains(&p.midi()) {
        return Err(EngineError::invalid("range", format!("{s} is outside the piano (A0–C8)")));
    }
    Ok(p)
}

/// Validates `req` and fills in defaults; `fallback_seed` is used when the
/// request has no seed.
pub fn resolve(req: &GenerationRequest, fallback_seed: u64) -> Result<Resolved, EngineError> {
    let seed = req.seed.unwrap_or(fallback_seed);
    let d = req.difficulty;
    let ct = req.content_type;
    let mode = req.mode.as_deref().map(str::parse::<Mode>).transpose()?;
    let key = match req.key.as_deref() {
        Some(k) => Key::parse(k, mode)?,
        None => {
            let mode = mode.unwrap_or(Mode::Major);
            let pool: Vec<Key> =
                Key::all24().into_iter().filter(|k| k.mode == mode && k.fifths().abs() <= max_accidentals(d)).collect();
            let fallback = Key { tonic: NoteName::new(crate::pitch::Step::C, 0), mode };
            Rng::new(seed, Stream::Key).pick_or(&pool, fallback)
        }
    };
    let tempo = match req.tempo {
        Some(t) if (TEMPO_RANGE.0..=TEMPO_RANGE.1).contains(&t) => Some(t),
        Some(t) => return Err(EngineError::invalid("tempo", format!("{t} bpm is outside 40–320"))),
        None => None,
    };
    let ts = req.time_signature.as_deref().map(TimeSignature::parse).transpose()?.unwrap_or(TimeSignature::FOUR_FOUR);
    let style = match req.style.as_deref() {
        Some(s) => Style::parse(s)?,
        None if ct == JazzLick && d != Beginner => Style::Bebop,
        None => Style::Swing,
    };
    let max_bars = if ct == JazzLick { 4 } else { 64 };
    if let Some(b) = req.bars
        && !(1..=max_bars).contains(&b)
    {
        return Err(EngineError::invalid("bars", format!("{b} bars; {ct} takes 1–{max_bars}")));
    }
    let progression = match (req.progression.as_deref(), ct) {
        (Some(p), _) => Some(Progression::parse(p)?),
        (None, ScalePattern) => None,
        (None, _) => Some(default_progression(ct, key.mode, style, d, &mut Rng::new(seed, Stream::Progression))),
    };
    let voicing = match req.voicing.as_deref() {
        Some(v) => VoicingType::parse(v)?,
        None => default_voicing(ct, style, d),
    };
    let (dlo, dhi) = default_range(ct, key, d);
    let low = match req.range_low.as_deref() {
        Some(s) => parse_pitch(s)?,
        None => Pitch::from_midi_named(dlo, key.spell_pc(dlo)),
    };
    let high = match req.range_high.as_deref() {
        Some(s) => parse_pitch(s)?,
        None if req.range_low.is_some() => {
            let m = (low.midi() + dhi - dlo).min(PIANO.1);
            Pitch::from_midi_named(m, key.spell_pc(m))
        }
        None => Pitch::from_midi_named(dhi, key.spell_pc(dhi)),
    };
    if low.midi() >= high.midi() {
        return Err(EngineError::invalid("range", format!("range_low {low} is not below range_high {high}")));
    }
    if high.midi() - low.midi() < 12 {
        return Err(EngineError::invalid("range", format!("{low}–{high} is narrower than an octave")));
    }
    let (scale, pattern) = if ct == ScalePattern {
        let mut rng = Rng::new(seed, Stream::Scale);
        let scale = match req.scale.as_deref() {
            Some(s) => ScaleKind::parse(s)?,
            None => default_scale(key.mode, d, &mut rng),
        };
        let pattern = match req.pattern.as_deref() {
            Some(p) => Pattern::parse(p)?,
            None => default_pattern(d, &mut rng),
        };
        (Some(scale), Some(pattern))
    } else {
        (None, None)
    };
    let bars = match (req.bars, ct, progression) {
        (Some(b), _, _) => b,
        (None, ScalePattern, _) => {
            let s = scale.unwrap_or(ScaleKind::Ionian);
            let p = pattern.unwrap_or(Pattern::Straight);
            scale_pattern::natural_bars(key, s, p, (low, high), ts, d).clamp(1, max_bars)
        }
        (None, JazzLick, _) => {
            if matches!(d, Beginner | Intermediate) {
                2
            } else {
                4
            }
        }
        (None, Melody, Some(p)) => p.natural_bars().clamp(8, max_bars),
        (None, _, Some(p)) => p.natural_bars().clamp(1, max_bars),
        (None, _, None) => 4,
    };
    Ok(Resolved {
        content_type: ct,
        key,
        tempo: tempo.unwrap_or_else(|| default_tempo(style, d)),
        ts,
        style,
        difficulty: d,
        bars,
        progression,
        voicing,
        range: (low, high),
        scale,
        pattern,
        seed,
    })
}

impl Resolved {
    /// The public record of these values.
    pub fn to_public(&self) -> ResolvedParameters {
        ResolvedParameters {
            content_type: self.content_type,
            key: self.key.tonic.to_string(),
            mode: self.key.mode.to_string(),
            tempo: self.tempo,
            time_signature: self.ts.to_string(),
            style: self.style.name().to_string(),
            difficulty: self.difficulty,
            bars: self.bars,
            progression: self.progression.map(|p| p.name.to_string()),
            voicing: self.voicing.name().to_string(),
            range_low: self.range.0.to_string(),
            range_high: self.range.1.to_string(),
            scale: self.scale.map(|s| s.name().to_string()),
            pattern: self.pattern.map(|p| p.name().to_string()),
            seed: self.seed,
            engine_version: ENGINE_VERSION,
        }
    }
}
