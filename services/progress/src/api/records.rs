//! AddPracticeRecord: time on one content item in an open session. The
//! item is checked with content (visible to the caller) before anything is
//! written; the record, the item's review schedule (when a performance is
//! given), the audit entry and the replay row commit together.

use chrono::{Days, Utc};
use diesel_async::AsyncConnection as _;
use jazz_contract::jazz::common::v1::Difficulty;
use jazz_contract::jazz::progress::v1::{AddPracticeRecordRequest, AddPracticeRecordResponse};
use jazz_platform::Principal;
use jazz_platform::audit::AuditEntry;
use jazz_platform::error::Violations;
use jazz_platform::ids::{new_id, parse_id, to_api};
use uuid::Uuid;

use super::convert;
use super::practice::PracticeApi;
use super::replay;
use crate::domain::calendar::{local_date, zone};
use crate::domain::fields;
use crate::domain::practice::review;
use crate::error::ProgressError;
use crate::store::models::RecordRow;
use crate::store::{practice as store, progress as progress_store};

/// The stored difficulty of an API one (UNSPECIFIED → INTERMEDIATE, the
/// seed's default).
fn stored_difficulty(difficulty: Difficulty) -> &'static str {
    fields::difficulty("difficulty", difficulty.into()).ok().flatten().unwrap_or("INTERMEDIATE")
}

/// `AddPracticeRecord`.
pub async fn add(
    api: &PracticeApi,
    principal: &Principal,
    me: Uuid,
    req: AddPracticeRecordRequest,
) -> Result<AddPracticeRecordResponse, ProgressError> {
    let mut v = Violations::new();
    let session_id = v.check(parse_id("practice_session_id", &req.practice_session_id));
    let content_id = v.check(parse_id("content_id", &req.content_id));
    let minutes = v.check(fields::int_range("minutes", req.minutes, 1, 600));
    let repetitions = match req.repetitions {
        0 => Some(1),
        n => v.check(fields::int_range("repetitions", n, 1, 10_000)),
    };
    let difficulty = v.check(fields::difficulty("difficulty", req.difficulty)).flatten();
    let performance = v.check(fields::percent("performance", req.performance)).flatten();
    let notes = v.check(fields::notes(&req.notes)).flatten();
    let request_id = v.check(jazz_platform::fields::request_id("request_id", &req.request_id)).flatten();
    v.finish().map_err(ProgressError::Invalid)?;
    let (Some(session_id), Some(content_id), Some(minutes), Some(repetitions)) =
        (session_id, content_id, minutes, repetitions)
    else {
        return Err(ProgressError::Invalid(Vec::new()));
    };
    let replay = replay::of("AddPracticeRecord", me, request_id, &req);
    let mut conn = api.context.pool.get().await?;
    if let Some(first) = replay.first(&mut conn).await? {
        return Ok(first);
    }
    // Cheap checks before the peer call: the session is the caller's, open.
    let session = store::own_session(&mut conn, me, session_id, false).await?.ok_or(ProgressError::SessionNotFound)?;
    if session.ended_at.is_some() {
        return Err(ProgressError::SessionEnded);
    }
    let item = api.peers.visible_item(me, content_id).await?;
    let difficulty = difficulty.unwrap_or_else(|| stored_difficulty(item.difficulty));
    let now = Utc::now();
    let due_base = match performance {
        Some(_) => Some(local_date(now, zone(&api.peers.time_zone(me).await))),
        None => None,
    };
    let row = RecordRow {
        id: new_id(),
        practice_session_id: session_id,
        generated_content_id: content_id,
        time_spent: minutes,
        repetitions,
        difficulty: difficulty.to_owned(),
        performance,
        notes,
        created_at: now,
    };
    let result = conn
        .transaction(async |conn| {
            // Re-read under lock: the session may have ended meanwhile.
            let session =
                store::own_session(conn, me, session_id, true).await?.ok_or(ProgressError::SessionNotFound)?;
            if session.ended_at.is_some() {
                return Err(ProgressError::SessionEnded);
            }
            let row = store::insert_record(conn, &row).await?;
            if let (Some(p), Some(today)) = (performance, due_base) {
                let previous = progress_store::lock_schedule(conn, me, content_id).await?.unwrap_or_default();
                let next = review(previous, p);
                let interval = u64::try_from(next.interval_days).unwrap_or(1);
                let due = today.checked_add_days(Days::new(interval)).unwrap_or(today);
                progress_store::save_schedule(conn, me, content_id, next, due, p).await?;
            }
            AuditEntry::new(principal, "CREATE", "practice_records", Some(to_api(row.id)))
                .with_change(None, Some(convert::record_json(&row)))
                .write(conn)
                .await?;
            let response = AddPracticeRecordResponse { record: Some(convert::record(&row)) };
            replay.remember(conn, &response).await?;
            Ok(response)
        })
        .await;
    replay.settle(&mut conn, result).await
}
