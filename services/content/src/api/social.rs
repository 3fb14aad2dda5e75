//! LikeContent, UnlikeContent, RecordView. A like and its counter change
//! are one transaction (with the audit entry); a view is one autocommit
//! `UPDATE … SET views = views + 1`, so a popular item's row is locked only
//! for that statement and views need no audit row (a view is not a change
//! anyone made to the item).

use diesel_async::AsyncConnection as _;
use jazz_contract::jazz::content::v1::*;
use jazz_platform::Principal;
use jazz_platform::audit::AuditEntry;
use jazz_platform::ids::{parse_id, to_api};
use uuid::Uuid;

use super::content::ContentApi;
use crate::error::ContentError;
use crate::store::{content, social};

/// `LikeContent`.
pub async fn like(
    api: &ContentApi,
    principal: &Principal,
    me: Uuid,
    req: LikeContentRequest,
) -> Result<LikeContentResponse, ContentError> {
    let id = parse_id("id", &req.id)?;
    let mut conn = api.context.pool.get().await?;
    let likes = conn
        .transaction(async |conn| {
            content::visible(conn, me, id).await?.ok_or(ContentError::NotFound)?;
            let (likes, new) = social::like(conn, me, id).await?;
            if new {
                AuditEntry::new(principal, "CONTENT_LIKE", "content_likes", Some(to_api(id))).write(conn).await?;
            }
            Ok::<_, ContentError>(likes)
        })
        .await?;
    Ok(LikeContentResponse { likes: i64::from(likes), liked_by_me: true })
}

/// `UnlikeContent`.
pub async fn unlike(
    api: &ContentApi,
    principal: &Principal,
    me: Uuid,
    req: UnlikeContentRequest,
) -> Result<UnlikeContentResponse, ContentError> {
    let id = parse_id("id", &req.id)?;
    let mut conn = api.context.pool.get().await?;
    let likes = conn
        .transaction(async |conn| {
            content::visible(conn, me, id).await?.ok_or(ContentError::NotFound)?;
            let (likes, removed) = social::unlike(conn, me, id).await?;
            if removed {
                AuditEntry::new(principal, "CONTENT_UNLIKE", "content_likes", Some(to_api(id))).write(conn).await?;
            }
            Ok::<_, ContentError>(likes)
        })
        .await?;
    Ok(UnlikeContentResponse { likes: i64::from(likes), liked_by_me: false })
}

/// `RecordView`.
pub async fn view(
    api: &ContentApi,
    _principal: &Principal,
    me: Uuid,
    req: RecordViewRequest,
) -> Result<RecordViewResponse, ContentError> {
    let id = parse_id("id", &req.id)?;
    let mut conn = api.context.pool.get().await?;
    let views = social::view(&mut conn, me, id).await?.ok_or(ContentError::NotFound)?;
    Ok(RecordViewResponse { views: i64::from(views) })
}
