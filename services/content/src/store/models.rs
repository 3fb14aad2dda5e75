//! Rows as loaded from and written to content's tables. `search_vector` is
//! in none of them (generated, read-only); the music columns are loaded
//! only for the FULL view ([`MusicRow`]).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::{generated_content, saved_content};

/// A `generated_content` row without the music (the BASIC view's columns).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = generated_content, check_for_backend(diesel::pg::Pg))]
pub struct ContentRow {
    /// ULID.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// `JAZZ_LICK` …
    #[diesel(column_name = type_)]
    pub content_type: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Stored parameters JSON.
    pub parameters: serde_json::Value,
    /// Rendered audio.
    pub audio_url: Option<String>,
    /// `BEGINNER` …
    pub difficulty: String,
    /// Tonic, e.g. `Bb`.
    pub key: Option<String>,
    /// BPM.
    pub tempo: Option<i32>,
    /// e.g. `4/4`.
    pub time_signature: Option<String>,
    /// Contract style name.
    pub style: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Visible to everyone.
    pub is_public: bool,
    /// Like counter.
    pub likes: i32,
    /// View counter.
    pub views: i32,
    /// Extra JSON.
    pub metadata: Option<serde_json::Value>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last edit.
    pub updated_at: DateTime<Utc>,
    /// Soft delete.
    pub deleted_at: Option<DateTime<Utc>>,
}

impl ContentRow {
    /// The fields an audit entry shows.
    pub fn audit_json(&self) -> serde_json::Value {
        serde_json::json!({
            "title": self.title,
            "description": self.description,
            "tags": self.tags,
            "is_public": self.is_public,
            "deleted_at": self.deleted_at,
        })
    }
}

/// A row with the caller's own facts about it.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The item.
    pub row: ContentRow,
    /// The caller likes it.
    pub liked: bool,
    /// The caller's saved entry for it.
    pub saved_id: Option<Uuid>,
}

/// The music of one item (FULL view only).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = generated_content, check_for_backend(diesel::pg::Pg))]
pub struct MusicRow {
    /// The item.
    pub id: Uuid,
    /// Engine JSON.
    pub music_data: serde_json::Value,
    /// MusicXML.
    pub music_xml: Option<String>,
}

/// A new `generated_content` row.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = generated_content)]
pub struct NewContent {
    /// ULID.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// `JAZZ_LICK` …
    #[diesel(column_name = type_)]
    pub content_type: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Stored parameters JSON.
    pub parameters: serde_json::Value,
    /// Engine JSON.
    pub music_data: serde_json::Value,
    /// MusicXML.
    pub music_xml: Option<String>,
    /// `BEGINNER` …
    pub difficulty: String,
    /// Tonic.
    pub key: Option<String>,
    /// BPM.
    pub tempo: Option<i32>,
    /// e.g. `4/4`.
    pub time_signature: Option<String>,
    /// Contract style name.
    pub style: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Extra JSON.
    pub metadata: Option<serde_json::Value>,
}

/// The edits UpdateContent may make (`None`: unchanged).
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = generated_content)]
pub struct ContentChanges {
    /// New title.
    pub title: Option<String>,
    /// New description (`Some(None)` clears it).
    pub description: Option<Option<String>>,
    /// New tags.
    pub tags: Option<Vec<String>>,
    /// New visibility.
    pub is_public: Option<bool>,
}

/// A `saved_content` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = saved_content, check_for_backend(diesel::pg::Pg))]
pub struct SavedRow {
    /// ULID.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// The item.
    pub generated_content_id: Uuid,
    /// Collection.
    pub collection_name: Option<String>,
    /// Notes.
    pub notes: Option<String>,
    /// Favourite.
    pub is_favorite: bool,
    /// Saved at.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// The edits UpdateSavedContent may make.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = saved_content)]
pub struct SavedChanges {
    /// New collection (`Some(None)`: out of any).
    pub collection_name: Option<Option<String>>,
    /// New notes.
    pub notes: Option<Option<String>>,
    /// New flag.
    pub is_favorite: Option<bool>,
}

impl SavedRow {
    /// The fields an audit entry shows.
    pub fn audit_json(&self) -> serde_json::Value {
        serde_json::json!({
            "content_id": jazz_platform::ids::to_api(self.generated_content_id),
            "collection_name": self.collection_name,
            "is_favorite": self.is_favorite,
        })
    }
}
