//! GetProgressSummary: loads the user's practice and progress records (two
//! queries), resolves the practice records' skill areas through content in
//! batches, asks identity for the time zone, and folds it all in
//! `domain::summary`.

use std::collections::{BTreeSet, HashMap};

use chrono::{Duration, Utc};
use jazz_contract::jazz::progress::v1::{
    GetProgressSummaryRequest, GetProgressSummaryResponse, ScorePoint, ScoreTrend, SkillAreaMinutes, WeekMinutes,
};
use jazz_platform::Principal;
use jazz_platform::error::Violations;
use uuid::Uuid;

use super::progress::ProgressApi;
use crate::domain::calendar::zone;
use crate::domain::practice::skill_area_of;
use crate::domain::summary::{Event, summarize};
use crate::error::ProgressError;
use crate::store::{practice, progress};
use jazz_platform::fields::{time as any_time, timestamp};

/// Longest range, in days.
const MAX_RANGE_DAYS: i64 = 366;

/// `GetProgressSummary`.
pub async fn summary(
    api: &ProgressApi,
    _principal: &Principal,
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
    let (records, points, ratings) = {
        let mut conn = api.context.pool.get().await?;
        let records = practice::user_records(&mut conn, me).await?;
        let points = progress::user_points(&mut conn, me).await?;
        let ratings = practice::ratings_in(&mut conn, me, start, end).await?;
        (records, points, ratings)
    };
    // Skill areas only matter inside the range; ask content about those.
    let in_range: BTreeSet<Uuid> =
        records.iter().filter(|(_, _, _, at)| *at >= start && *at < end).map(|(id, _, _, _)| *id).collect();
    let in_range: Vec<Uuid> = in_range.into_iter().collect();
    let kinds: HashMap<Uuid, &'static str> = if in_range.is_empty() {
        HashMap::new()
    } else {
        let facts = api.peers.visible_items(me, &in_range).await?;
        facts.into_iter().filter_map(|(id, f)| skill_area_of(f.kind).map(|a| (id, a))).collect()
    };
    let tz_name = api.peers.time_zone(me).await;
    let tz = zone(&tz_name);
    let mut events: Vec<Event> = records
        .iter()
        .map(|(item, minutes, performance, at)| Event {
            at: *at,
            minutes: i64::from(*minutes),
            area: kinds.get(item).map(|a| (*a).to_owned()),
            score: *performance,
        })
        .collect();
    events.extend(points.into_iter().map(|(area, minutes, score, at)| Event {
        at,
        minutes: i64::from(minutes),
        area: Some(area),
        score,
    }));
    let s = summarize(&events, start, end, now, tz);
    let rated: Vec<f64> = ratings.iter().filter_map(|r| r.map(f64::from)).collect();
    let average_rating = (!rated.is_empty()).then(|| rated.iter().sum::<f64>() / rated.len() as f64);
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
        session_count: i32::try_from(ratings.len()).unwrap_or(i32::MAX),
        average_rating,
    })
}
