//! `jazz.content.v1.ContentInternalService` (internal; service principals
//! only): content references and expected notes for progress, the user
//! purge, content's audit log (the platform's `ListAuditLogs`) and the
//! day's figures for the metrics job.

use diesel_async::AsyncConnection as _;
use jazz_contract::jazz::content::v1::content_internal_service_server::ContentInternalService;
use jazz_contract::jazz::content::v1::*;
use jazz_platform::ServiceContext;
use jazz_platform::audit::AuditEntry;
use jazz_platform::audit_list::{self, AuditListRequest};
use jazz_platform::blocking::blocking;
use jazz_platform::daily::{UtcDay, count, figure};
use jazz_platform::db::PooledConn;
use jazz_platform::erasure;
use jazz_platform::error::Violations;
use jazz_platform::ids::{parse_id, to_api};
use jazz_platform::outbox::{self, events};
use jazz_platform::page_token::PageSigner;
use jazz_platform::principal::principal_of;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::domain::{expected, vocab};
use crate::error::ContentError;
use crate::store::models::ContentRow;
use crate::store::{content, saved, social};

/// Handlers of `ContentInternalService`.
pub struct ContentInternalApi {
    context: ServiceContext,
    /// Signs the audit log's page tokens.
    pages: PageSigner,
}

impl ContentInternalApi {
    /// Handlers over the service's shared context.
    pub fn new(context: ServiceContext) -> Self {
        let pages = PageSigner::new(&context.config.principal_secret, "content");
        Self { context, pages }
    }
}

fn reference(content_id: &str, row: Option<&ContentRow>, user: Uuid) -> ContentRef {
    let exists = row.is_some_and(|r| r.deleted_at.is_none());
    let visible = exists && row.is_some_and(|r| r.user_id == user || r.is_public);
    let mut out = ContentRef { content_id: content_id.to_owned(), exists, visible, ..Default::default() };
    if let (true, Some(row)) = (visible, row) {
        let mode = row.parameters.get("mode").and_then(serde_json::Value::as_str).unwrap_or_default();
        out.owner_user_id = to_api(row.user_id);
        out.r#type = vocab::type_pb(&row.content_type);
        out.key = row.key.clone().unwrap_or_default();
        out.mode = vocab::mode_pb(mode);
        out.difficulty = vocab::difficulty_pb(&row.difficulty);
        out.title = row.title.clone();
    }
    out
}

impl ContentInternalApi {
    /// The item `content_id` as `user_id` may know it: its reference, and
    /// its row when visible (with the connection that read it).
    async fn load_ref(
        &self,
        content_id: &str,
        user_id: &str,
    ) -> Result<(ContentRef, Option<(ContentRow, PooledConn)>), ContentError> {
        let mut v = Violations::new();
        let id = v.check(parse_id("content_id", content_id));
        let user = v.check(parse_id("user_id", user_id));
        v.finish().map_err(ContentError::Invalid)?;
        let (Some(id), Some(user)) = (id, user) else { return Err(ContentError::Invalid(Vec::new())) };
        let mut conn = self.context.pool.get().await?;
        let row = content::by_id(&mut conn, id).await?;
        let reference = reference(content_id, row.as_ref(), user);
        let visible = row.filter(|_| reference.visible).map(|row| (row, conn));
        Ok((reference, visible))
    }

    async fn get_ref(&self, req: GetContentRefRequest) -> Result<GetContentRefResponse, ContentError> {
        let (reference, _) = self.load_ref(&req.content_id, &req.user_id).await?;
        Ok(GetContentRefResponse { r#ref: Some(reference) })
    }

    /// GetExpectedNotes: the engine regenerates the item when its stored
    /// parameters allow (off the runtime: a head takes milliseconds in
    /// debug builds), else the stored `music_data` is read.
    async fn expected_notes(&self, req: GetExpectedNotesRequest) -> Result<GetExpectedNotesResponse, ContentError> {
        let (reference, visible) = self.load_ref(&req.content_id, &req.user_id).await?;
        let Some((row, mut conn)) = visible else {
            return Ok(GetExpectedNotesResponse { r#ref: Some(reference), ..Default::default() });
        };
        let score = match expected::regeneration(&row.parameters) {
            Some(request) => {
                drop(conn);
                blocking(move || jazz_music::generate(&request))
                    .await?
                    .map_err(|e| ContentError::Corrupt(e.to_string()))?
                    .score
            }
            None => {
                let music = content::music_of(&mut conn, row.id).await?.ok_or(ContentError::NotFound)?;
                serde_json::from_value(music.music_data).map_err(|e| ContentError::Corrupt(e.to_string()))?
            }
        };
        Ok(expected::response(reference, &score))
    }

    async fn purge(
        &self,
        principal: &jazz_platform::Principal,
        req: PurgeUserRequest,
    ) -> Result<PurgeUserResponse, ContentError> {
        let PurgeUserRequest { event_id, user_id, schema_version: _ } = req; // version: checked by the handler
        let mut v = Violations::new();
        let event = v.check(parse_id("event_id", &event_id));
        let user = v.check(parse_id("user_id", &user_id));
        v.finish().map_err(ContentError::Invalid)?;
        let (Some(event), Some(user)) = (event, user) else { return Err(ContentError::Invalid(Vec::new())) };
        let mut conn = self.context.pool.get().await?;
        conn.transaction(async |conn| {
            if !outbox::mark_processed(conn, event, events::USER_PURGED).await? {
                return Ok(PurgeUserResponse { duplicate: true });
            }
            let likes = social::purge_likes(conn, user).await?;
            let entries = saved::purge(conn, user).await?;
            let items = content::purge_owned(conn, user).await?;
            // The items' past events (their soft deletes name the owner)
            // go with the user's; each item's final `hard` event follows.
            let item_ids: Vec<String> = items.iter().map(|id| to_api(*id)).collect();
            let forgotten = erasure::forget_user(conn, user, &[super::replay::SCOPE_PREFIX], &item_ids).await?;
            for id in &item_ids {
                // No user id: the event outlives the purge in content's outbox.
                let payload = serde_json::json!({"content_id": id, "hard": true});
                outbox::enqueue(conn, events::CONTENT_DELETED, id, payload).await?;
            }
            // The entry keeps what was erased, not whose it was.
            AuditEntry::new(principal, "USER_PURGE", "generated_content", None)
                .with_change(
                    None,
                    Some(serde_json::json!({
                        "items": items.len(),
                        "likes": likes,
                        "saved": entries,
                        "replays": forgotten.replays,
                        "outbox_events": forgotten.outbox_events,
                        "audit_entries_anonymised": forgotten.audit_entries,
                    })),
                )
                .write(conn)
                .await?;
            Ok::<_, ContentError>(PurgeUserResponse { duplicate: false })
        })
        .await
    }
}

#[tonic::async_trait]
impl ContentInternalService for ContentInternalApi {
    async fn get_content_ref(
        &self,
        request: Request<GetContentRefRequest>,
    ) -> Result<Response<GetContentRefResponse>, Status> {
        principal_of(&request)?.require_service()?;
        Ok(Response::new(self.get_ref(request.into_inner()).await?))
    }

    async fn batch_get_content_refs(
        &self,
        request: Request<BatchGetContentRefsRequest>,
    ) -> Result<Response<BatchGetContentRefsResponse>, Status> {
        principal_of(&request)?.require_service()?;
        let BatchGetContentRefsRequest { content_ids, user_id } = request.into_inner();
        if content_ids.is_empty() || content_ids.len() > 200 {
            return Err(ContentError::field("content_ids", "must hold 1–200 ids").into());
        }
        let mut refs: Vec<ContentRef> = Vec::new();
        for content_id in content_ids {
            if refs.iter().any(|r| r.content_id == content_id) {
                continue;
            }
            let one = self.get_ref(GetContentRefRequest { content_id, user_id: user_id.clone() }).await?;
            refs.extend(one.r#ref);
        }
        Ok(Response::new(BatchGetContentRefsResponse { refs }))
    }

    async fn get_expected_notes(
        &self,
        request: Request<GetExpectedNotesRequest>,
    ) -> Result<Response<GetExpectedNotesResponse>, Status> {
        principal_of(&request)?.require_service()?;
        Ok(Response::new(self.expected_notes(request.into_inner()).await?))
    }

    async fn purge_user(&self, request: Request<PurgeUserRequest>) -> Result<Response<PurgeUserResponse>, Status> {
        let principal = principal_of(&request)?.clone();
        principal.require_service()?;
        jazz_platform::outbox::accept_version(events::USER_PURGED, request.get_ref().schema_version)?;
        Ok(Response::new(self.purge(&principal, request.into_inner()).await?))
    }

    async fn list_audit_logs(
        &self,
        request: Request<ListAuditLogsRequest>,
    ) -> Result<Response<ListAuditLogsResponse>, Status> {
        principal_of(&request)?.require_service()?;
        let ListAuditLogsRequest { user_id, start_time, end_time, page_size, page_token } = request.into_inner();
        let request = AuditListRequest { user_id, start_time, end_time, page_size, page_token };
        let page = audit_list::list_page(&self.context.pool, "content", &self.pages, request)
            .await
            .map_err(ContentError::from)?;
        Ok(Response::new(ListAuditLogsResponse { entries: page.entries, next_page_token: page.next_page_token }))
    }

    /// "ai_generations": the total, and per content type (dimension "type").
    async fn get_daily_figures(
        &self,
        request: Request<GetDailyFiguresRequest>,
    ) -> Result<Response<GetDailyFiguresResponse>, Status> {
        principal_of(&request)?.require_service()?;
        let day = UtcDay::parse("date", &request.into_inner().date).map_err(|v| ContentError::Invalid(vec![v]))?;
        let mut conn = self.context.pool.get().await.map_err(ContentError::from)?;
        let per_type = content::generated_between(&mut conn, day.start, day.end).await.map_err(ContentError::from)?;
        let total = per_type.iter().map(|(_, n)| n).sum();
        let mut figures = vec![figure("ai_generations", count(total), &[])];
        figures.extend(per_type.iter().map(|(kind, n)| figure("ai_generations", count(*n), &[("type", kind)])));
        Ok(Response::new(GetDailyFiguresResponse { figures }))
    }

    async fn find_residue(
        &self,
        request: Request<FindResidueRequest>,
    ) -> Result<Response<FindResidueResponse>, Status> {
        principal_of(&request)?.require_service()?;
        let FindResidueRequest { user_id, email } = request.into_inner();
        let columns =
            jazz_platform::residue::serve(&self.context.pool, "content", &user_id, &email, crate::RESIDUE_KEPT).await?;
        Ok(Response::new(FindResidueResponse { columns }))
    }
}
