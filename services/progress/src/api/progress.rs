//! `jazz.progress.v1.ProgressService` (public): RecordProgress and
//! ListProgressRecords here, the summary in `summary`, the review queue and
//! the mastery matrix in `learning`, recommendations in `recommend`. The
//! review schedule is kept by AddPracticeRecord.

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection as _;
use jazz_contract::jazz::progress::v1::progress_service_server::ProgressService;
use jazz_contract::jazz::progress::v1::{
    GetMasteryMatrixRequest, GetMasteryMatrixResponse, GetProgressSummaryRequest, GetProgressSummaryResponse,
    GetRecommendationsRequest, GetRecommendationsResponse, GetReviewQueueRequest, GetReviewQueueResponse,
    ListProgressRecordsRequest, ListProgressRecordsResponse, RecordProgressRequest, RecordProgressResponse,
};
use jazz_platform::audit::AuditEntry;
use jazz_platform::error::Violations;
use jazz_platform::ids::{new_id, parse_optional_id, to_api};
use jazz_platform::page_token::last_of_page;
use jazz_platform::{Principal, ServiceContext};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::replay;
use super::{convert, learning, page, recommend, summary};
use crate::domain::fields;
use crate::error::ProgressError;
use crate::peers::Peers;
use crate::store::models::ProgressRow;
use crate::store::progress::{self as store, ProgressFilter};
use jazz_platform::as_user;
use jazz_platform::page_token::PageSigner;

/// Handlers of `ProgressService`.
pub struct ProgressApi {
    /// Pool, key and configuration.
    pub(super) context: ServiceContext,
    /// Content and identity.
    pub(super) peers: Peers,
    /// Signs page tokens.
    pub(super) pages: PageSigner,
}

impl ProgressApi {
    /// Handlers over the service's shared context and peer clients.
    pub fn new(context: ServiceContext, peers: Peers) -> Self {
        let pages = PageSigner::new(&context.config.principal_secret, "progress");
        Self { context, peers, pages }
    }
}

async fn record(
    api: &ProgressApi,
    principal: &Principal,
    me: Uuid,
    req: RecordProgressRequest,
) -> Result<RecordProgressResponse, ProgressError> {
    let now = Utc::now();
    let mut v = Violations::new();
    let skill_area = v.check(fields::skill_area("skill_area", &req.skill_area));
    let difficulty = match v.check(fields::difficulty("difficulty", req.difficulty)) {
        Some(None) => {
            v.push(jazz_platform::error::FieldViolation::new("difficulty", "is required"));
            None
        }
        other => other.flatten(),
    };
    let score = v.check(fields::percent("score", req.score)).flatten();
    let minutes = v.check(fields::int_range("minutes", req.minutes, 0, 600));
    let completion_rate = v.check(fields::percent("completion_rate", req.completion_rate)).flatten();
    let content_id = v.check(parse_optional_id("content_id", &req.content_id)).flatten();
    let notes = v.check(fields::notes(&req.notes)).flatten();
    let recorded_at = v.check(fields::event_time("recorded_at", req.recorded_at.as_ref(), now));
    let request_id = v.check(jazz_platform::fields::request_id("request_id", &req.request_id)).flatten();
    v.finish().map_err(ProgressError::Invalid)?;
    let (Some(skill_area), Some(difficulty), Some(minutes), Some(recorded_at)) =
        (skill_area, difficulty, minutes, recorded_at)
    else {
        return Err(ProgressError::Invalid(Vec::new()));
    };
    let replay = replay::of("RecordProgress", me, request_id, &req);
    let mut conn = api.context.pool.get().await?;
    if let Some(first) = replay.first(&mut conn).await? {
        return Ok(first);
    }
    if let Some(item) = content_id {
        api.peers.visible_item(me, item).await?;
    }
    let row = ProgressRow {
        id: new_id(),
        user_id: me,
        generated_content_id: content_id,
        skill_area,
        difficulty_level: difficulty.to_owned(),
        score,
        time_spent: minutes,
        completion_rate,
        notes,
        metadata: None,
        recorded_at,
    };
    let result = conn
        .transaction(async |conn| {
            let row = store::insert(conn, &row).await?;
            AuditEntry::new(principal, "CREATE", "progress_records", Some(to_api(row.id)))
                .with_change(None, Some(convert::progress_json(&row)))
                .write(conn)
                .await?;
            let response = RecordProgressResponse { record: Some(convert::progress(&row)) };
            replay.remember(conn, &response).await?;
            Ok(response)
        })
        .await;
    replay.settle(&mut conn, result).await
}

async fn list(
    api: &ProgressApi,
    _principal: &Principal,
    me: Uuid,
    req: ListProgressRecordsRequest,
) -> Result<ListProgressRecordsResponse, ProgressError> {
    let ListProgressRecordsRequest { skill_area, start_time, end_time, page_size, page_token } = req;
    let mut v = Violations::new();
    let area = if skill_area.is_empty() { None } else { v.check(fields::skill_area("skill_area", &skill_area)) };
    let start = v.check(jazz_platform::fields::time("start_time", start_time.as_ref())).flatten();
    let end = v.check(jazz_platform::fields::time("end_time", end_time.as_ref())).flatten();
    let size = v.check(jazz_platform::fields::page_size(page_size));
    v.finish().map_err(ProgressError::Invalid)?;
    let size = size.unwrap_or(jazz_platform::fields::DEFAULT_PAGE_SIZE);
    let micros = |at: Option<DateTime<Utc>>| at.map(|at| at.timestamp_micros().to_string()).unwrap_or_default();
    let binding = format!("progress:{}:{skill_area}:{}:{}", to_api(me), micros(start), micros(end));
    let after = page::position(&api.pages, &binding, &page_token)?;
    let mut conn = api.context.pool.get().await?;
    let filter = ProgressFilter { user: me, skill_area: area, start, end, after };
    let mut rows = store::list(&mut conn, filter, size + 1).await?;
    let next_page_token = match last_of_page(&mut rows, size) {
        Some(last) => page::token(&api.pages, &binding, last.recorded_at, last.id),
        None => String::new(),
    };
    Ok(ListProgressRecordsResponse { records: rows.iter().map(convert::progress).collect(), next_page_token })
}

#[tonic::async_trait]
impl ProgressService for ProgressApi {
    async fn record_progress(
        &self,
        request: Request<RecordProgressRequest>,
    ) -> Result<Response<RecordProgressResponse>, Status> {
        as_user!(self, request, record)
    }

    async fn list_progress_records(
        &self,
        request: Request<ListProgressRecordsRequest>,
    ) -> Result<Response<ListProgressRecordsResponse>, Status> {
        as_user!(self, request, list)
    }

    async fn get_progress_summary(
        &self,
        request: Request<GetProgressSummaryRequest>,
    ) -> Result<Response<GetProgressSummaryResponse>, Status> {
        as_user!(self, request, summary::summary)
    }

    async fn get_recommendations(
        &self,
        request: Request<GetRecommendationsRequest>,
    ) -> Result<Response<GetRecommendationsResponse>, Status> {
        as_user!(self, request, recommend::recommendations)
    }

    async fn get_review_queue(
        &self,
        request: Request<GetReviewQueueRequest>,
    ) -> Result<Response<GetReviewQueueResponse>, Status> {
        as_user!(self, request, learning::review_queue)
    }

    async fn get_mastery_matrix(
        &self,
        request: Request<GetMasteryMatrixRequest>,
    ) -> Result<Response<GetMasteryMatrixResponse>, Status> {
        as_user!(self, request, learning::mastery_matrix)
    }
}
