//! Diesel tables of `jazz_content` (`migrations/content`), written by hand
//! to match the SQL; see `docs/database.md`. The platform tables (audit log,
//! outbox, inbox, idempotency keys) are in `jazz_platform::schema`.

diesel::table! {
    use diesel::sql_types::*;
    use diesel_full_text_search::Tsvector;

    /// Practice material generated for a user (seed `GeneratedContent`).
    generated_content (id) {
        /// ULID.
        id -> Uuid,
        /// Owner (`jazz_identity`; no foreign key).
        user_id -> Uuid,
        /// `JAZZ_LICK`, `CHORD_PROGRESSION`, `SCALE_PATTERN`, `HARMONY_EXERCISE`,
        /// `MELODY` or `COMPLETE_PIECE` (SQL column `type`).
        #[sql_name = "type"]
        type_ -> Text,
        /// 1–200 chars.
        title -> Text,
        /// ≤ 5000 chars.
        description -> Nullable<Text>,
        /// Generation parameters used (≤ 64 KiB).
        parameters -> Jsonb,
        /// Notes, chords, ... from the music engine (≤ 4 MiB).
        music_data -> Jsonb,
        /// `MusicXML` (≤ 8 MiB).
        music_xml -> Nullable<Text>,
        /// Generated audio URL (≤ 2048 chars).
        audio_url -> Nullable<Text>,
        /// `BEGINNER`, `INTERMEDIATE`, `ADVANCED` or `EXPERT`.
        difficulty -> Text,
        /// Musical key (1–16 chars).
        key -> Nullable<Text>,
        /// BPM, 40–320.
        tempo -> Nullable<Int4>,
        /// e.g. `4/4`.
        time_signature -> Nullable<Text>,
        /// Jazz style or genre (1–64 chars).
        style -> Nullable<Text>,
        /// Searchable tags (≤ 50, no NULL elements).
        tags -> Array<Text>,
        /// Visible to everyone.
        is_public -> Bool,
        /// Like counter (≥ 0), changed by atomic SQL only.
        likes -> Int4,
        /// View counter (≥ 0), changed by atomic SQL only.
        views -> Int4,
        /// Additional data (≤ 64 KiB).
        metadata -> Nullable<Jsonb>,
        /// Row creation.
        created_at -> Timestamptz,
        /// Kept by trigger (not by counter changes).
        updated_at -> Timestamptz,
        /// Soft delete.
        deleted_at -> Nullable<Timestamptz>,
        /// GENERATED: title (A), tags (B), description (C). Read-only: keep it
        /// out of `Insertable` / `AsChangeset` / default `Selectable` structs.
        search_vector -> Tsvector,
    }
}

diesel::table! {
    /// Content a user saved, optionally in a named collection (seed `SavedContent`).
    saved_content (id) {
        /// ULID.
        id -> Uuid,
        /// Owner (`jazz_identity`; no foreign key).
        user_id -> Uuid,
        /// The saved item.
        generated_content_id -> Uuid,
        /// User-defined collection (1–100 chars).
        collection_name -> Nullable<Text>,
        /// The user's notes (≤ 5000 chars).
        notes -> Nullable<Text>,
        /// Marked as favourite.
        is_favorite -> Bool,
        /// Row creation.
        created_at -> Timestamptz,
        /// Kept by trigger.
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    /// Likes: one row per (content, user).
    content_likes (generated_content_id, user_id) {
        /// Who liked (`jazz_identity`; no foreign key).
        user_id -> Uuid,
        /// The liked item.
        generated_content_id -> Uuid,
        /// When.
        created_at -> Timestamptz,
    }
}

diesel::joinable!(saved_content -> generated_content (generated_content_id));
diesel::joinable!(content_likes -> generated_content (generated_content_id));

diesel::allow_tables_to_appear_in_same_query!(generated_content, saved_content, content_likes);
