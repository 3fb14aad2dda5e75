//! The request, its enums, and the resolved parameters recorded with every
//! item. Parsing happens here ("parse, don't validate"): generators only
//! ever see typed values. Defaults live in `defaults.rs`.

use crate::error::EngineError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! upper_enum {
    ($(#[$m:meta])* $name:ident, $field:literal { $($(#[$vm:meta])* $var:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $s)] $var),+
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$var),+];

            /// The database / API name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$var => $s),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = EngineError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let up = s.trim().to_ascii_uppercase().replace([' ', '-'], "_");
                $name::ALL.iter().copied().find(|v| v.as_str() == up).ok_or_else(|| {
                    let names: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                    EngineError::invalid($field, format!("unknown value {s:?}; expected one of {}", names.join(", ")))
                })
            }
        }
    };
}

upper_enum!(
    /// The kind of item to generate; mirrors the database's `ContentType`.
    ContentType, "content_type" {
        /// A 1–4 bar line over a progression.
        JazzLick = "JAZZ_LICK",
        /// A progression with chord symbols and voicings.
        ChordProgression = "CHORD_PROGRESSION",
        /// A scale or mode in a pattern, up and down.
        ScalePattern = "SCALE_PATTERN",
        /// A voicing drill with a guide-tone line.
        HarmonyExercise = "HARMONY_EXERCISE",
        /// A motif-based melody over changes.
        Melody = "MELODY",
        /// A head: melody, chord symbols and comping.
        CompletePiece = "COMPLETE_PIECE",
    }
);

upper_enum!(
    /// Learner level; mirrors the database's `Difficulty`.
    Difficulty, "difficulty" {
        /// Diatonic, quarters and eighths, shells, few accidentals.
        Beginner = "BEGINNER",
        /// Chromatic approach notes, rootless voicings, up to three accidentals.
        Intermediate = "INTERMEDIATE",
        /// Enclosures, bebop scales, extensions, occasional triplets.
        Advanced = "ADVANCED",
        /// Chromatic enclosures, triplets, altered dominants, tritone subs, any key.
        Expert = "EXPERT",
    }
);

/// Playing style.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Style {
    /// Medium swing.
    Swing,
    /// Bebop: fast, eighth-note lines, bebop scales.
    Bebop,
    /// Bossa nova: straight eighths, syncopated comping.
    BossaNova,
    /// Ballad: slow, longer notes.
    Ballad,
    /// Modal: quartal voicings, vamps.
    Modal,
    /// Blues: blue notes, blues forms.
    Blues,
}

impl Style {
    /// Every style.
    pub const ALL: [Style; 6] =
        [Style::Swing, Style::Bebop, Style::BossaNova, Style::Ballad, Style::Modal, Style::Blues];

    /// API name.
    pub fn name(self) -> &'static str {
        match self {
            Style::Swing => "swing",
            Style::Bebop => "bebop",
            Style::BossaNova => "bossa-nova",
            Style::Ballad => "ballad",
            Style::Modal => "modal",
            Style::Blues => "blues",
        }
    }

    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            Style::BossaNova => "bossa nova",
            other => other.name(),
        }
    }

    /// Parses a style name (`bossa nova`, `Bossa_Nova`, `bossa`).
    pub fn parse(s: &str) -> Result<Style, EngineError> {
        let n = crate::progression::normalize_name(s);
        let n = if n == "bossa" || n == "bossanova" { "bossa-nova".to_string() } else { n };
        Style::ALL.into_iter().find(|st| st.name() == n).ok_or_else(|| {
            EngineError::invalid("style", format!("unknown style {s:?}; known: {}", crate::list_styles().join(", ")))
        })
    }

    /// Whether eighths swing on playback.
    pub fn swings(self) -> bool {
        !matches!(self, Style::BossaNova)
    }
}

/// What the caller asks for. Every field but `content_type` and
/// `difficulty` is optional; the engine fills in defaults and reports them
/// in [`ResolvedParameters`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenerationRequest {
    /// Which kind of item.
    pub content_type: ContentType,
    /// Key tonic: `C`, `Bb`, `F#`; a trailing `m` or ` minor` implies minor.
    pub key: Option<String>,
    /// `major` or `minor`.
    pub mode: Option<String>,
    /// Quarter notes per minute, 40–320.
    pub tempo: Option<u32>,
    /// `4/4`, `3/4` (2/4 to 7/4 accepted).
    pub time_signature: Option<String>,
    /// `swing`, `bebop`, `bossa-nova`, `ballad`, `modal`, `blues`.
    pub style: Option<String>,
    /// Learner level.
    pub difficulty: Difficulty,
    /// Length in bars (licks 1–4, everything else 1–64).
    pub bars: Option<u32>,
    /// Progression name, see [`crate::list_progressions`].
    pub progression: Option<String>,
    /// Voicing name, see [`crate::list_voicings`].
    pub voicing: Option<String>,
    /// Lowest note of the melodic range, e.g. `C4`.
    pub range_low: Option<String>,
    /// Highest note of the melodic range, e.g. `C6`.
    pub range_high: Option<String>,
    /// Scale for SCALE_PATTERN, see [`crate::list_scales`].
    pub scale: Option<String>,
    /// Pattern for SCALE_PATTERN, see [`crate::list_patterns`].
    pub pattern: Option<String>,
    /// Seed; absent means the engine picks one and reports it.
    pub seed: Option<u64>,
}

impl GenerationRequest {
    /// A request with every optional field absent.
    pub fn new(content_type: ContentType, difficulty: Difficulty) -> Self {
        Self {
            content_type,
            key: None,
            mode: None,
            tempo: None,
            time_signature: None,
            style: None,
            difficulty,
            bars: None,
            progression: None,
            voicing: None,
            range_low: None,
            range_high: None,
            scale: None,
            pattern: None,
            seed: None,
        }
    }
}

/// Every value the engine actually used, seed included; stored as the
/// item's `parameters` JSON. Feeding it back (via `From`) regenerates the
/// identical item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedParameters {
    /// Which kind of item.
    pub content_type: ContentType,
    /// Key tonic in ASCII, e.g. `Bb`.
    pub key: String,
    /// `major` or `minor`.
    pub mode: String,
    /// Tempo in bpm.
    pub tempo: u32,
    /// Time signature, e.g. `4/4`.
    pub time_signature: String,
    /// Style name.
    pub style: String,
    /// Learner level.
    pub difficulty: Difficulty,
    /// Length in bars.
    pub bars: u32,
    /// Progression name (absent for scale patterns, which use `scale`).
    pub progression: Option<String>,
    /// Voicing used for the chords.
    pub voicing: String,
    /// Lowest note of the melodic range.
    pub range_low: String,
    /// Highest note of the melodic range.
    pub range_high: String,
    /// Scale (scale patterns only).
    pub scale: Option<String>,
    /// Pattern (scale patterns only).
    pub pattern: Option<String>,
    /// The seed.
    pub seed: u64,
    /// Version of the generation rules; a different version may generate
    /// different music from the same parameters.
    pub engine_version: u32,
}

impl From<&ResolvedParameters> for GenerationRequest {
    fn from(p: &ResolvedParameters) -> Self {
        Self {
            content_type: p.content_type,
            key: Some(p.key.clone()),
            mode: Some(p.mode.clone()),
            tempo: Some(p.tempo),
            time_signature: Some(p.time_signature.clone()),
            style: Some(p.style.clone()),
            difficulty: p.difficulty,
            bars: Some(p.bars),
            progression: p.progression.clone(),
            voicing: Some(p.voicing.clone()),
            range_low: Some(p.range_low.clone()),
            range_high: Some(p.range_high.clone()),
            scale: p.scale.clone(),
            pattern: p.pattern.clone(),
            seed: Some(p.seed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_use_the_database_names() {
        assert_eq!(ContentType::JazzLick.to_string(), "JAZZ_LICK");
        assert_eq!("complete_piece".parse::<ContentType>().unwrap(), ContentType::CompletePiece);
        assert_eq!(serde_json::to_string(&Difficulty::Expert).unwrap(), r#""EXPERT""#);
        assert_eq!("Beginner".parse::<Difficulty>().unwrap(), Difficulty::Beginner);
        assert_eq!("novice".parse::<Difficulty>().unwrap_err().field(), "difficulty");
        assert_eq!(Style::parse("Bossa Nova").unwrap(), Style::BossaNova);
        assert_eq!(Style::parse("polka").unwrap_err().field(), "style");
    }
}
