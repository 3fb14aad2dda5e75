//! The caller's library: GetContent, BatchGetContent, ListMyContent,
//! UpdateContent, DeleteContent (soft, with a content-deleted outbox event)
//! and UndeleteContent. Another user's private or deleted item answers
//! exactly like an unknown id.

use chrono::Utc;
use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use jazz_contract::jazz::content::v1::*;
use jazz_platform::Principal;
use jazz_platform::audit::AuditEntry;
use jazz_platform::error::{FieldViolation, Violations};
use jazz_platform::ids::{parse_id, to_api};
use jazz_platform::outbox::{self, events};
use uuid::Uuid;

use super::content::ContentApi;
use super::{convert, pages};
use crate::domain::fields;
use crate::domain::filter::Filter;
use crate::error::ContentError;
use crate::store::content::{self, RETENTION_DAYS};
use crate::store::models::{ContentChanges, Listed};

/// Items in the API form; with the music when `full`.
pub async fn render(
    conn: &mut AsyncPgConnection,
    items: &[Listed],
    full: bool,
) -> Result<Vec<GeneratedContent>, ContentError> {
    let mut out: Vec<GeneratedContent> = items.iter().map(convert::listed).collect();
    if full && !items.is_empty() {
        let ids: Vec<Uuid> = items.iter().map(|i| i.row.id).collect();
        let mut music = content::music(conn, &ids).await?;
        for (message, item) in out.iter_mut().zip(items) {
            if let Some(at) = music.iter().position(|m| m.id == item.row.id) {
                convert::add_music(message, &item.row, music.swap_remove(at));
            }
        }
    }
    Ok(out)
}

/// `GetContent`.
pub async fn get(
    api: &ContentApi,
    _principal: &Principal,
    me: Uuid,
    req: GetContentRequest,
) -> Result<GetContentResponse, ContentError> {
    let GetContentRequest { id, view } = req;
    let id = parse_id("id", &id)?;
    let mut conn = api.context.pool.get().await?;
    let content = if convert::is_full(view, true) {
        let (item, music) = content::visible_with_music(&mut conn, me, id).await?.ok_or(ContentError::NotFound)?;
        let mut content = convert::listed(&item);
        convert::add_music(&mut content, &item.row, music);
        content
    } else {
        convert::listed(&content::visible(&mut conn, me, id).await?.ok_or(ContentError::NotFound)?)
    };
    Ok(GetContentResponse { content: Some(content) })
}

/// `BatchGetContent`.
pub async fn batch_get(
    api: &ContentApi,
    _principal: &Principal,
    me: Uuid,
    req: BatchGetContentRequest,
) -> Result<BatchGetContentResponse, ContentError> {
    let BatchGetContentRequest { ids, view } = req;
    if ids.is_empty() || ids.len() > 100 {
        return Err(ContentError::field("ids", "must hold 1–100 ids"));
    }
    let mut v = Violations::new();
    let mut wanted: Vec<(String, Uuid)> = Vec::new();
    for (i, text) in ids.iter().enumerate() {
        if let Some(id) = v.check(parse_id(&format!("ids[{i}]"), text))
            && !wanted.iter().any(|(_, w)| *w == id)
        {
            wanted.push((text.clone(), id));
        }
    }
    v.finish().map_err(ContentError::Invalid)?;
    let mut conn = api.context.pool.get().await?;
    let found = content::visible_many(&mut conn, me, &wanted.iter().map(|(_, id)| *id).collect::<Vec<_>>()).await?;
    let ordered: Vec<Listed> =
        wanted.iter().filter_map(|(_, id)| found.iter().find(|f| f.row.id == *id).cloned()).collect();
    let not_found_ids =
        wanted.iter().filter(|(_, id)| !found.iter().any(|f| f.row.id == *id)).map(|(t, _)| t.clone()).collect();
    let contents = render(&mut conn, &ordered, convert::is_full(view, false)).await?;
    Ok(BatchGetContentResponse { contents, not_found_ids })
}

/// `ListMyContent`.
pub async fn list_mine(
    api: &ContentApi,
    _principal: &Principal,
    me: Uuid,
    req: ListMyContentRequest,
) -> Result<ListMyContentResponse, ContentError> {
    let ListMyContentRequest { filter, show_deleted, view, page_size, page_token } = req;
    let filter = Filter::parse(filter.as_ref()).map_err(ContentError::Invalid)?;
    let size = jazz_platform::fields::page_size(page_size)?;
    let binding = format!("ListMyContent:{}:{show_deleted}:{}", to_api(me), filter.binding());
    let after = pages::time_cursor(api, &binding, &page_token)?;
    let mut conn = api.context.pool.get().await?;
    let mut rows = content::list_mine(&mut conn, me, &filter, show_deleted, after, size + 1).await?;
    let next_page_token =
        pages::next(&mut rows, size, |last| pages::encode_time(api, &binding, last.row.created_at, last.row.id));
    let contents = render(&mut conn, &rows, convert::is_full(view, false)).await?;
    Ok(ListMyContentResponse { contents, next_page_token })
}

/// `UpdateContent`: title, description, tags, is_public only.
pub async fn update(
    api: &ContentApi,
    principal: &Principal,
    me: Uuid,
    req: UpdateContentRequest,
) -> Result<UpdateContentResponse, ContentError> {
    let UpdateContentRequest { content, update_mask } = req;
    let paths = update_mask.map(|m| m.paths).unwrap_or_default();
    if paths.is_empty() {
        return Err(ContentError::field("update_mask", "must name at least one field"));
    }
    let content = content.unwrap_or_default();
    let id = parse_id("content.id", &content.id)?;
    let mut v = Violations::new();
    let mut changes = ContentChanges::default();
    for path in &paths {
        match path.as_str() {
            "title" => changes.title = v.check(fields::title("content.title", &content.title)),
            "description" => changes.description = v.check(fields::text("content.description", &content.description)),
            "tags" => changes.tags = v.check(fields::tags("content.tags", &content.tags)),
            "is_public" => changes.is_public = Some(content.is_public),
            other => v.push(FieldViolation::new(
                "update_mask",
                format!("{other:?} cannot be changed; allowed: title, description, tags, is_public"),
            )),
        }
    }
    v.finish().map_err(ContentError::Invalid)?;
    let mut conn = api.context.pool.get().await?;
    let row = conn
        .transaction(async |conn| {
            let before = content::own_for_update(conn, me, id).await?;
            let before = before.filter(|r| r.deleted_at.is_none()).ok_or(ContentError::NotFound)?;
            let after = content::update(conn, id, &changes).await?;
            AuditEntry::new(principal, "CONTENT_UPDATE", "generated_content", Some(to_api(id)))
                .with_change(Some(before.audit_json()), Some(after.audit_json()))
                .write(conn)
                .await?;
            Ok::<_, ContentError>(after)
        })
        .await?;
    let item = content::visible(&mut conn, me, row.id).await?.ok_or(ContentError::NotFound)?;
    Ok(UpdateContentResponse { content: Some(convert::listed(&item)) })
}

/// `DeleteContent` (soft).
pub async fn delete(
    api: &ContentApi,
    principal: &Principal,
    me: Uuid,
    req: DeleteContentRequest,
) -> Result<DeleteContentResponse, ContentError> {
    let id = parse_id("id", &req.id)?;
    let mut conn = api.context.pool.get().await?;
    let row = conn
        .transaction(async |conn| {
            let before = content::own_for_update(conn, me, id).await?;
            let before = before.filter(|r| r.deleted_at.is_none()).ok_or(ContentError::NotFound)?;
            let after = content::set_deleted(conn, id, Some(Utc::now())).await?;
            let payload = serde_json::json!({
                "content_id": to_api(id),
                "user_id": to_api(me),
                "deleted_at": after.deleted_at,
                "purge_after": after.deleted_at.map(|at| at + chrono::Duration::days(RETENTION_DAYS)),
                "hard": false,
            });
            outbox::enqueue(conn, events::CONTENT_DELETED, &to_api(id), payload).await?;
            AuditEntry::new(principal, "CONTENT_DELETE", "generated_content", Some(to_api(id)))
                .with_change(Some(before.audit_json()), Some(after.audit_json()))
                .write(conn)
                .await?;
            Ok::<_, ContentError>(after)
        })
        .await?;
    Ok(DeleteContentResponse { content: Some(convert::basic(&row, false, None)) })
}

/// `UndeleteContent`, within the retention window.
pub async fn undelete(
    api: &ContentApi,
    principal: &Principal,
    me: Uuid,
    req: UndeleteContentRequest,
) -> Result<UndeleteContentResponse, ContentError> {
    let id = parse_id("id", &req.id)?;
    let horizon = Utc::now() - chrono::Duration::days(RETENTION_DAYS);
    let mut conn = api.context.pool.get().await?;
    let row = conn
        .transaction(async |conn| {
            let before = content::own_for_update(conn, me, id).await?.ok_or(ContentError::NotFound)?;
            match before.deleted_at {
                None => return Err(ContentError::NotDeleted),
                Some(at) if at <= horizon => return Err(ContentError::NotFound),
                Some(_) => {}
            }
            let after = content::set_deleted(conn, id, None).await?;
            AuditEntry::new(principal, "CONTENT_UNDELETE", "generated_content", Some(to_api(id)))
                .with_change(Some(before.audit_json()), Some(after.audit_json()))
                .write(conn)
                .await?;
            Ok(after)
        })
        .await?;
    let item = content::visible(&mut conn, me, row.id).await?.ok_or(ContentError::NotFound)?;
    Ok(UndeleteContentResponse { content: Some(convert::listed(&item)) })
}
