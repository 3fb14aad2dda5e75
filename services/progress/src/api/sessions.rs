//! Start, end, get and list practice sessions.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use jazz_contract::jazz::progress::v1::{
    EndPracticeSessionRequest, EndPracticeSessionResponse, GetPracticeSessionRequest, GetPracticeSessionResponse,
    ListPracticeSessionsRequest, ListPracticeSessionsResponse, PracticeSession, StartPracticeSessionRequest,
    StartPracticeSessionResponse,
};
use jazz_platform::Principal;
use jazz_platform::audit::AuditEntry;
use jazz_platform::error::Violations;
use jazz_platform::ids::{new_id, parse_id, to_api};
use jazz_platform::page_token::last_of_page;
use uuid::Uuid;

use super::practice::PracticeApi;
use super::replay;
use super::{convert, page};
use crate::domain::fields;
use crate::domain::practice::duration_minutes;
use crate::error::ProgressError;
use crate::store::models::SessionRow;
use crate::store::practice::{self as store, EndChanges, SessionFilter};

/// `StartPracticeSession`.
pub async fn start(
    api: &PracticeApi,
    principal: &Principal,
    me: Uuid,
    req: StartPracticeSessionRequest,
) -> Result<StartPracticeSessionResponse, ProgressError> {
    let now = Utc::now();
    let mut v = Violations::new();
    let title = v.check(fields::title(&req.title)).flatten();
    let goals = v.check(fields::items("goals", &req.goals)).unwrap_or_default();
    let started_at = v.check(fields::event_time("started_at", req.started_at.as_ref(), now)).unwrap_or(now);
    let request_id = v.check(jazz_platform::fields::request_id("request_id", &req.request_id)).flatten();
    v.finish().map_err(ProgressError::Invalid)?;
    let replay = replay::of("StartPracticeSession", me, request_id, &req);
    let mut conn = api.context.pool.get().await?;
    if let Some(first) = replay.first(&mut conn).await? {
        return Ok(first);
    }
    let row = SessionRow {
        id: new_id(),
        user_id: me,
        title,
        duration: 0,
        goals,
        achievements: Vec::new(),
        notes: None,
        rating: None,
        metadata: None,
        started_at,
        ended_at: None,
        created_at: now,
        updated_at: now,
    };
    let result = conn
        .transaction(async |conn| {
            let row = store::insert_session(conn, &row).await?;
            AuditEntry::new(principal, "CREATE", "practice_sessions", Some(to_api(row.id)))
                .with_change(None, Some(convert::session_json(&row)))
                .write(conn)
                .await?;
            let response = StartPracticeSessionResponse { session: Some(convert::session(&row, Vec::new(), 0, 0)) };
            replay.remember(conn, &response).await?;
            Ok(response)
        })
        .await;
    replay.settle(&mut conn, result).await
}

/// `EndPracticeSession`.
pub async fn end(
    api: &PracticeApi,
    principal: &Principal,
    me: Uuid,
    req: EndPracticeSessionRequest,
) -> Result<EndPracticeSessionResponse, ProgressError> {
    let now = Utc::now();
    let EndPracticeSessionRequest { id, achievements, notes, rating, ended_at } = req;
    let mut v = Violations::new();
    let id = v.check(parse_id("id", &id));
    let achievements = v.check(fields::items("achievements", &achievements)).unwrap_or_default();
    let notes = v.check(fields::notes(&notes)).flatten();
    let rating = rating.and_then(|r| v.check(fields::int_range("rating", r, 1, 5)));
    let ended_at = v.check(fields::event_time("ended_at", ended_at.as_ref(), now)).unwrap_or(now);
    v.finish().map_err(ProgressError::Invalid)?;
    let id = id.ok_or_else(|| ProgressError::Invalid(Vec::new()))?;
    let mut conn = api.context.pool.get().await?;
    let session = conn
        .transaction(async |conn| {
            let old = store::own_session(conn, me, id, true).await?.ok_or(ProgressError::SessionNotFound)?;
            if old.ended_at.is_some() {
                return Err(ProgressError::SessionEnded);
            }
            if ended_at < old.started_at {
                return Err(ProgressError::field("ended_at", "must not be before started_at"));
            }
            let records = store::records_of(conn, id).await?;
            let minutes: i64 = records.iter().map(|r| i64::from(r.time_spent)).sum();
            let changes = EndChanges {
                duration: duration_minutes(old.started_at, Some(ended_at), minutes),
                achievements,
                notes: Some(notes),
                rating,
                ended_at: Some(ended_at),
            };
            let row = store::end_session(conn, id, changes).await?;
            AuditEntry::new(principal, "UPDATE", "practice_sessions", Some(to_api(id)))
                .with_change(Some(convert::session_json(&old)), Some(convert::session_json(&row)))
                .write(conn)
                .await?;
            let count = i64::try_from(records.len()).unwrap_or(i64::MAX);
            Ok(convert::session(&row, records.iter().map(convert::record).collect(), count, minutes))
        })
        .await?;
    Ok(EndPracticeSessionResponse { session: Some(session) })
}

/// The caller's session with its records (two queries: the session, then
/// all its records).
pub async fn with_records(conn: &mut AsyncPgConnection, me: Uuid, id: Uuid) -> Result<PracticeSession, ProgressError> {
    let row = store::own_session(conn, me, id, false).await?.ok_or(ProgressError::SessionNotFound)?;
    let records = store::records_of(conn, id).await?;
    let minutes: i64 = records.iter().map(|r| i64::from(r.time_spent)).sum();
    let count = i64::try_from(records.len()).unwrap_or(i64::MAX);
    Ok(convert::session(&row, records.iter().map(convert::record).collect(), count, minutes))
}

/// `GetPracticeSession`.
pub async fn get(
    api: &PracticeApi,
    _principal: &Principal,
    me: Uuid,
    req: GetPracticeSessionRequest,
) -> Result<GetPracticeSessionResponse, ProgressError> {
    let id = parse_id("id", &req.id).map_err(|v| ProgressError::Invalid(vec![v]))?;
    let mut conn = api.context.pool.get().await?;
    Ok(GetPracticeSessionResponse { session: Some(with_records(&mut conn, me, id).await?) })
}

/// `ListPracticeSessions`: keyset pages on (started_at, id), tokens signed
/// and bound to the caller and the range.
pub async fn list(
    api: &PracticeApi,
    _principal: &Principal,
    me: Uuid,
    req: ListPracticeSessionsRequest,
) -> Result<ListPracticeSessionsResponse, ProgressError> {
    let ListPracticeSessionsRequest { start_time, end_time, page_size, page_token } = req;
    let mut v = Violations::new();
    let start = v.check(jazz_platform::fields::time("start_time", start_time.as_ref())).flatten();
    let end = v.check(jazz_platform::fields::time("end_time", end_time.as_ref())).flatten();
    let size = v.check(jazz_platform::fields::page_size(page_size));
    v.finish().map_err(ProgressError::Invalid)?;
    let size = size.unwrap_or(jazz_platform::fields::DEFAULT_PAGE_SIZE);
    let binding = format!("sessions:{}:{}:{}", to_api(me), micros(start), micros(end));
    let after = page::position(&api.pages, &binding, &page_token)?;
    let mut conn = api.context.pool.get().await?;
    let mut rows = store::list_sessions(&mut conn, SessionFilter { user: me, start, end, after }, size + 1).await?;
    let next_page_token = match last_of_page(&mut rows, size) {
        Some(last) => page::token(&api.pages, &binding, last.started_at, last.id),
        None => String::new(),
    };
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let totals = store::record_totals(&mut conn, &ids).await?;
    let sessions = rows
        .iter()
        .map(|row| {
            let (count, minutes) = totals.get(&row.id).copied().unwrap_or((0, 0));
            convert::session(row, Vec::new(), count, minutes)
        })
        .collect();
    Ok(ListPracticeSessionsResponse { sessions, next_page_token })
}

fn micros(at: Option<DateTime<Utc>>) -> String {
    at.map(|at| at.timestamp_micros().to_string()).unwrap_or_default()
}
