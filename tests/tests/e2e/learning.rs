//! The learning loop through the gateway on real PostgreSQL (issue 12):
//! the review queue (SM-2 intervals growing and shrinking, one card per key
//! of a twelve-key drill, the learner's own "today", signed pages), the
//! mastery matrix (untouched keys as empty cells), recommendations on
//! crafted histories (ready-to-use parameters), the summary in the learner's
//! zone across a DST change and against a direct recomputation, the daily
//! metrics job (re-runs replace), tier-targeted flags after billing's
//! `subscription_changed`; learner B never sees A's data; bad values
//! refused with INVALID_ARGUMENT and a BadRequest naming the field.

use std::collections::{BTreeMap, HashSet};

use diesel::sql_types::{Double, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use jazz_contract::jazz::common::v1::{ContentType, Difficulty, KeyMode};
use jazz_contract::jazz::content::v1 as content_pb;
use jazz_contract::jazz::content::v1::content_service_client::ContentServiceClient;
use jazz_contract::jazz::identity::v1 as identity_pb;
use jazz_contract::jazz::identity::v1::user_service_client::UserServiceClient;
use jazz_contract::jazz::progress::v1::practice_service_client::PracticeServiceClient;
use jazz_contract::jazz::progress::v1::progress_service_client::ProgressServiceClient;
use jazz_contract::jazz::progress::v1::*;
use jazz_e2e::{Suite, bearer};
use jazz_platform::ServiceName;
use jazz_platform::ids::new_id;
use prost_types::Timestamp;
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_types::StatusExt as _;
use uuid::Uuid;

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

fn now() -> i64 {
    let elapsed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(elapsed.as_secs()).unwrap_or_default()
}

fn ts(seconds: i64) -> Timestamp {
    Timestamp { seconds, nanos: 0 }
}

/// "YYYY-MM-DD" of the day `days` after 1970-01-01 (Howard Hinnant's
/// civil-from-days), so tests can name local dates of fixed-offset zones.
fn civil(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn fields_of(status: &Status) -> Vec<String> {
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

/// Asserts INVALID_ARGUMENT with a BadRequest naming `field`.
fn refused<T: std::fmt::Debug>(result: Result<T, Status>, field: &str) {
    match result {
        Ok(value) => panic!("expected INVALID_ARGUMENT on {field}, got {value:?}"),
        Err(status) => {
            assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
            assert!(fields_of(&status).iter().any(|f| f == field), "{field} not named: {status:?}");
        }
    }
}

/// One signed-in learner and clients through the gateway.
struct Learner {
    token: String,
    id: Uuid,
    channel: Channel,
}

impl Learner {
    async fn new(suite: &Suite, email: &str, timezone: &str) -> anyhow::Result<Self> {
        let token = suite.learner(email).await?;
        let channel = suite.gateway_channel().await?;
        let mut users = UserServiceClient::new(channel.clone());
        let user = identity_pb::User { timezone: timezone.into(), ..Default::default() };
        let mask = prost_types::FieldMask { paths: vec!["timezone".into()] };
        let updated = users
            .update_me(bearer(identity_pb::UpdateMeRequest { user: Some(user), update_mask: Some(mask) }, &token)?)
            .await?
            .into_inner()
            .user
            .unwrap_or_default();
        assert_eq!(updated.timezone, timezone);
        let id = jazz_platform::ids::parse_id("id", &updated.id).map_err(|v| anyhow::anyhow!("{v:?}"))?;
        Ok(Self { token, id, channel })
    }

    fn practice(&self) -> PracticeServiceClient<Channel> {
        PracticeServiceClient::new(self.channel.clone())
    }

    fn progress(&self) -> ProgressServiceClient<Channel> {
        ProgressServiceClient::new(self.channel.clone())
    }

    fn content(&self) -> ContentServiceClient<Channel> {
        ContentServiceClient::new(self.channel.clone())
    }

    fn req<T>(&self, message: T) -> anyhow::Result<tonic::Request<T>> {
        bearer(message, &self.token)
    }

    async fn session(&self, started_at: i64) -> anyhow::Result<String> {
        let start = StartPracticeSessionRequest { started_at: Some(ts(started_at)), ..Default::default() };
        let session = self.practice().start_practice_session(self.req(start)?).await?.into_inner().session;
        Ok(session.ok_or_else(|| anyhow::anyhow!("no session"))?.id)
    }

    async fn play(&self, session: &str, item: &str, at: i64, minutes: i32, performance: f64) -> anyhow::Result<()> {
        let add = AddPracticeRecordRequest {
            practice_session_id: session.into(),
            content_id: item.into(),
            minutes,
            performance: Some(performance),
            practiced_at: Some(ts(at)),
            ..Default::default()
        };
        self.practice().add_practice_record(self.req(add)?).await?;
        Ok(())
    }

    async fn queue(&self, days_ahead: i32, page_size: i32, page_token: &str) -> Result<GetReviewQueueResponse, Status> {
        let message = GetReviewQueueRequest { page_size, page_token: page_token.into(), days_ahead };
        let request = self.req(message).map_err(|e| Status::internal(e.to_string()))?;
        self.progress().get_review_queue(request).await.map(tonic::Response::into_inner)
    }

    async fn matrix(&self, mode: KeyMode) -> anyhow::Result<GetMasteryMatrixResponse> {
        let request = self.req(GetMasteryMatrixRequest { mode: mode.into() })?;
        Ok(self.progress().get_mastery_matrix(request).await?.into_inner())
    }
}

async fn sql(suite: &Suite, service: ServiceName) -> anyhow::Result<diesel_async::AsyncPgConnection> {
    let db = suite.databases.iter().find(|(s, _)| *s == service).map(|(_, d)| d);
    db.ok_or_else(|| anyhow::anyhow!("no database"))?.connect().await
}

/// A scale pattern in C major and its eleven transpositions (the twelve-key
/// drill), generated through the gateway: tonic → content id.
async fn twelve_key_drill(learner: &Learner) -> anyhow::Result<BTreeMap<String, String>> {
    let parameters = content_pb::GenerationParameters {
        r#type: ContentType::ScalePattern.into(),
        key: "C".into(),
        mode: KeyMode::Major.into(),
        difficulty: Difficulty::Intermediate.into(),
        ..Default::default()
    };
    let generated = learner
        .content()
        .generate_content(
            learner.req(content_pb::GenerateContentRequest { parameters: Some(parameters), ..Default::default() })?,
        )
        .await?
        .into_inner()
        .content
        .ok_or_else(|| anyhow::anyhow!("no content"))?;
    let transposed = learner
        .content()
        .transpose_content(learner.req(content_pb::TransposeContentRequest {
            id: generated.id.clone(),
            all_keys: true,
            ..Default::default()
        })?)
        .await?
        .into_inner()
        .contents;
    let mut keys: BTreeMap<String, String> = transposed.into_iter().map(|c| (c.key, c.id)).collect();
    keys.insert(generated.key, generated.id);
    assert_eq!(keys.len(), 12, "{keys:?}");
    Ok(keys)
}

#[tokio::test]
async fn review_queue_and_mastery_matrix_follow_a_week_of_practice() -> anyhow::Result<()> {
    let suite = Suite::start().await?;
    // Asia/Kolkata has no DST (UTC+5:30): its dates can be named exactly.
    let a = Learner::new(&suite, "ahmad@example.test", "Asia/Kolkata").await?;
    let b = Learner::new(&suite, "bud@example.test", "America/Los_Angeles").await?;
    suite.set_tier("ahmad@example.test", "PRO").await?;
    let drill = twelve_key_drill(&a).await?;
    let key = |k: &str| drill.get(k).cloned().unwrap_or_default();
    let t = now();
    let session = a.session(t - 6 * DAY - 2 * HOUR).await?;
    // C major well played three times, F poorly three times, the other ten
    // keys well once, three days ago.
    for back in [6, 5, 1] {
        a.play(&session, &key("C"), t - back * DAY, 15, 95.0).await?;
    }
    for (back, p) in [(6, 40.0), (4, 30.0), (2, 35.0)] {
        a.play(&session, &key("F"), t - back * DAY, 10, p).await?;
    }
    let others: Vec<String> = drill.iter().filter(|(k, _)| *k != "C" && *k != "F").map(|(_, id)| id.clone()).collect();
    for id in &others {
        a.play(&session, id, t - 3 * DAY, 5, 85.0).await?;
    }

    // Today in the learner's zone, not the server's.
    let first = a.queue(0, 4, "").await?;
    assert_eq!(first.today, civil((t + 19_800).div_euclid(DAY)));
    // Every key is its own card: ten others and F are due, C is not.
    assert_eq!(first.total_due, 11);
    let mut seen = Vec::new();
    let mut page = first.clone();
    loop {
        assert!(page.items.len() <= 4);
        seen.extend(page.items.iter().cloned());
        if page.next_page_token.is_empty() {
            break;
        }
        page = a.queue(0, 4, &page.next_page_token).await?;
    }
    let ids: HashSet<&str> = seen.iter().map(|i| i.content_id.as_str()).collect();
    assert_eq!((seen.len(), ids.len()), (11, 11));
    assert!(!ids.contains(key("C").as_str()));
    // Soonest overdue first: the ten (due two days ago), then F.
    let overdue: Vec<i32> = seen.iter().map(|i| i.overdue_days).collect();
    assert_eq!(overdue, [vec![2; 10], vec![1]].concat());
    let f = seen.last().cloned().unwrap_or_default();
    assert_eq!((f.content_id.as_str(), f.interval_days, f.review_count), (key("F").as_str(), 1, 3));
    assert_eq!(f.last_performance, Some(35.0));
    assert_eq!(f.last_practiced_at.map(|at| at.seconds), Some(t - 2 * DAY));

    // Looking ahead shows the well-played card far out: 1 → 6 → 16 days.
    let ahead = a.queue(30, 50, "").await?;
    let c = ahead.items.iter().find(|i| i.content_id == key("C")).cloned().unwrap_or_default();
    assert_eq!((c.interval_days, c.review_count, c.overdue_days), (16, 3, -15));
    assert!(c.ease > 2.5);
    assert_eq!(ahead.total_due, 11);
    // A poor play shrinks it back to one day.
    a.play(&session, &key("C"), t - HOUR, 10, 20.0).await?;
    let tomorrow = a.queue(1, 50, "").await?;
    let c = tomorrow.items.iter().find(|i| i.content_id == key("C")).cloned().unwrap_or_default();
    assert_eq!((c.interval_days, c.overdue_days, c.review_count), (1, -1, 4));
    assert!(c.ease < 2.5 + 0.3);

    // The matrix: twelve major keys practised in scales, everything else
    // listed as empty cells.
    let major = a.matrix(KeyMode::Major).await?;
    assert_eq!(major.keys.len(), 12);
    assert_eq!(
        major.keys.iter().map(|k| k.key.as_str()).collect::<Vec<_>>(),
        ["C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
    );
    assert_eq!(major.skill_areas.first().map(String::as_str), Some("improvisation"));
    assert_eq!(major.cells.len(), 12 * major.skill_areas.len());
    let touched: Vec<&MasteryCell> = major.cells.iter().filter(|c| c.minutes > 0).collect();
    assert_eq!(touched.len(), 12);
    assert!(touched.iter().all(|c| c.skill_area == "scales" && c.last_practiced_at.is_some()));
    let cell =
        |k: &str| major.cells.iter().find(|c| c.key == k && c.skill_area == "scales").cloned().unwrap_or_default();
    assert_eq!((cell("C").minutes, cell("C").recent_average_score), (55, Some((95.0 * 3.0 + 20.0) / 4.0)));
    assert_eq!((cell("F").minutes, cell("F").recent_average_score), (30, Some(35.0)));
    let untouched = major.cells.iter().find(|c| c.key == "Eb" && c.skill_area == "improvisation");
    assert_eq!(
        untouched.map(|c| (c.minutes, c.last_practiced_at.is_none(), c.recent_average_score)),
        Some((0, true, None))
    );
    let both = a.matrix(KeyMode::Unspecified).await?;
    assert_eq!(both.keys.len(), 24);
    assert!(both.cells.iter().filter(|c| c.mode == i32::from(KeyMode::Minor)).all(|c| c.minutes == 0));

    // Learner B sees none of it, and A's page token is not B's.
    let theirs = b.queue(30, 50, "").await?;
    assert_eq!((theirs.items.len(), theirs.total_due), (0, 0));
    assert!(b.matrix(KeyMode::Unspecified).await?.cells.iter().all(|c| c.minutes == 0));
    refused(b.queue(0, 4, &first.next_page_token).await, "page_token");
    let stolen = b.practice().get_practice_session(b.req(GetPracticeSessionRequest { id: session.clone() })?).await;
    assert_eq!(stolen.err().map(|s| s.code()), Some(Code::NotFound));
    let into_theirs = AddPracticeRecordRequest {
        practice_session_id: session.clone(),
        content_id: key("D"),
        minutes: 5,
        ..Default::default()
    };
    let into_theirs = b.practice().add_practice_record(b.req(into_theirs)?).await;
    assert_eq!(into_theirs.err().map(|s| s.code()), Some(Code::NotFound));

    // Bad values name their field and change nothing.
    refused(a.queue(31, 0, "").await, "days_ahead");
    refused(a.queue(0, -1, "").await, "page_size");
    refused(a.progress().get_mastery_matrix(a.req(GetMasteryMatrixRequest { mode: 9 })?).await, "mode");
    refused(
        a.progress().get_recommendations(a.req(GetRecommendationsRequest { max_results: 21 })?).await,
        "max_results",
    );
    let too_early = AddPracticeRecordRequest {
        practice_session_id: session.clone(),
        content_id: key("D"),
        minutes: 5,
        performance: Some(50.0),
        practiced_at: Some(ts(t - 8 * DAY)),
        ..Default::default()
    };
    refused(a.practice().add_practice_record(a.req(too_early.clone())?).await, "practiced_at");
    let before_start = AddPracticeRecordRequest { practiced_at: Some(ts(t - 6 * DAY - 3 * HOUR)), ..too_early };
    refused(a.practice().add_practice_record(a.req(before_start)?).await, "practiced_at");
    assert_eq!(a.queue(30, 50, "").await?.items.len(), ahead.items.len());
    Ok(())
}

#[tokio::test]
async fn recommendations_follow_crafted_histories_and_generate_as_given() -> anyhow::Result<()> {
    let suite = Suite::start().await?;
    let fresh = Learner::new(&suite, "newbie@example.test", "Europe/Berlin").await?;
    let start = fresh.progress().get_recommendations(fresh.req(GetRecommendationsRequest::default())?).await?;
    let start = start.into_inner().recommendations;
    assert!(!start.is_empty() && start.len() <= 5);
    assert!(start.iter().all(|r| r.reason == i32::from(RecommendationReason::GettingStarted)));
    assert!(start.iter().all(|r| r.parameters.as_ref().map(|p| p.difficulty) == Some(Difficulty::Beginner.into())));

    let a = Learner::new(&suite, "ella@example.test", "America/New_York").await?;
    let t = now();
    let record = |area: &str, difficulty: Difficulty, score: f64, back: i64| RecordProgressRequest {
        skill_area: area.into(),
        difficulty: difficulty.into(),
        score: Some(score),
        minutes: 20,
        recorded_at: Some(ts(t - back * HOUR)),
        ..Default::default()
    };
    // Licks: consistently high at INTERMEDIATE. Scales: low at ADVANCED.
    // Voicings: middling and the weakest after scales. Everything else
    // practised recently except repertoire, untouched for six days.
    let history = [
        record("improvisation", Difficulty::Intermediate, 88.0, 30),
        record("improvisation", Difficulty::Intermediate, 92.0, 20),
        record("improvisation", Difficulty::Intermediate, 95.0, 10),
        record("scales", Difficulty::Advanced, 35.0, 30),
        record("scales", Difficulty::Advanced, 40.0, 20),
        record("scales", Difficulty::Advanced, 30.0, 10),
        record("chord_voicings", Difficulty::Intermediate, 55.0, 12),
        record("harmony", Difficulty::Intermediate, 75.0, 12),
        record("ear_training", Difficulty::Intermediate, 75.0, 12),
        record("rhythm", Difficulty::Intermediate, 75.0, 12),
        record("sight_reading", Difficulty::Intermediate, 75.0, 12),
        record("repertoire", Difficulty::Intermediate, 70.0, 6 * 24),
    ];
    for message in history {
        a.progress().record_progress(a.req(message)?).await?;
    }
    let got = a.progress().get_recommendations(a.req(GetRecommendationsRequest { max_results: 20 })?).await?;
    let got = got.into_inner().recommendations;
    let find = |reason: RecommendationReason| got.iter().find(|r| r.reason == i32::from(reason)).cloned();
    let up = find(RecommendationReason::NextDifficulty).unwrap_or_default();
    let up_params = up.parameters.clone().unwrap_or_default();
    assert_eq!(
        (up.skill_area.as_str(), up_params.r#type, up_params.difficulty),
        ("improvisation", ContentType::JazzLick.into(), Difficulty::Advanced.into())
    );
    let back = find(RecommendationReason::EasierDifficulty).unwrap_or_default();
    let back_params = back.parameters.clone().unwrap_or_default();
    assert_eq!((back.skill_area.as_str(), back_params.difficulty), ("scales", Difficulty::Intermediate.into()));
    let weak = find(RecommendationReason::WeakestSkillArea).unwrap_or_default();
    assert_eq!(weak.skill_area, "chord_voicings");
    let stale = find(RecommendationReason::StalestSkillArea).unwrap_or_default();
    assert_eq!(stale.skill_area, "repertoire");
    assert!(stale.explanation.contains("6 days"), "{}", stale.explanation);
    assert!(got.iter().all(|r| !r.explanation.is_empty() && !r.explanation.contains('\n')));
    // The first one: most useful first, and the default count is five.
    let five = a.progress().get_recommendations(a.req(GetRecommendationsRequest::default())?).await?;
    assert_eq!(five.into_inner().recommendations.len(), 5.min(got.len()));

    // Ready to use: GenerateContent takes the parameters unchanged.
    let made = a
        .content()
        .generate_content(
            a.req(content_pb::GenerateContentRequest { parameters: up.parameters, ..Default::default() })?,
        )
        .await?
        .into_inner()
        .content
        .unwrap_or_default();
    assert_eq!((made.r#type, made.difficulty), (ContentType::JazzLick.into(), Difficulty::Advanced.into()));

    // Another learner's history changes nothing for the fresh one.
    let again = fresh.progress().get_recommendations(fresh.req(GetRecommendationsRequest::default())?).await?;
    assert!(
        again.into_inner().recommendations.iter().all(|r| r.reason == i32::from(RecommendationReason::GettingStarted))
    );
    Ok(())
}

/// A practice session with one record per `(utc seconds, minutes, score)`
/// written straight into progress's database (dates beyond the API's
/// seven-day window).
async fn historic_practice(suite: &Suite, user: Uuid, records: &[(i64, i32, Option<f64>)]) -> anyhow::Result<()> {
    use diesel_async::RunQueryDsl as _;
    let mut conn = sql(suite, ServiceName::Progress).await?;
    let first = records.iter().map(|r| r.0).min().unwrap_or_default();
    let session = new_id();
    let at = |s: i64| chrono_free_timestamp(s);
    diesel::sql_query("INSERT INTO practice_sessions (id, user_id, started_at) VALUES ($1, $2, $3::timestamptz)")
        .bind::<SqlUuid, _>(session)
        .bind::<SqlUuid, _>(user)
        .bind::<Text, _>(at(first))
        .execute(&mut conn)
        .await?;
    for (when, minutes, score) in records {
        diesel::sql_query(
            "INSERT INTO practice_records (id, practice_session_id, generated_content_id, time_spent, difficulty, \
             performance, practiced_at, user_id, key, mode, skill_area) \
             VALUES ($1, $2, $3, $4, 'INTERMEDIATE', $5, $6::timestamptz, $7, 'C', 'MAJOR', 'scales')",
        )
        .bind::<SqlUuid, _>(new_id())
        .bind::<SqlUuid, _>(session)
        .bind::<SqlUuid, _>(new_id())
        .bind::<Integer, _>(*minutes)
        .bind::<Nullable<Double>, _>(*score)
        .bind::<Text, _>(at(*when))
        .bind::<SqlUuid, _>(user)
        .execute(&mut conn)
        .await?;
    }
    Ok(())
}

/// An instant as SQL text PostgreSQL parses, without a date library.
fn chrono_free_timestamp(seconds: i64) -> String {
    let day = seconds.div_euclid(DAY);
    let rest = seconds.rem_euclid(DAY);
    format!("{} {:02}:{:02}:{:02}+00", civil(day), rest / HOUR, (rest % HOUR) / 60, rest % 60)
}

/// Unix seconds of a UTC date and time.
fn utc(y: i64, m: i64, d: i64, h: i64, min: i64) -> i64 {
    // days_from_civil
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) * DAY + h * HOUR + min * 60
}

#[tokio::test]
async fn the_summary_counts_days_in_the_learners_zone_across_a_dst_change() -> anyhow::Result<()> {
    let suite = Suite::start().await?;
    let a = Learner::new(&suite, "nyc@example.test", "America/New_York").await?;
    // Seven evenings in New York, 5–11 March 2025; clocks sprang forward on
    // Sunday the 9th. Each day: 00:15 local (10 min) and 23:45 local (20 min).
    let mut records = Vec::new();
    for day in 5..=11 {
        let offset = if day < 9 { 5 } else { 4 }; // EST, then EDT
        let early_offset = if day <= 9 { 5 } else { 4 }; // 00:15 on the 9th is still EST
        records.push((utc(2025, 3, day, early_offset, 15), 10, Some(60.0)));
        records.push((utc(2025, 3, day, 23 + offset - 24, 45) + DAY, 20, Some(80.0)));
    }
    historic_practice(&suite, a.id, &records).await?;
    let summary = a
        .progress()
        .get_progress_summary(a.req(GetProgressSummaryRequest {
            start_time: Some(ts(utc(2025, 3, 3, 5, 0))),
            end_time: Some(ts(utc(2025, 3, 17, 4, 0))),
        })?)
        .await?
        .into_inner();
    assert_eq!(summary.timezone, "America/New_York");
    assert_eq!(summary.total_minutes, 210);
    let weeks: Vec<(String, i64)> =
        summary.minutes_by_week.iter().map(|w| (w.week_start_date.clone(), w.minutes)).collect();
    // Wed 5 – Sun 9 in the week of Monday 3 March, Mon 10 – Tue 11 after it.
    assert_eq!(weeks, [("2025-03-03".to_owned(), 150), ("2025-03-10".to_owned(), 60)]);
    assert_eq!(summary.longest_streak_days, 7);
    let scales = summary.score_trends.iter().find(|t| t.skill_area == "scales").cloned().unwrap_or_default();
    assert_eq!(scales.points.len(), 7);
    assert!(scales.points.iter().all(|p| p.sample_count == 2 && (p.average_score - 70.0).abs() < 1e-9));
    assert_eq!(scales.points.first().map(|p| p.date.as_str()), Some("2025-03-05"));
    Ok(())
}

/// A tiny deterministic generator (no `rand` in this crate).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below.max(1)
    }
}

#[derive(diesel::QueryableByName)]
struct EventRow {
    #[diesel(sql_type = Timestamptz)]
    at: chrono::DateTime<chrono::Utc>,
    #[diesel(sql_type = Integer)]
    minutes: i32,
    #[diesel(sql_type = Nullable<Text>)]
    area: Option<String>,
    #[diesel(sql_type = Nullable<Double>)]
    score: Option<f64>,
}

#[tokio::test]
async fn the_summary_equals_a_direct_recomputation_on_random_data() -> anyhow::Result<()> {
    use diesel_async::RunQueryDsl as _;
    let suite = Suite::start().await?;
    let a = Learner::new(&suite, "random@example.test", "Australia/Adelaide").await?;
    let mut rng = Lcg(0x5eed_1234);
    let t = now();
    // The range's ends fall inside quarter-hours (the rollups' grain): a
    // record a second either side of each edge tells whether the ragged
    // edges are read from the records.
    let (start, end) = (t - 75 * DAY - 7 * 60 - 1, t - 3 * DAY + 7 * 60 + 1);
    let mut records: Vec<(i64, i32, Option<f64>)> =
        [start - 1, start, start + 1, end - 1, end, end + 1].iter().map(|&at| (at, 5, Some(50.0))).collect();
    for _ in 0..294 {
        let back = i64::try_from(rng.next(120 * 24 * 3600)).unwrap_or(0);
        let score = (rng.next(3) > 0).then(|| (rng.next(1001) as f64) / 10.0);
        records.push((t - back, i32::try_from(rng.next(60)).unwrap_or(1) + 1, score));
    }
    historic_practice(&suite, a.id, &records).await?;
    let areas = ["scales", "improvisation", "ear_training", "comping"];
    for i in 0..120_u64 {
        let back = i64::try_from(rng.next(100 * 24 * 3600)).unwrap_or(0);
        let area = areas.get(usize::try_from(i % 4).unwrap_or(0)).copied().unwrap_or("scales");
        let mut conn = sql(&suite, ServiceName::Progress).await?;
        diesel::sql_query(
            "INSERT INTO progress_records (id, user_id, skill_area, difficulty_level, score, time_spent, recorded_at) \
             VALUES ($1, $2, $3, 'BEGINNER', $4, $5, $6::timestamptz)",
        )
        .bind::<SqlUuid, _>(new_id())
        .bind::<SqlUuid, _>(a.id)
        .bind::<Text, _>(area)
        .bind::<Nullable<Double>, _>((rng.next(2) == 0).then(|| (rng.next(101)) as f64))
        .bind::<Integer, _>(i32::try_from(rng.next(90)).unwrap_or(0))
        .bind::<Text, _>(chrono_free_timestamp(t - back))
        .execute(&mut conn)
        .await?;
    }
    let got = a
        .progress()
        .get_progress_summary(
            a.req(GetProgressSummaryRequest { start_time: Some(ts(start)), end_time: Some(ts(end)) })?,
        )
        .await?
        .into_inner();
    // The direct recomputation: every row, folded by progress's reference
    // fold (domain::summary::summarize), in the same zone.
    let mut conn = sql(&suite, ServiceName::Progress).await?;
    let rows: Vec<EventRow> = diesel::sql_query(
        "SELECT practiced_at AS at, time_spent AS minutes, skill_area AS area, performance AS score \
           FROM practice_records WHERE user_id = $1 \
         UNION ALL \
         SELECT recorded_at, time_spent, skill_area, score FROM progress_records WHERE user_id = $1",
    )
    .bind::<SqlUuid, _>(a.id)
    .load(&mut conn)
    .await?;
    assert_eq!(rows.len(), 420);
    let events: Vec<progress::domain::summary::Event> = rows
        .into_iter()
        .map(|r| progress::domain::summary::Event {
            at: r.at,
            minutes: i64::from(r.minutes),
            area: r.area,
            score: r.score,
        })
        .collect();
    let at = |s: i64| chrono::DateTime::from_timestamp(s, 0).unwrap_or_default();
    let tz = progress::domain::calendar::zone("Australia/Adelaide");
    let want = progress::domain::summary::summarize(&events, at(start), at(end), at(now()), tz);
    assert_eq!(got.total_minutes, want.total_minutes);
    let by_area: Vec<(String, i64)> =
        got.minutes_by_skill_area.iter().map(|m| (m.skill_area.clone(), m.minutes)).collect();
    assert_eq!(by_area, want.by_area);
    let weeks: Vec<(String, i64)> = got.minutes_by_week.iter().map(|w| (w.iso_week.clone(), w.minutes)).collect();
    assert_eq!(weeks, want.weeks.iter().map(|w| (w.label.clone(), w.minutes)).collect::<Vec<_>>());
    assert_eq!((got.current_streak_days, got.longest_streak_days), (want.current_streak, want.longest_streak));
    assert_eq!(got.score_trends.len(), want.trends.len());
    for (g, w) in got.score_trends.iter().zip(want.trends.iter()) {
        assert_eq!(g.skill_area, w.area);
        assert_eq!(g.points.len(), w.points.len());
        for (gp, (day, mean, n)) in g.points.iter().zip(w.points.iter()) {
            assert_eq!((gp.date.clone(), gp.sample_count), (day.format("%Y-%m-%d").to_string(), *n));
            assert!((gp.average_score - mean).abs() < 1e-6);
        }
        assert_eq!(g.slope_per_week.is_some(), w.slope.is_some());
    }
    assert!(got.total_minutes > 0 && got.longest_streak_days > 1);
    Ok(())
}

/// Rows of the rollups that differ from a recomputation over the records
/// (either way round); the score sums compared to 1e-6.
const ROLLUP_DRIFT: &str = "WITH truth AS ( \
       SELECT user_id, date_bin('15 minutes', at, timestamptz 'epoch') AS bucket, source, \
              coalesce(area, '') AS skill_area, count(*)::int AS records, sum(minutes)::bigint AS minutes, \
              round(coalesce(sum(score), 0)::numeric, 6) AS score_sum, count(score)::int AS score_count, \
              max(at) AS last_at \
         FROM (SELECT user_id, practiced_at AS at, 'practice' AS source, skill_area AS area, \
                      time_spent AS minutes, performance AS score FROM practice_records WHERE user_id IS NOT NULL \
               UNION ALL \
               SELECT user_id, recorded_at, 'progress', skill_area, time_spent, score FROM progress_records) e \
        GROUP BY 1, 2, 3, 4), \
     kept AS (SELECT user_id, bucket, source, skill_area, records, minutes, round(score_sum::numeric, 6), \
                     score_count, last_at FROM practice_rollups), \
     cells AS (SELECT user_id, key, mode, skill_area, count(*)::int AS records, sum(time_spent)::bigint AS minutes, \
                      max(practiced_at) AS last_at FROM practice_records \
                WHERE user_id IS NOT NULL AND key IS NOT NULL AND mode IS NOT NULL AND skill_area IS NOT NULL \
                GROUP BY 1, 2, 3, 4) \
     SELECT ((SELECT count(*) FROM (SELECT * FROM truth EXCEPT SELECT * FROM kept) a) \
           + (SELECT count(*) FROM (SELECT * FROM kept EXCEPT SELECT * FROM truth) b) \
           + (SELECT count(*) FROM (SELECT * FROM cells EXCEPT SELECT * FROM mastery_rollups) c) \
           + (SELECT count(*) FROM (SELECT * FROM mastery_rollups EXCEPT SELECT * FROM cells) d))::bigint AS n";

#[tokio::test]
async fn the_rollups_equal_their_records_after_every_kind_of_write() -> anyhow::Result<()> {
    use jazz_e2e::sql::{execute, number};
    let suite = Suite::start().await?;
    let a = Learner::new(&suite, "rollups@example.test", "Asia/Kathmandu").await?;
    let b = Learner::new(&suite, "rollups-b@example.test", "Europe/London").await?;
    let mut rng = Lcg(0x0110_ab5e);
    let t = now();
    for learner in [&a, &b] {
        let records: Vec<(i64, i32, Option<f64>)> = (0..200)
            .map(|_| {
                let back = i64::try_from(rng.next(30 * DAY as u64)).unwrap_or(0);
                let score = (rng.next(4) > 0).then(|| (rng.next(1001) as f64) / 10.0);
                (t - back, i32::try_from(rng.next(45)).unwrap_or(0), score)
            })
            .collect();
        historic_practice(&suite, learner.id, &records).await?;
    }
    // Through the API: a generated item practised three times in a session.
    let parameters = content_pb::GenerationParameters {
        r#type: ContentType::ScalePattern.into(),
        key: "Eb".into(),
        mode: KeyMode::Minor.into(),
        difficulty: Difficulty::Beginner.into(),
        ..Default::default()
    };
    let request = content_pb::GenerateContentRequest { parameters: Some(parameters), ..Default::default() };
    let item = a.content().generate_content(a.req(request)?).await?.into_inner().content.unwrap_or_default().id;
    let session = a.session(t - HOUR).await?;
    for minute in [0, 7, 16] {
        a.play(&session, &item, t - HOUR + 60 * minute, 10, 40.0).await?;
    }
    let mut conn = sql(&suite, ServiceName::Progress).await?;
    assert_eq!(number(&mut conn, ROLLUP_DRIFT).await?, 0, "after inserts");
    assert!(number(&mut conn, "SELECT count(*) AS n FROM practice_rollups").await? > 50);
    // The lazy fill's kind of update (facts arriving), moves across
    // buckets, new scores, and records of another source.
    execute(&mut conn, "UPDATE practice_records SET skill_area = NULL, key = NULL WHERE time_spent % 5 = 0").await?;
    assert_eq!(number(&mut conn, ROLLUP_DRIFT).await?, 0, "after facts were taken away");
    execute(&mut conn, "UPDATE practice_records SET skill_area = 'voicings', key = 'F' WHERE skill_area IS NULL")
        .await?;
    execute(
        &mut conn,
        "UPDATE practice_records SET practiced_at = practiced_at + interval '11 minutes', performance = NULL           WHERE time_spent % 3 = 0",
    )
    .await?;
    execute(
        &mut conn,
        &format!(
            "INSERT INTO progress_records (id, user_id, skill_area, difficulty_level, score, time_spent, recorded_at)              SELECT gen_random_uuid(), '{}', 'theory', 'BEGINNER', CASE WHEN g % 2 = 0 THEN g END, g,                     now() - make_interval(mins => g * 13) FROM generate_series(1, 60) g",
            a.id
        ),
    )
    .await?;
    assert_eq!(number(&mut conn, ROLLUP_DRIFT).await?, 0, "after updates");
    execute(&mut conn, "DELETE FROM practice_records WHERE time_spent % 7 = 0").await?;
    execute(&mut conn, "DELETE FROM progress_records WHERE time_spent % 4 = 0").await?;
    assert_eq!(number(&mut conn, ROLLUP_DRIFT).await?, 0, "after deletes");
    // An erasure's kind of delete (every record of A's; the purge itself is
    // tested in erasure.rs, which finds no row anywhere naming the user)
    // leaves no rollup of A's, and B's as they were.
    let rollups_of = |user: Uuid| {
        format!(
            "SELECT ((SELECT count(*) FROM practice_rollups WHERE user_id = '{user}') \
                   + (SELECT count(*) FROM mastery_rollups WHERE user_id = '{user}'))::bigint AS n"
        )
    };
    let b_before = number(&mut conn, &rollups_of(b.id)).await?;
    execute(&mut conn, &format!("DELETE FROM practice_records WHERE user_id = '{}'", a.id)).await?;
    execute(&mut conn, &format!("DELETE FROM progress_records WHERE user_id = '{}'", a.id)).await?;
    assert_eq!(number(&mut conn, &rollups_of(a.id)).await?, 0);
    assert_eq!(number(&mut conn, &rollups_of(b.id)).await?, b_before);
    assert!(b_before > 0);
    assert_eq!(number(&mut conn, ROLLUP_DRIFT).await?, 0, "after the erasure");
    Ok(())
}
