//! GetReviewQueue and GetMasteryMatrix, and the lazy fill of the item facts
//! (key, mode, skill area) that practice records of an older release lack.
//! Rules are in `domain::review` and `domain::mastery`; SQL in
//! `store::learning`.

use chrono::{NaiveDate, Utc};
use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use jazz_contract::jazz::common::v1::KeyMode;
use jazz_contract::jazz::progress::v1::{
    GetMasteryMatrixRequest, GetMasteryMatrixResponse, GetReviewQueueRequest, GetReviewQueueResponse, MasteryCell,
    MasteryKey, ReviewItem,
};
use jazz_platform::Principal;
use jazz_platform::audit::AuditEntry;
use jazz_platform::error::{FieldViolation, Violations};
use jazz_platform::ids::{parse_id, to_api};
use jazz_platform::page_token::last_of_page;
use serde_json::json;
use uuid::Uuid;

use super::convert::key_mode;
use super::progress::ProgressApi;
use crate::domain::calendar::{local_date, zone};
use crate::domain::fields::timestamp;
use crate::domain::mastery::{CellFacts, Mode, matrix, record_facts};
use crate::domain::review::{MAX_DAYS_AHEAD, horizon, overdue_days, performance_rank};
use crate::error::ProgressError;
use crate::peers::Peers;
use crate::store::learning::{self as store, QueuePosition};

/// Items resolved per call by the lazy fill (older records only; new
/// records carry their facts).
const FILL_BATCH: i64 = 200;

/// Copies key, mode and skill area onto the user's older practice records
/// that lack them, asking content once for up to 200 items; items content
/// no longer shows keep their gap. One transaction with its audit entry.
pub async fn fill_missing_facts(
    conn: &mut AsyncPgConnection,
    peers: &Peers,
    principal: &Principal,
    me: Uuid,
) -> Result<(), ProgressError> {
    let items = store::unresolved_items(conn, me, FILL_BATCH).await?;
    if items.is_empty() {
        return Ok(());
    }
    let facts = peers.visible_items(me, &items).await?;
    let resolved: Vec<(Uuid, Option<&'static str>, Mode, &'static str)> = facts
        .iter()
        .filter_map(|(id, f)| {
            let (key, mode, area) = record_facts(f.kind, &f.key, f.mode);
            area.map(|area| (*id, key, mode, area))
        })
        .collect();
    if resolved.is_empty() {
        return Ok(());
    }
    conn.transaction(async |conn| {
        let mut filled = 0_usize;
        for (item, key, mode, area) in &resolved {
            filled += store::fill_facts(conn, me, *item, (*key, mode.as_str(), area)).await?;
        }
        let items: Vec<String> = resolved.iter().map(|(id, ..)| to_api(*id)).collect();
        AuditEntry::new(principal, "UPDATE", "practice_records", None)
            .by_user(me)
            .with_change(None, Some(json!({ "filled_item_facts": items, "records": filled })))
            .write(conn)
            .await?;
        Ok::<_, ProgressError>(())
    })
    .await
}

/// `GetReviewQueue`.
pub async fn review_queue(
    api: &ProgressApi,
    _principal: &Principal,
    me: Uuid,
    req: GetReviewQueueRequest,
) -> Result<GetReviewQueueResponse, ProgressError> {
    let GetReviewQueueRequest { page_size, page_token, days_ahead } = req;
    let mut v = Violations::new();
    let size = v.check(jazz_platform::fields::page_size(page_size));
    if !(0..=MAX_DAYS_AHEAD).contains(&days_ahead) {
        v.push(FieldViolation::new("days_ahead", "must be 0–30"));
    }
    v.finish().map_err(ProgressError::Invalid)?;
    let size = size.unwrap_or(jazz_platform::fields::DEFAULT_PAGE_SIZE);
    let today = local_date(Utc::now(), zone(&api.peers.time_zone(me).await));
    // Bound to the day: tomorrow's queue is another list.
    let binding = format!("review:{}:{days_ahead}:{today}", to_api(me));
    let after = queue_position(api, &binding, &page_token)?;
    let last_day = horizon(today, days_ahead);
    let mut conn = api.context.pool.get().await?;
    let mut rows = store::review_page(&mut conn, me, last_day, after, size + 1).await?;
    let total_due = store::due_count(&mut conn, me, today).await?;
    drop(conn);
    let next_page_token = match last_of_page(&mut rows, size) {
        Some(last) => api.pages.encode(
            &binding,
            &[
                last.due_on.to_string(),
                performance_rank(last.last_performance).to_string(),
                to_api(last.generated_content_id),
            ],
        ),
        None => String::new(),
    };
    // Items content no longer shows the learner (made private, deleted and
    // not yet purged) are left out of the page.
    let ids: Vec<Uuid> = rows.iter().map(|r| r.generated_content_id).collect();
    let visible: std::collections::HashSet<Uuid> = if ids.is_empty() {
        std::collections::HashSet::new()
    } else {
        api.peers.visible_items(me, &ids).await?.into_iter().map(|(id, _)| id).collect()
    };
    let items = rows
        .iter()
        .filter(|r| visible.contains(&r.generated_content_id))
        .map(|r| ReviewItem {
            content_id: to_api(r.generated_content_id),
            due_date: r.due_on.to_string(),
            overdue_days: overdue_days(today, r.due_on),
            interval_days: r.interval_days.max(1),
            ease: r.ease,
            last_performance: r.last_performance,
            last_practiced_at: r.last_practiced_at.map(timestamp),
            review_count: r.review_count,
        })
        .collect();
    Ok(GetReviewQueueResponse {
        items,
        next_page_token,
        total_due: i32::try_from(total_due).unwrap_or(i32::MAX),
        today: today.to_string(),
    })
}

fn queue_position(api: &ProgressApi, binding: &str, token: &str) -> Result<Option<QueuePosition>, ProgressError> {
    if token.is_empty() {
        return Ok(None);
    }
    if token.len() > 1024 {
        return Err(ProgressError::InvalidPageToken);
    }
    let parts = api.pages.decode(binding, token, 3)?;
    let [due, rank, item] = parts.as_slice() else { return Err(ProgressError::InvalidPageToken) };
    let due: NaiveDate = due.parse().map_err(|_| ProgressError::InvalidPageToken)?;
    let rank: f64 = rank.parse().map_err(|_| ProgressError::InvalidPageToken)?;
    let item = parse_id("page_token", item).map_err(|_| ProgressError::InvalidPageToken)?;
    Ok(Some((due, rank, item)))
}

/// The modes a matrix request asks for.
fn modes_of(mode: i32) -> Result<Vec<Mode>, ProgressError> {
    match KeyMode::try_from(mode) {
        Ok(KeyMode::Unspecified) => Ok(vec![Mode::Major, Mode::Minor]),
        Ok(KeyMode::Major) => Ok(vec![Mode::Major]),
        Ok(KeyMode::Minor) => Ok(vec![Mode::Minor]),
        Err(_) => Err(ProgressError::field("mode", "is not a known key mode")),
    }
}

/// The user's practised cells as domain facts (rows with a stored mode
/// this build does not know are skipped).
pub async fn practised_cells(conn: &mut AsyncPgConnection, me: Uuid) -> Result<Vec<CellFacts>, ProgressError> {
    let rows = store::mastery_cells(conn, me).await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(CellFacts {
                mode: Mode::parse(&r.mode)?,
                key: r.key,
                area: r.skill_area,
                minutes: r.minutes,
                last: Some(r.last_practiced_at),
                recent_average: r.recent_average,
            })
        })
        .collect())
}

/// `GetMasteryMatrix`.
pub async fn mastery_matrix(
    api: &ProgressApi,
    principal: &Principal,
    me: Uuid,
    req: GetMasteryMatrixRequest,
) -> Result<GetMasteryMatrixResponse, ProgressError> {
    let GetMasteryMatrixRequest { mode } = req;
    let modes = modes_of(mode)?;
    let mut conn = api.context.pool.get().await?;
    fill_missing_facts(&mut conn, &api.peers, principal, me).await?;
    let practised = practised_cells(&mut conn, me).await?;
    let m = matrix(&modes, &practised);
    Ok(GetMasteryMatrixResponse {
        keys: m
            .keys
            .iter()
            .map(|(key, mode)| MasteryKey { key: (*key).to_owned(), mode: key_mode(*mode).into() })
            .collect(),
        skill_areas: m.areas,
        cells: m
            .cells
            .into_iter()
            .map(|c| MasteryCell {
                key: c.key,
                mode: key_mode(c.mode).into(),
                skill_area: c.area,
                minutes: c.minutes,
                last_practiced_at: c.last.map(timestamp),
                recent_average_score: c.recent_average,
            })
            .collect(),
    })
}
