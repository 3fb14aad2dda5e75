//! AddPracticeRecord: time on one content item in an open session. The
//! item is checked with content (visible to the caller) before anything is
//! written; the record, the item's review schedule (when a performance is
//! given), the audit entry and the replay row commit together. [`write`] is
//! also ScorePerformance's way in, so a scored take is a practice record
//! like any other. The item's
//! key, mode and skill area are copied onto the record (GetContentRef
//! answers them) so the matrix and the summary group without asking
//! content again.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use jazz_contract::jazz::common::v1::Difficulty;
use jazz_contract::jazz::progress::v1::{AddPracticeRecordRequest, AddPracticeRecordResponse};
use jazz_platform::Principal;
use jazz_platform::audit::AuditEntry;
use jazz_platform::db::PooledConn;
use jazz_platform::error::Violations;
use jazz_platform::ids::{new_id, parse_id, to_api};
use jazz_platform::replay::Replay;
use prost::Message;
use uuid::Uuid;

use super::convert;
use super::practice::PracticeApi;
use super::replay;
use crate::domain::calendar::zone;
use crate::domain::fields;
use crate::domain::mastery::record_facts;
use crate::domain::practice::review;
use crate::domain::review::due_date;
use crate::error::ProgressError;
use crate::peers::ItemFacts;
use crate::store::models::RecordRow;
use crate::store::scoring::ResultRow;
use crate::store::{practice as store, progress as progress_store, scoring as scoring_store};

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
    let now = Utc::now();
    let practiced_at = v.check(fields::event_time("practiced_at", req.practiced_at.as_ref(), now));
    v.finish().map_err(ProgressError::Invalid)?;
    let (Some(session_id), Some(content_id), Some(minutes), Some(repetitions), Some(practiced_at)) =
        (session_id, content_id, minutes, repetitions, practiced_at)
    else {
        return Err(ProgressError::Invalid(Vec::new()));
    };
    let replay = replay::of("AddPracticeRecord", me, request_id, &req);
    let mut conn = api.context.pool.get().await?;
    if let Some(first) = replay.first(&mut conn).await? {
        return Ok(first);
    }
    check_session(&mut conn, me, session_id, practiced_at).await?;
    let item = api.peers.visible_item(me, content_id).await?;
    let new =
        NewRecord { session_id, content_id, minutes, repetitions, difficulty, performance, notes, practiced_at, now };
    let respond = |row: &RecordRow| AddPracticeRecordResponse { record: Some(convert::record(row)) };
    write(api, principal, me, conn, &replay, new, &item, None, respond).await
}

/// A validated practice record of a visible item, about to be written.
pub(super) struct NewRecord {
    /// The caller's open session.
    pub session_id: Uuid,
    /// The item.
    pub content_id: Uuid,
    /// Minutes, 1–600.
    pub minutes: i32,
    /// Play-throughs.
    pub repetitions: i32,
    /// Stored difficulty; `None`: the item's.
    pub difficulty: Option<&'static str>,
    /// 0–100, when assessed (then the review schedule moves).
    pub performance: Option<f64>,
    /// Notes.
    pub notes: Option<String>,
    /// When it was practised.
    pub practiced_at: DateTime<Utc>,
    /// The call's time.
    pub now: DateTime<Utc>,
}

/// The cheap checks made before asking content: the session is the
/// caller's and open, and `practiced_at` is not before its start.
pub(super) async fn check_session(
    conn: &mut AsyncPgConnection,
    me: Uuid,
    session_id: Uuid,
    practiced_at: DateTime<Utc>,
) -> Result<(), ProgressError> {
    let session = store::own_session(conn, me, session_id, false).await?.ok_or(ProgressError::SessionNotFound)?;
    if session.ended_at.is_some() {
        return Err(ProgressError::SessionEnded);
    }
    if practiced_at < session.started_at {
        return Err(ProgressError::field("practiced_at", "must not be before the session's started_at"));
    }
    Ok(())
}

/// Writes a practice record of `item` — with, when assessed, the item's
/// review schedule; with `scored`, a scored take's judgement; its audit
/// entry; and the replay row of `respond`'s answer — in one transaction.
/// AddPracticeRecord and ScorePerformance both end here.
#[expect(clippy::too_many_arguments, reason = "one write path for two methods; each argument is distinct")]
pub(super) async fn write<R: Message + Default>(
    api: &PracticeApi,
    principal: &Principal,
    me: Uuid,
    mut conn: PooledConn,
    replay: &Replay,
    new: NewRecord,
    item: &ItemFacts,
    scored: Option<ResultRow>,
    respond: impl FnOnce(&RecordRow) -> R + Send,
) -> Result<R, ProgressError> {
    let NewRecord { session_id, content_id, minutes, repetitions, difficulty, performance, notes, practiced_at, now } =
        new;
    let difficulty = difficulty.unwrap_or_else(|| stored_difficulty(item.difficulty));
    let (key, mode, skill_area) = record_facts(item.kind, &item.key, item.mode);
    let tz = match performance {
        Some(_) => Some(zone(&api.peers.time_zone(me).await)),
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
        user_id: Some(me),
        practiced_at,
        key: key.map(str::to_owned),
        mode: Some(mode.as_str().to_owned()),
        skill_area: skill_area.map(str::to_owned),
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
            if let (Some(p), Some(tz)) = (performance, tz) {
                let previous = progress_store::lock_schedule(conn, me, content_id).await?.unwrap_or_default();
                let next = review(previous, p);
                let due = due_date(practiced_at, tz, next.interval_days);
                progress_store::save_schedule(conn, me, content_id, next, due, p, practiced_at).await?;
            }
            let mut audit = convert::record_json(&row);
            if let Some(scored) = scored {
                let scored = ResultRow { practice_record_id: row.id, ..scored };
                scoring_store::insert(conn, &scored).await?;
                audit["scored_take"] = serde_json::json!({"score": scored.score, "event_count": scored.event_count});
            }
            AuditEntry::new(principal, "CREATE", "practice_records", Some(to_api(row.id)))
                .with_change(None, Some(audit))
                .write(conn)
                .await?;
            let response = respond(&row);
            replay.remember(conn, &response).await?;
            Ok(response)
        })
        .await;
    replay.settle(&mut conn, result).await
}
