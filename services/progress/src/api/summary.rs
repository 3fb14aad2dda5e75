//! GetProgressSummary: asks identity for the time zone, then three
//! aggregate queries (the range by local day and area, the streaks as runs
//! of days, the sessions' count and rating — `store::summary`), assembled
//! in `domain::summary`. Older practice records get their skill area first
//! (the lazy fill, once per item).

use chrono::{Duration, Utc};
use jazz_contract::jazz::progress::v1::{
    GetProgressSummaryRequest, GetProgressSummaryResponse, ScorePoint, ScoreTrend, SkillAreaMinutes, WeekMinutes,
};
use jazz_platform::Principal;
use jazz_platform::error::Violations;
use uuid::Uuid;

use super::learning::fill_missing_facts;
use super::progress::ProgressApi;
use crate::domain::calendar::{local_date, zone};
use crate::domain::summary::{DayArea, current_streak, from_aggregates};
use crate::error::ProgressError;
use crate::store::summary as store;
use jazz_platform::fields::{time as any_time, timestamp};

/// Longest range, in days.
const MAX_RANGE_DAYS: i64 = 366;

/// `GetProgressSummary`.
pub async fn summary(
    api: &ProgressApi,
    principal: &Principal,
    me: Uuid,
    req: GetProgressSummaryRequest,
) -> Result<GetProgressSummaryResponse, ProgressError> {
    let now = Utc::now();
    let mut v = Violations::new();
    let start = v.check(any_time("start_time", req.start_time.as_ref())).flatten();
    let end = v.check(any_time("end_time", req.end_time.as_ref())).flatten();
    v.finish().map_err(ProgressError::Invalid)?;
    let end = end.unwrap_or(now);
    let start = start.unwrap_or(end - Duration::days(90));
    if end < start {
        return Err(ProgressError::field("end_time", "must not be before start_time"));
    }
    if end - start > Duration::days(MAX_RANGE_DAYS) {
        return Err(ProgressError::field("end_time", "the range must not exceed 366 days"));
    }
    let tz = zone(&api.peers.time_zone(me).await);
    let mut conn = api.context.pool.get().await?;
    fill_missing_facts(&mut conn, &api.peers, principal, me).await?;
    let rows = store::day_areas(&mut conn, me, start, end, tz.name()).await?;
    let runs = store::streaks(&mut conn, me, tz.name()).await?;
    let sessions = store::session_stats(&mut conn, me, start, end).await?;
    drop(conn);
    let rows: Vec<DayArea> = rows
        .into_iter()
        .map(|r| DayArea {
            day: r.day,
            area: r.area,
            minutes: r.minutes,
            score_sum: r.score_sum.unwrap_or(0.0),
            score_count: r.score_count,
        })
        .collect();
    let today = local_date(now, tz);
    let current = current_streak(runs.as_ref().map(|r| (r.last_day, r.length)), today);
    let longest = runs.map_or(0, |r| r.longest);
    let s = from_aggregates(&rows, (current, longest), start, end, tz);
    Ok(GetProgressSummaryResponse {
        start_time: Some(timestamp(start)),
        end_time: Some(timestamp(end)),
        timezone: tz.name().to_owned(),
        total_minutes: s.total_minutes,
        minutes_by_skill_area: s
            .by_area
            .into_iter()
            .map(|(skill_area, minutes)| SkillAreaMinutes { skill_area, minutes })
            .collect(),
        minutes_by_week: s
            .weeks
            .into_iter()
            .map(|w| WeekMinutes {
                iso_week: w.label,
                week_start_date: w.monday.format("%Y-%m-%d").to_string(),
                minutes: w.minutes,
            })
            .collect(),
        current_streak_days: s.current_streak,
        longest_streak_days: s.longest_streak,
        score_trends: s
            .trends
            .into_iter()
            .map(|t| ScoreTrend {
                skill_area: t.area,
                points: t
                    .points
                    .into_iter()
                    .map(|(day, average_score, sample_count)| ScorePoint {
                        date: day.format("%Y-%m-%d").to_string(),
                        average_score,
                        sample_count,
                    })
                    .collect(),
                slope_per_week: t.slope,
            })
            .collect(),
        session_count: i32::try_from(sessions.count).unwrap_or(i32::MAX),
        average_rating: sessions.average_rating,
    })
}
