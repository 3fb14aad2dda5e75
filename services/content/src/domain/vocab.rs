//! The contract's names ↔ the engine's and the database's.
//!
//! The contract spells vocabulary in lower_snake_case (`bossa_nova`,
//! `tritone_sub_ii_v`, `rootless_alternating`), the engine in kebab-case
//! (`bossa-nova`, `tritone-sub-ii-v-i`, `rootless`); enums are the database's
//! upper-case names (`JAZZ_LICK`) in columns and the proto value names
//! (`CONTENT_TYPE_JAZZ_LICK`) in the stored parameters JSON.

use jazz_contract::jazz::common::v1::{ContentType, Difficulty, KeyMode};

/// Names where the contract and the engine differ by more than `_`/`-`:
/// (contract, engine).
const RENAMED: [(&str, &str); 4] = [
    ("tritone_sub_ii_v", "tritone-sub-ii-v-i"),
    ("backdoor_ii_v", "backdoor-ii-v-i"),
    ("rootless_alternating", "rootless"),
    ("1235", "1-2-3-5"),
];

/// A contract vocabulary value as the engine spells it (the engine accepts
/// `_` for `-` itself; only real renames need mapping).
pub fn to_engine(api: &str) -> String {
    let lower = api.trim().to_ascii_lowercase();
    RENAMED.iter().find(|(a, _)| *a == lower).map(|(_, e)| (*e).to_owned()).unwrap_or(lower)
}

/// An engine vocabulary value as the contract spells it.
pub fn to_api(engine: &str) -> String {
    RENAMED.iter().find(|(_, e)| *e == engine).map(|(a, _)| (*a).to_owned()).unwrap_or_else(|| engine.replace('-', "_"))
}

/// Normalises a client's style filter the way stored styles are spelled.
pub fn style_key(text: &str) -> String {
    text.trim().to_ascii_lowercase().replace(['-', ' '], "_")
}

/// The database name (`JAZZ_LICK`) of a proto content type; `None` for
/// UNSPECIFIED or an unknown number.
pub fn type_db(value: i32) -> Option<&'static str> {
    ContentType::try_from(value)
        .ok()
        .filter(|t| *t != ContentType::Unspecified)
        .and_then(|t| t.as_str_name().strip_prefix("CONTENT_TYPE_"))
}

/// The proto number of a database content type (0 when unknown).
pub fn type_pb(db: &str) -> i32 {
    ContentType::from_str_name(&format!("CONTENT_TYPE_{db}")).map_or(0, |t| t as i32)
}

/// The database name (`BEGINNER`) of a proto difficulty.
pub fn difficulty_db(value: i32) -> Option<&'static str> {
    Difficulty::try_from(value)
        .ok()
        .filter(|d| *d != Difficulty::Unspecified)
        .and_then(|d| d.as_str_name().strip_prefix("DIFFICULTY_"))
}

/// The proto number of a database difficulty (0 when unknown).
pub fn difficulty_pb(db: &str) -> i32 {
    Difficulty::from_str_name(&format!("DIFFICULTY_{db}")).map_or(0, |d| d as i32)
}

/// The engine's mode name (`major`/`minor`) of a proto mode: `Some(None)`
/// for UNSPECIFIED, `None` for an unknown number.
pub fn mode_engine(value: i32) -> Option<Option<&'static str>> {
    match KeyMode::try_from(value) {
        Ok(KeyMode::Unspecified) => Some(None),
        Ok(KeyMode::Major) => Some(Some("major")),
        Ok(KeyMode::Minor) => Some(Some("minor")),
        Err(_) => None,
    }
}

/// The proto value name stored in the parameters JSON for an engine mode.
pub fn mode_name(engine: &str) -> &'static str {
    if engine == "minor" { KeyMode::Minor.as_str_name() } else { KeyMode::Major.as_str_name() }
}

/// The proto number of a stored mode value name (0 when unknown).
pub fn mode_pb(name: &str) -> i32 {
    KeyMode::from_str_name(name).map_or(0, |m| m as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabulary_round_trips() {
        for engine in jazz_music::list_progressions()
            .into_iter()
            .chain(jazz_music::list_styles())
            .chain(jazz_music::list_voicings())
            .chain(jazz_music::list_scales())
            .chain(jazz_music::list_patterns())
        {
            let api = to_api(engine);
            assert!(!api.contains('-'), "{api}");
            assert_eq!(crate::domain::vocab::to_engine(&api).replace('_', "-"), engine, "{engine}");
        }
    }

    #[test]
    fn enums_map_both_ways() {
        assert_eq!(type_db(ContentType::JazzLick as i32), Some("JAZZ_LICK"));
        assert_eq!(type_pb("COMPLETE_PIECE"), ContentType::CompletePiece as i32);
        assert_eq!(type_db(0), None);
        assert_eq!(type_db(99), None);
        assert_eq!(difficulty_db(Difficulty::Expert as i32), Some("EXPERT"));
        assert_eq!(difficulty_pb("BEGINNER"), Difficulty::Beginner as i32);
        assert_eq!(mode_engine(2), Some(Some("minor")));
        assert!(mode_engine(7).is_none());
        assert_eq!(mode_pb(mode_name("minor")), KeyMode::Minor as i32);
    }
}
