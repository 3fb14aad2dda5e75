//! Rows → API messages. The BASIC view leaves out `parameters`,
//! `music_data` and `music_xml`; FULL adds them from a [`MusicRow`].

use jazz_contract::jazz::content::v1::{ContentView, GeneratedContent, SavedContent};
use jazz_platform::ids::to_api;

use jazz_platform::json::{json_into_struct, json_to_struct};

use crate::domain::{params, vocab};
use crate::store::content::RETENTION_DAYS;
use crate::store::models::{ContentRow, Listed, MusicRow, SavedRow};

pub use jazz_platform::fields::timestamp;

/// Whether `view` (with the method's default) asks for FULL.
pub fn is_full(view: i32, default_full: bool) -> bool {
    match ContentView::try_from(view) {
        Ok(ContentView::Full) => true,
        Ok(ContentView::Basic) => false,
        Ok(ContentView::Unspecified) | Err(_) => default_full,
    }
}

/// An item in the BASIC view, with the caller's facts.
pub fn basic(row: &ContentRow, liked: bool, saved_id: Option<uuid::Uuid>) -> GeneratedContent {
    let stored_mode = row.parameters.get("mode").and_then(serde_json::Value::as_str).unwrap_or_default();
    GeneratedContent {
        id: to_api(row.id),
        user_id: to_api(row.user_id),
        r#type: vocab::type_pb(&row.content_type),
        title: row.title.clone(),
        description: row.description.clone().unwrap_or_default(),
        parameters: None,
        generation_parameters: Some(params::typed(&row.parameters)),
        music_data: None,
        music_xml: String::new(),
        audio_url: row.audio_url.clone().unwrap_or_default(),
        difficulty: vocab::difficulty_pb(&row.difficulty),
        key: row.key.clone().unwrap_or_default(),
        mode: vocab::mode_pb(stored_mode),
        tempo_bpm: row.tempo.unwrap_or_default(),
        time_signature: row.time_signature.clone().unwrap_or_default(),
        style: row.style.clone().unwrap_or_default(),
        tags: row.tags.clone(),
        is_public: row.is_public,
        likes: i64::from(row.likes),
        views: i64::from(row.views),
        liked_by_me: liked,
        saved_content_id: saved_id.map(to_api).unwrap_or_default(),
        metadata: row.metadata.as_ref().map(json_to_struct),
        created_at: Some(timestamp(row.created_at)),
        updated_at: Some(timestamp(row.updated_at)),
        deleted_at: row.deleted_at.map(timestamp),
        purge_time: row.deleted_at.map(|at| timestamp(at + chrono::Duration::days(RETENTION_DAYS))),
    }
}

/// A listed item in the BASIC view.
pub fn listed(item: &Listed) -> GeneratedContent {
    basic(&item.row, item.liked, item.saved_id)
}

/// Adds the FULL view's fields.
pub fn add_music(content: &mut GeneratedContent, row: &ContentRow, music: MusicRow) {
    content.parameters = Some(json_to_struct(&row.parameters));
    content.music_data = Some(json_into_struct(music.music_data));
    content.music_xml = music.music_xml.unwrap_or_default();
}

/// A saved entry with its item.
pub fn saved(entry: &SavedRow, content: Option<GeneratedContent>) -> SavedContent {
    SavedContent {
        id: to_api(entry.id),
        content_id: to_api(entry.generated_content_id),
        collection_name: entry.collection_name.clone().unwrap_or_default(),
        notes: entry.notes.clone().unwrap_or_default(),
        is_favorite: entry.is_favorite,
        content,
        created_at: Some(timestamp(entry.created_at)),
        updated_at: Some(timestamp(entry.updated_at)),
    }
}
