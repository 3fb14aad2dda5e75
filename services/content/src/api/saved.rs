//! The caller's saved entries and collections. Only visible items can be
//! saved (another user's private item is NOT_FOUND); starting a new
//! collection consumes one "saved_collections" unit.

use chrono::Utc;
use diesel_async::AsyncConnection as _;
use jazz_contract::jazz::content::v1::*;
use jazz_platform::Principal;
use jazz_platform::audit::AuditEntry;
use jazz_platform::error::{FieldViolation, Violations};
use jazz_platform::ids::{new_id, parse_id, to_api};
use uuid::Uuid;

use super::content::ContentApi;
use super::{convert, pages};
use crate::billing::{self, feature};
use crate::domain::fields;
use crate::error::ContentError;
use crate::store::models::{SavedChanges, SavedRow};
use crate::store::{content, saved};

/// Consumes a "saved_collections" unit when `collection` is new to `me`.
async fn charge_new_collection(
    api: &ContentApi,
    me: Uuid,
    collection: Option<&str>,
    request_id: Option<&str>,
) -> Result<Option<String>, ContentError> {
    let Some(name) = collection else { return Ok(None) };
    let mut conn = api.context.pool.get().await?;
    if saved::collection_exists(&mut conn, me, name).await? {
        return Ok(None);
    }
    drop(conn);
    let key = billing::grant_key("collection", me, request_id);
    api.quota.consume(me, feature::SAVED_COLLECTIONS, 1, &key).await?;
    Ok(Some(key))
}

/// `SaveContent`.
pub async fn save(
    api: &ContentApi,
    principal: &Principal,
    me: Uuid,
    req: SaveContentRequest,
) -> Result<SaveContentResponse, ContentError> {
    let SaveContentRequest { content_id, collection_name, notes, is_favorite, request_id } = req;
    let mut v = Violations::new();
    let content_id = v.check(parse_id("content_id", &content_id));
    let collection = v.check(fields::collection("collection_name", &collection_name)).flatten();
    let notes = v.check(fields::text("notes", &notes)).flatten();
    let request_id = v.check(jazz_platform::fields::request_id("request_id", &request_id)).flatten();
    v.finish().map_err(ContentError::Invalid)?;
    let Some(content_id) = content_id else { return Err(ContentError::Invalid(Vec::new())) };
    let mut conn = api.context.pool.get().await?;
    let item = content::visible(&mut conn, me, content_id).await?.ok_or(ContentError::NotFound)?;
    if let Some(existing) = saved::of_item(&mut conn, me, content_id).await? {
        return Err(ContentError::AlreadySaved { saved_content_id: to_api(existing.id) });
    }
    drop(conn);
    let grant = charge_new_collection(api, me, collection.as_deref(), request_id.as_deref()).await?;
    let now = Utc::now();
    let row = SavedRow {
        id: new_id(),
        user_id: me,
        generated_content_id: content_id,
        collection_name: collection,
        notes,
        is_favorite,
        created_at: now,
        updated_at: now,
    };
    let mut conn = api.context.pool.get().await?;
    let result = conn
        .transaction(async |conn| {
            let row = saved::insert(conn, &row).await?;
            AuditEntry::new(principal, "CONTENT_SAVE", "saved_content", Some(to_api(row.id)))
                .with_change(None, Some(row.audit_json()))
                .write(conn)
                .await?;
            Ok::<_, ContentError>(row)
        })
        .await;
    let row = match result {
        Ok(row) => row,
        Err(error) => {
            if let Some(key) = grant {
                api.quota.refund(me, &key).await;
            }
            if matches!(error, ContentError::Store(jazz_platform::error::StoreError::UniqueViolation(_))) {
                let existing = saved::of_item(&mut conn, me, content_id).await?;
                let id = existing.map(|e| to_api(e.id)).unwrap_or_default();
                return Err(ContentError::AlreadySaved { saved_content_id: id });
            }
            return Err(error);
        }
    };
    let mut content = convert::listed(&item);
    content.saved_content_id = to_api(row.id);
    Ok(SaveContentResponse { saved_content: Some(convert::saved(&row, Some(content))) })
}

/// `UpdateSavedContent`.
pub async fn update(
    api: &ContentApi,
    principal: &Principal,
    me: Uuid,
    req: UpdateSavedContentRequest,
) -> Result<UpdateSavedContentResponse, ContentError> {
    let UpdateSavedContentRequest { saved_content, update_mask } = req;
    let paths = update_mask.map(|m| m.paths).unwrap_or_default();
    if paths.is_empty() {
        return Err(ContentError::field("update_mask", "must name at least one field"));
    }
    let entry = saved_content.unwrap_or_default();
    let id = parse_id("saved_content.id", &entry.id)?;
    let mut v = Violations::new();
    let mut changes = SavedChanges::default();
    for path in &paths {
        match path.as_str() {
            "collection_name" => {
                changes.collection_name =
                    v.check(fields::collection("saved_content.collection_name", &entry.collection_name))
            }
            "notes" => changes.notes = v.check(fields::text("saved_content.notes", &entry.notes)),
            "is_favorite" => changes.is_favorite = Some(entry.is_favorite),
            other => v.push(FieldViolation::new(
                "update_mask",
                format!("{other:?} cannot be changed; allowed: collection_name, notes, is_favorite"),
            )),
        }
    }
    v.finish().map_err(ContentError::Invalid)?;
    let mut conn = api.context.pool.get().await?;
    let current = saved::own_for_update(&mut conn, me, id).await?.ok_or(ContentError::NotFound)?;
    drop(conn);
    let moving_to =
        changes.collection_name.clone().flatten().filter(|name| current.collection_name.as_ref() != Some(name));
    let grant = charge_new_collection(api, me, moving_to.as_deref(), None).await?;
    let mut conn = api.context.pool.get().await?;
    let result = conn
        .transaction(async |conn| {
            let before = saved::own_for_update(conn, me, id).await?.ok_or(ContentError::NotFound)?;
            let after = saved::update(conn, id, &changes).await?;
            AuditEntry::new(principal, "SAVED_CONTENT_UPDATE", "saved_content", Some(to_api(id)))
                .with_change(Some(before.audit_json()), Some(after.audit_json()))
                .write(conn)
                .await?;
            Ok::<_, ContentError>(after)
        })
        .await;
    let row = match result {
        Ok(row) => row,
        Err(error) => {
            if let Some(key) = grant {
                api.quota.refund(me, &key).await;
            }
            return Err(error);
        }
    };
    let item = content::visible(&mut conn, me, row.generated_content_id).await?;
    Ok(UpdateSavedContentResponse { saved_content: Some(convert::saved(&row, item.as_ref().map(convert::listed))) })
}

/// `UnsaveContent`.
pub async fn unsave(
    api: &ContentApi,
    principal: &Principal,
    me: Uuid,
    req: UnsaveContentRequest,
) -> Result<UnsaveContentResponse, ContentError> {
    let id = parse_id("id", &req.id)?;
    let mut conn = api.context.pool.get().await?;
    conn.transaction(async |conn| {
        let row = saved::delete(conn, me, id).await?.ok_or(ContentError::NotFound)?;
        AuditEntry::new(principal, "CONTENT_UNSAVE", "saved_content", Some(to_api(id)))
            .with_change(Some(row.audit_json()), None)
            .write(conn)
            .await?;
        Ok::<_, ContentError>(())
    })
    .await?;
    Ok(UnsaveContentResponse {})
}

/// `ListSavedContent`.
pub async fn list(
    api: &ContentApi,
    _principal: &Principal,
    me: Uuid,
    req: ListSavedContentRequest,
) -> Result<ListSavedContentResponse, ContentError> {
    let ListSavedContentRequest { collection_name, favorites_only, view, page_size, page_token } = req;
    let collection = match &collection_name {
        None => None,
        Some(name) => Some(fields::collection("collection_name", name)?),
    };
    let size = jazz_platform::fields::page_size(page_size)?;
    let binding = format!("ListSavedContent:{}:{collection:?}:{favorites_only}", to_api(me));
    let after = pages::time_cursor(api, &binding, &page_token)?;
    let mut conn = api.context.pool.get().await?;
    let collection_ref = collection.as_ref().map(|c| c.as_deref());
    let mut rows = saved::list(&mut conn, me, collection_ref, favorites_only, after, size + 1).await?;
    let next_page_token =
        pages::next(&mut rows, size, |(entry, _, _)| pages::encode_time(api, &binding, entry.created_at, entry.id));
    let full = convert::is_full(view, false);
    let items: Vec<_> = rows
        .iter()
        .map(|(entry, row, liked)| crate::store::models::Listed {
            row: row.clone(),
            liked: *liked,
            saved_id: Some(entry.id),
        })
        .collect();
    let contents = super::library::render(&mut conn, &items, full).await?;
    let saved_contents =
        rows.iter().zip(contents).map(|((entry, _, _), content)| convert::saved(entry, Some(content))).collect();
    Ok(ListSavedContentResponse { saved_contents, next_page_token })
}

/// `ListCollections`.
pub async fn collections(
    api: &ContentApi,
    _principal: &Principal,
    me: Uuid,
    req: ListCollectionsRequest,
) -> Result<ListCollectionsResponse, ContentError> {
    let ListCollectionsRequest { page_size, page_token } = req;
    let size = jazz_platform::fields::page_size(page_size)?;
    let binding = format!("ListCollections:{}", to_api(me));
    // Names may hold any character, so the position is the name in hex.
    let after = match page_token.is_empty() {
        true => None,
        false => {
            let hex = api.pages.decode(&binding, &page_token, 1)?.pop().unwrap_or_default();
            Some(from_hex(&hex).ok_or(ContentError::InvalidPageToken)?)
        }
    };
    let mut conn = api.context.pool.get().await?;
    let mut rows = saved::collections(&mut conn, me, after.as_deref(), size + 1).await?;
    let next_page_token = pages::next(&mut rows, size, |last| api.pages.encode(&binding, &[to_hex(&last.name)]));
    let collections = rows
        .iter()
        .map(|row| Collection {
            name: row.name.clone(),
            item_count: i32::try_from(row.item_count).unwrap_or(i32::MAX),
            favorite_count: i32::try_from(row.favorite_count).unwrap_or(i32::MAX),
            last_saved_at: Some(convert::timestamp(row.last_saved_at)),
        })
        .collect();
    Ok(ListCollectionsResponse { collections, next_page_token })
}

fn to_hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(hex: &str) -> Option<String> {
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| hex.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
        .collect();
    bytes.and_then(|b| String::from_utf8(b).ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn collection_positions_round_trip() {
        for name in ["", "Warm-ups", "a|b", "Ballades à la Evans"] {
            assert_eq!(super::from_hex(&super::to_hex(name)).as_deref(), Some(name));
        }
        assert_eq!(super::from_hex("zz"), None);
    }
}
