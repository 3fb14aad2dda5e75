//! The notes a player of an item is expected to strike
//! (`ContentInternalService.GetExpectedNotes`, for practice scoring): the
//! item regenerated from its stored parameters and seed where that gives
//! the stored music, and the expected notes read off the score.

use jazz_contract::jazz::content::v1::{ContentRef, ExpectedNote, GetExpectedNotesResponse};
use jazz_music::Score;
use serde_json::Value;

use super::params;

/// The engine request that regenerates an item, when its stored parameters
/// say the current engine made it from a seed: not for a transposed copy
/// (its music is the source's, moved), nor for an older engine version
/// (whose output the current engine need not repeat). `None`: use the
/// stored `music_data`.
pub fn regeneration(stored: &Value) -> Option<jazz_music::GenerationRequest> {
    let map = stored.as_object()?;
    let engine = map.get("engine_version").and_then(Value::as_u64)?;
    if map.contains_key("transposed_from") || engine != u64::from(jazz_music::ENGINE_VERSION) {
        return None;
    }
    let typed = params::typed(stored);
    typed.seed?;
    params::request(Some(&typed)).ok()
}

/// The response for a visible item and its score.
pub fn response(reference: ContentRef, score: &Score) -> GetExpectedNotesResponse {
    let divisions = f64::from(score.divisions.max(1));
    let notes = jazz_music::expected::expected_notes(score)
        .into_iter()
        .map(|n| ExpectedNote {
            note_id: n.id,
            pitch: i32::from(n.pitch),
            onset_beats: n.onset_beats,
            duration_beats: n.duration_beats,
            staff: i32::from(n.staff),
        })
        .collect();
    GetExpectedNotesResponse {
        r#ref: Some(reference),
        tempo_bpm: i32::try_from(score.tempo).unwrap_or(i32::MAX),
        beats_per_bar: f64::from(score.measure_len()) / divisions,
        swing: score.swing,
        bars: i32::try_from(score.measures.len()).unwrap_or(i32::MAX),
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jazz_contract::jazz::content::v1::GenerationParameters;

    fn stored_lick() -> (Value, Score) {
        let p = GenerationParameters {
            r#type: jazz_contract::jazz::common::v1::ContentType::JazzLick as i32,
            key: "Eb".into(),
            seed: Some(21),
            ..Default::default()
        };
        let Ok(request) = params::request(Some(&p)) else { panic!("bad parameters") };
        let Ok(item) = jazz_music::generate(&request) else { panic!("generation failed") };
        (params::stored(&item.parameters), item.score)
    }

    #[test]
    fn stored_parameters_regenerate_the_stored_score() {
        let (stored, score) = stored_lick();
        let again = regeneration(&stored).and_then(|r| jazz_music::generate(&r).ok());
        assert_eq!(again.map(|i| i.score), Some(score.clone()));
        let answer = response(ContentRef::default(), &score);
        assert_eq!(answer.beats_per_bar, 4.0);
        assert!(!answer.notes.is_empty() && answer.notes[0].note_id.starts_with("m1.e"));
    }

    #[test]
    fn transposed_or_older_items_are_read_not_regenerated() {
        let (stored, _) = stored_lick();
        let mut transposed = stored.clone();
        transposed["transposed_from"] = Value::from("01J00000000000000000000000");
        assert!(regeneration(&transposed).is_none());
        let mut older = stored;
        older["engine_version"] = Value::from(0);
        assert!(regeneration(&older).is_none());
        assert!(regeneration(&Value::Null).is_none());
    }
}
