//! The key × skill-area mastery matrix: key spelling (enharmonics merged
//! to one conventional name per pitch class and mode) and the grid that
//! lists every cell, practised or not. Pure; the store aggregates the
//! practised cells.

use chrono::{DateTime, Utc};

use jazz_contract::jazz::common::v1::{ContentType, KeyMode};

use super::practice::{RECOMMENDED_AREAS, skill_area_of};

/// Major or minor, as stored (`MAJOR`, `MINOR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    /// A major key.
    Major,
    /// A minor key.
    Minor,
}

impl Mode {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Major => "MAJOR",
            Self::Minor => "MINOR",
        }
    }

    /// The stored text back; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "MAJOR" => Some(Self::Major),
            "MINOR" => Some(Self::Minor),
            _ => None,
        }
    }
}

/// The twelve major tonics in chromatic order from C, conventionally spelled.
pub const MAJOR_KEYS: [&str; 12] = ["C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"];
/// The twelve minor tonics in chromatic order from C, conventionally spelled.
pub const MINOR_KEYS: [&str; 12] = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B"];

/// The axis of one mode.
pub fn keys_of(mode: Mode) -> &'static [&'static str; 12] {
    match mode {
        Mode::Major => &MAJOR_KEYS,
        Mode::Minor => &MINOR_KEYS,
    }
}

/// The pitch class (0 = C … 11 = B) of a tonic spelled with a letter and
/// optional ASCII or Unicode accidentals ("Bb", "A#", "Cb", "F♯", "Ebb");
/// `None` when it is not a tonic name.
pub fn pitch_class(tonic: &str) -> Option<u8> {
    // The engine's own note names: one reading of a spelling everywhere.
    jazz_music::pitch::NoteName::parse(tonic).and_then(|name| u8::try_from(name.pc().rem_euclid(12)).ok())
}

/// The conventional spelling of `tonic` in `mode` ("A#" minor → "Bb",
/// "Gb" major → "F#"); `None` when it is not a tonic name.
pub fn conventional(tonic: &str, mode: Mode) -> Option<&'static str> {
    let pc = pitch_class(tonic)?;
    keys_of(mode).get(usize::from(pc)).copied()
}

/// The facts a practice record copies from its item: conventional key,
/// mode (content's UNSPECIFIED is MAJOR) and skill area; each `None` when
/// the item does not say.
pub fn record_facts(
    kind: ContentType,
    tonic: &str,
    mode: KeyMode,
) -> (Option<&'static str>, Mode, Option<&'static str>) {
    let mode = if mode == KeyMode::Minor { Mode::Minor } else { Mode::Major };
    (conventional(tonic, mode), mode, skill_area_of(kind))
}

/// What the store aggregated for one practised cell.
#[derive(Debug, Clone, PartialEq)]
pub struct CellFacts {
    /// Conventional tonic.
    pub key: String,
    /// Mode.
    pub mode: Mode,
    /// Skill area.
    pub area: String,
    /// Minutes (all time).
    pub minutes: i64,
    /// Latest practice.
    pub last: Option<DateTime<Utc>>,
    /// Mean of the latest (up to) 5 performances.
    pub recent_average: Option<f64>,
}

/// The matrix: axes and one cell per key × area.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    /// (tonic, mode), major first.
    pub keys: Vec<(&'static str, Mode)>,
    /// The recommended areas, then the others practised, by name.
    pub areas: Vec<String>,
    /// Key-major order (every area of the first key, then the next key);
    /// untouched cells have 0 minutes and nothing else.
    pub cells: Vec<CellFacts>,
}

/// Builds the full grid for `modes` from the practised cells.
pub fn matrix(modes: &[Mode], practised: &[CellFacts]) -> Matrix {
    let keys: Vec<(&'static str, Mode)> =
        modes.iter().flat_map(|mode| keys_of(*mode).iter().map(move |k| (*k, *mode))).collect();
    let mut areas: Vec<String> = RECOMMENDED_AREAS.iter().map(|a| (*a).to_owned()).collect();
    let mut others: Vec<String> = practised
        .iter()
        .filter(|c| modes.contains(&c.mode) && !areas.contains(&c.area))
        .map(|c| c.area.clone())
        .collect();
    others.sort();
    others.dedup();
    areas.extend(others);
    let mut cells = Vec::with_capacity(keys.len() * areas.len());
    for (key, mode) in &keys {
        for area in &areas {
            let found = practised.iter().find(|c| c.key == *key && c.mode == *mode && c.area == *area);
            cells.push(found.cloned().unwrap_or_else(|| CellFacts {
                key: (*key).to_owned(),
                mode: *mode,
                area: area.clone(),
                minutes: 0,
                last: None,
                recent_average: None,
            }));
        }
    }
    Matrix { keys, areas, cells }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enharmonic_spellings_merge_to_the_conventional_name() {
        assert_eq!(conventional("A#", Mode::Minor), Some("Bb"));
        assert_eq!(conventional("Gb", Mode::Major), Some("F#"));
        assert_eq!(conventional("Cb", Mode::Major), Some("B"));
        assert_eq!(conventional("D#", Mode::Minor), Some("Eb"));
        assert_eq!(conventional("Db", Mode::Minor), Some("C#"));
        assert_eq!(conventional("F♯", Mode::Major), Some("F#"));
        assert_eq!(conventional("B#", Mode::Major), Some("C"));
        assert_eq!(conventional("H", Mode::Major), None);
        assert_eq!(
            conventional("Bx", Mode::Major),
            conventional("C#", Mode::Major),
            "B double-sharp, as the engine spells it"
        );
        assert_eq!(conventional("Bb#", Mode::Major), None);
        assert_eq!(conventional("", Mode::Major), None);
    }

    #[test]
    fn the_grid_lists_untouched_keys_as_empty_cells() {
        let practised = [CellFacts {
            key: "Bb".into(),
            mode: Mode::Major,
            area: "voice_leading".into(),
            minutes: 30,
            last: None,
            recent_average: Some(70.0),
        }];
        let m = matrix(&[Mode::Major], &practised);
        assert_eq!(m.keys.len(), 12);
        assert_eq!(m.areas.len(), RECOMMENDED_AREAS.len() + 1);
        assert_eq!(m.areas.last().map(String::as_str), Some("voice_leading"));
        assert_eq!(m.cells.len(), 12 * m.areas.len());
        let touched: Vec<&CellFacts> = m.cells.iter().filter(|c| c.minutes > 0).collect();
        assert_eq!(touched.len(), 1);
        assert!(m.cells.iter().filter(|c| c.key == "C").all(|c| c.minutes == 0 && c.recent_average.is_none()));
        let both = matrix(&[Mode::Major, Mode::Minor], &practised);
        assert_eq!(both.keys.len(), 24);
        assert_eq!(both.keys.get(12), Some(&("C", Mode::Minor)));
    }
}
