//! Progress on real PostgreSQL: the whole suite started (content answers
//! GetContentRef, identity the time zone), progress called directly with
//! signed user principals. Content items and users are inserted into their
//! services' databases with SQL. Sessions, records, ownership, field rules
//! that write nothing, replay by request id, streaks in the user's zone,
//! summary totals and gap-free pagination.

use jazz_e2e::bad_fields as fields_of;
use std::collections::HashSet;

use diesel::sql_types::{BigInt, Bool, Text, Uuid as SqlUuid};
use jazz_contract::jazz::common::v1::Difficulty;
use jazz_contract::jazz::progress::v1::practice_service_client::PracticeServiceClient;
use jazz_contract::jazz::progress::v1::progress_service_client::ProgressServiceClient;
use jazz_contract::jazz::progress::v1::*;
use jazz_e2e::{Suite, TEST_PRINCIPAL_SECRET};
use jazz_platform::ids::{new_id, to_api};
use jazz_platform::{Principal, PrincipalKey, ServiceName};
use prost_types::Timestamp;
use secrecy::SecretString;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use uuid::Uuid;

struct Env {
    suite: Suite,
    channel: Channel,
    key: PrincipalKey,
}

impl Env {
    async fn start() -> anyhow::Result<Self> {
        let suite = Suite::start().await?;
        let channel = suite.service_channel(ServiceName::Progress).await?;
        let key = PrincipalKey::new(SecretString::from(TEST_PRINCIPAL_SECRET.to_owned()));
        Ok(Self { suite, channel, key })
    }

    fn req<T>(&self, user: Uuid, message: T) -> Request<T> {
        let mut request = Request::new(message);
        self.key.attach(&mut request, &Principal::user(user, new_id(), "test"));
        request
    }

    fn practice(&self) -> PracticeServiceClient<Channel> {
        PracticeServiceClient::new(self.channel.clone())
    }

    fn progress(&self) -> ProgressServiceClient<Channel> {
        ProgressServiceClient::new(self.channel.clone())
    }

    async fn sql(&self, service: ServiceName) -> anyhow::Result<diesel_async::AsyncPgConnection> {
        let db = self.suite.databases.iter().find(|(s, _)| *s == service).map(|(_, d)| d);
        db.ok_or_else(|| anyhow::anyhow!("no database"))?.connect().await
    }

    /// A content item of `owner` inserted straight into content's database.
    async fn item(&self, owner: Uuid, kind: &str, public: bool) -> anyhow::Result<Uuid> {
        use diesel_async::RunQueryDsl as _;
        let id = new_id();
        diesel::sql_query(
            "INSERT INTO generated_content (id, user_id, type, title, parameters, music_data, difficulty, key, \
             is_public) VALUES ($1, $2, $3, 'Test item', '{}', '{}', 'ADVANCED', 'Bb', $4)",
        )
        .bind::<SqlUuid, _>(id)
        .bind::<SqlUuid, _>(owner)
        .bind::<Text, _>(kind)
        .bind::<Bool, _>(public)
        .execute(&mut self.sql(ServiceName::Content).await?)
        .await?;
        Ok(id)
    }

    /// A user (and the profile GetUser reads) with time zone `tz`, inserted
    /// straight into identity's database.
    async fn user_in(&self, tz: &str) -> anyhow::Result<Uuid> {
        use diesel_async::RunQueryDsl as _;
        let id = new_id();
        diesel::sql_query(
            "INSERT INTO users (id, email, first_name, last_name, timezone) VALUES ($1, $2, 'Tz', 'User', $3)",
        )
        .bind::<SqlUuid, _>(id)
        .bind::<Text, _>(format!("{}@example.test", to_api(id).to_lowercase()))
        .bind::<Text, _>(tz)
        .execute(&mut self.sql(ServiceName::Identity).await?)
        .await?;
        diesel::sql_query("INSERT INTO user_profiles (id, user_id) VALUES ($1, $2)")
            .bind::<SqlUuid, _>(new_id())
            .bind::<SqlUuid, _>(id)
            .execute(&mut self.sql(ServiceName::Identity).await?)
            .await?;
        Ok(id)
    }

    /// `count(*)` of a progress table.
    async fn rows(&self, table: &str) -> anyhow::Result<i64> {
        use diesel_async::RunQueryDsl as _;
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let row: Row = diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
            .get_result(&mut self.sql(ServiceName::Progress).await?)
            .await?;
        Ok(row.n)
    }

    async fn start_session(&self, user: Uuid, started_at: Option<Timestamp>) -> anyhow::Result<PracticeSession> {
        let message = StartPracticeSessionRequest {
            title: "Blues in F".into(),
            goals: vec!["Comp".into()],
            started_at,
            request_id: String::new(),
        };
        let session = self.practice().start_practice_session(self.req(user, message)).await?.into_inner().session;
        session.ok_or_else(|| anyhow::anyhow!("no session"))
    }
}

/// Seconds since the epoch, now.
fn now() -> i64 {
    let elapsed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(elapsed.as_secs()).unwrap_or_default()
}

const MINUTE: i64 = 60;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

fn ts(seconds: i64) -> Timestamp {
    Timestamp { seconds, nanos: 0 }
}

fn add(session: &str, content: Uuid, minutes: i32, performance: Option<f64>) -> AddPracticeRecordRequest {
    AddPracticeRecordRequest {
        practice_session_id: session.into(),
        content_id: to_api(content),
        minutes,
        performance,
        ..Default::default()
    }
}

#[tokio::test]
async fn a_session_is_started_logged_ended_read_and_listed() -> anyhow::Result<()> {
    let env = Env::start().await?;
    let me = new_id();
    let mine = env.item(me, "SCALE_PATTERN", false).await?;
    let public = env.item(new_id(), "JAZZ_LICK", true).await?;
    let started = now() - 2 * HOUR;
    let session = env.start_session(me, Some(ts(started))).await?;
    let a = env.practice().add_practice_record(env.req(me, add(&session.id, mine, 20, Some(90.0)))).await?.into_inner();
    assert_eq!(a.record.as_ref().map(|r| r.difficulty), Some(Difficulty::Advanced.into())); // the item's own
    env.practice().add_practice_record(env.req(me, add(&session.id, public, 10, None))).await?;
    let end = EndPracticeSessionRequest {
        id: session.id.clone(),
        achievements: vec!["All twelve keys".into()],
        rating: Some(4),
        ended_at: Some(ts(started + 45 * MINUTE)),
        ..Default::default()
    };
    let ended = env.practice().end_practice_session(env.req(me, end)).await?.into_inner().session.unwrap_or_default();
    assert_eq!((ended.duration_minutes, ended.record_count, ended.rating), (45, 2, Some(4)));
    let again = env
        .practice()
        .end_practice_session(env.req(me, EndPracticeSessionRequest { id: session.id.clone(), ..Default::default() }))
        .await;
    assert_eq!(again.err().map(|s| s.code()), Some(Code::FailedPrecondition));
    let late = env.practice().add_practice_record(env.req(me, add(&session.id, mine, 5, None))).await;
    assert_eq!(late.err().map(|s| s.code()), Some(Code::FailedPrecondition));
    let got =
        env.practice().get_practice_session(env.req(me, GetPracticeSessionRequest { id: session.id.clone() })).await?;
    let got = got.into_inner().session.unwrap_or_default();
    assert_eq!(got.records.len(), 2);
    assert_eq!(got.records.first().map(|r| r.minutes), Some(20));
    let list = env.practice().list_practice_sessions(env.req(me, ListPracticeSessionsRequest::default())).await?;
    let list = list.into_inner().sessions;
    assert_eq!(
        list.iter().map(|s| (s.id.clone(), s.record_count, s.records.len())).collect::<Vec<_>>(),
        [(session.id, 2, 0)]
    );
    assert_eq!(env.rows("audit_logs").await?, 4);
    assert_eq!(env.rows("review_items").await?, 1);
    Ok(())
}

#[tokio::test]
async fn another_users_session_and_private_content_are_not_found() -> anyhow::Result<()> {
    let env = Env::start().await?;
    let (alice, bob) = (new_id(), new_id());
    let session = env.start_session(alice, None).await?;
    let stranger =
        env.practice().get_practice_session(env.req(bob, GetPracticeSessionRequest { id: session.id.clone() })).await;
    let random =
        env.practice().get_practice_session(env.req(bob, GetPracticeSessionRequest { id: to_api(new_id()) })).await;
    let (stranger, random) =
        (stranger.err().unwrap_or_else(|| Status::ok("")), random.err().unwrap_or_else(|| Status::ok("")));
    assert_eq!((stranger.code(), stranger.message()), (random.code(), random.message()));
    assert_eq!(stranger.code(), Code::NotFound);
    let item = env.item(bob, "MELODY", true).await?;
    let added = env.practice().add_practice_record(env.req(bob, add(&session.id, item, 5, None))).await;
    assert_eq!(added.err().map(|s| s.code()), Some(Code::NotFound));
    let private = env.item(bob, "MELODY", false).await?;
    let mine = env.start_session(alice, None).await?;
    let hidden = env.practice().add_practice_record(env.req(alice, add(&mine.id, private, 5, None))).await;
    let hidden = hidden.err().unwrap_or_else(|| Status::ok(""));
    assert_eq!(hidden.code(), Code::NotFound);
    assert!(hidden.message().contains("content_id"));
    assert_eq!(env.rows("practice_records").await?, 0);
    Ok(())
}

#[tokio::test]
async fn bad_inputs_name_the_field_and_write_nothing() -> anyhow::Result<()> {
    let env = Env::start().await?;
    let me = new_id();
    let item = env.item(me, "CHORD_PROGRESSION", false).await?;
    let session = env.start_session(me, None).await?;
    let before =
        (env.rows("practice_records").await?, env.rows("progress_records").await?, env.rows("audit_logs").await?);
    let end = EndPracticeSessionRequest { id: session.id.clone(), rating: Some(6), ..Default::default() };
    let status = env.practice().end_practice_session(env.req(me, end)).await.err().unwrap_or_else(|| Status::ok(""));
    assert_eq!((status.code(), fields_of(&status)), (Code::InvalidArgument, vec!["rating".to_owned()]));
    for (request, field) in [
        (add(&session.id, item, 10, Some(101.0)), "performance"),
        (add(&session.id, item, 10, Some(f64::NAN)), "performance"),
        (add(&session.id, item, -5, None), "minutes"),
        (
            AddPracticeRecordRequest { content_id: "not-a-ulid".into(), ..add(&session.id, item, 10, None) },
            "content_id",
        ),
    ] {
        let status =
            env.practice().add_practice_record(env.req(me, request)).await.err().unwrap_or_else(|| Status::ok(""));
        assert_eq!((status.code(), fields_of(&status)), (Code::InvalidArgument, vec![field.to_owned()]), "{field}");
    }
    let progress = |score: Option<f64>, minutes: i32, content_id: &str| RecordProgressRequest {
        skill_area: "scales".into(),
        difficulty: Difficulty::Beginner.into(),
        score,
        minutes,
        content_id: content_id.into(),
        ..Default::default()
    };
    for (request, field) in [
        (progress(Some(f64::INFINITY), 10, ""), "score"),
        (progress(None, -1, ""), "minutes"),
        (progress(None, 10, "0000"), "content_id"),
        (RecordProgressRequest { skill_area: "Bad Area".into(), ..progress(None, 1, "") }, "skill_area"),
        (RecordProgressRequest { difficulty: 0, ..progress(None, 1, "") }, "difficulty"),
    ] {
        let status = env.progress().record_progress(env.req(me, request)).await.err().unwrap_or_else(|| Status::ok(""));
        assert_eq!((status.code(), fields_of(&status)), (Code::InvalidArgument, vec![field.to_owned()]), "{field}");
    }
    let after =
        (env.rows("practice_records").await?, env.rows("progress_records").await?, env.rows("audit_logs").await?);
    assert_eq!(before, after);
    Ok(())
}

#[tokio::test]
async fn a_replayed_request_id_acts_once() -> anyhow::Result<()> {
    let env = Env::start().await?;
    let me = new_id();
    let item = env.item(me, "MELODY", false).await?;
    let start =
        StartPracticeSessionRequest { title: "Offline".into(), request_id: "start-1".into(), ..Default::default() };
    let first = env.practice().start_practice_session(env.req(me, start.clone())).await?.into_inner();
    let second = env.practice().start_practice_session(env.req(me, start)).await?.into_inner();
    assert_eq!(first, second);
    let id = first.session.map(|s| s.id).unwrap_or_default();
    let record = AddPracticeRecordRequest { request_id: "add-1".into(), ..add(&id, item, 15, Some(70.0)) };
    let a = env.practice().add_practice_record(env.req(me, record.clone())).await?.into_inner();
    let b = env.practice().add_practice_record(env.req(me, record.clone())).await?.into_inner();
    assert_eq!(a, b);
    let other = AddPracticeRecordRequest { minutes: 16, ..record };
    let reused = env.practice().add_practice_record(env.req(me, other)).await.err().unwrap_or_else(|| Status::ok(""));
    assert_eq!((reused.code(), fields_of(&reused)), (Code::InvalidArgument, vec!["request_id".to_owned()]));
    let progress = RecordProgressRequest {
        skill_area: "ear_training".into(),
        difficulty: Difficulty::Expert.into(),
        minutes: 5,
        request_id: "rec-1".into(),
        ..Default::default()
    };
    let p1 = env.progress().record_progress(env.req(me, progress.clone())).await?.into_inner();
    let p2 = env.progress().record_progress(env.req(me, progress)).await?.into_inner();
    assert_eq!(p1, p2);
    assert_eq!(
        (
            env.rows("practice_sessions").await?,
            env.rows("practice_records").await?,
            env.rows("progress_records").await?
        ),
        (1, 1, 1)
    );
    assert_eq!(env.rows("audit_logs").await?, 3);
    Ok(())
}

#[tokio::test]
async fn streaks_follow_the_users_midnight() -> anyhow::Result<()> {
    let env = Env::start().await?;
    let tokyo = env.user_in("Asia/Tokyo").await?;
    let utc = new_id(); // unknown to identity: UTC
    let day = (now() - 3 * DAY) / DAY * DAY; // a UTC midnight
    for user in [tokyo, utc] {
        for hour_minute in [(14, 30), (15, 30)] {
            // 23:30 and 00:30 in Tokyo: two days there, one in UTC.
            let at = day + hour_minute.0 * HOUR + hour_minute.1 * MINUTE;
            let request = RecordProgressRequest {
                skill_area: "rhythm".into(),
                difficulty: Difficulty::Beginner.into(),
                minutes: 10,
                recorded_at: Some(ts(at)),
                ..Default::default()
            };
            env.progress().record_progress(env.req(user, request)).await?;
        }
    }
    let mut client = env.progress();
    let in_tokyo =
        client.get_progress_summary(env.req(tokyo, GetProgressSummaryRequest::default())).await?.into_inner();
    assert_eq!(
        (in_tokyo.timezone.as_str(), in_tokyo.longest_streak_days, in_tokyo.current_streak_days),
        ("Asia/Tokyo", 2, 0)
    );
    let in_utc = client.get_progress_summary(env.req(utc, GetProgressSummaryRequest::default())).await?.into_inner();
    assert_eq!((in_utc.timezone.as_str(), in_utc.longest_streak_days), ("UTC", 1));
    Ok(())
}

#[tokio::test]
async fn summary_totals_equal_the_records_written() -> anyhow::Result<()> {
    let env = Env::start().await?;
    let me = new_id();
    let lick = env.item(me, "JAZZ_LICK", false).await?;
    let scale = env.item(me, "SCALE_PATTERN", false).await?;
    let s1 = env.start_session(me, None).await?;
    env.practice().add_practice_record(env.req(me, add(&s1.id, lick, 12, Some(80.0)))).await?;
    env.practice().add_practice_record(env.req(me, add(&s1.id, scale, 8, Some(40.0)))).await?;
    let end = EndPracticeSessionRequest { id: s1.id.clone(), rating: Some(3), ..Default::default() };
    env.practice().end_practice_session(env.req(me, end)).await?;
    let s2 = env.start_session(me, None).await?;
    env.practice()
        .end_practice_session(
            env.req(me, EndPracticeSessionRequest { id: s2.id, rating: Some(5), ..Default::default() }),
        )
        .await?;
    for (area, minutes, score) in [("scales", 7, Some(60.0)), ("voice_leading", 30, None)] {
        let request = RecordProgressRequest {
            skill_area: area.into(),
            difficulty: Difficulty::Intermediate.into(),
            minutes,
            score,
            ..Default::default()
        };
        env.progress().record_progress(env.req(me, request)).await?;
    }
    let s = env.progress().get_progress_summary(env.req(me, GetProgressSummaryRequest::default())).await?.into_inner();
    assert_eq!(s.total_minutes, 12 + 8 + 7 + 30);
    let area = |name: &str| s.minutes_by_skill_area.iter().find(|a| a.skill_area == name).map(|a| a.minutes);
    assert_eq!(
        (area("improvisation"), area("scales"), area("voice_leading"), area("harmony")),
        (Some(12), Some(15), Some(30), Some(0))
    );
    assert_eq!(s.minutes_by_week.iter().map(|w| w.minutes).sum::<i64>(), s.total_minutes);
    assert_eq!((s.session_count, s.average_rating), (2, Some(4.0)));
    assert_eq!((s.current_streak_days, s.longest_streak_days), (1, 1));
    let scales = s.score_trends.iter().find(|t| t.skill_area == "scales").map(|t| t.points.clone()).unwrap_or_default();
    assert_eq!(scales.first().map(|p| (p.average_score, p.sample_count)), Some((50.0, 2)));
    let listed = env
        .progress()
        .list_progress_records(
            env.req(me, ListProgressRecordsRequest { skill_area: "scales".into(), ..Default::default() }),
        )
        .await?;
    assert_eq!(listed.into_inner().records.len(), 1);
    Ok(())
}

#[tokio::test]
async fn sixty_sessions_page_without_gaps_and_tokens_are_bound() -> anyhow::Result<()> {
    let env = Env::start().await?;
    let me = new_id();
    let now = now();
    let mut written = HashSet::new();
    for i in 0..60 {
        // Pairs share a start time: the id breaks the tie.
        let session = env.start_session(me, Some(ts(now - (i / 2) * MINUTE))).await?;
        written.insert(session.id);
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    let mut first_token = None;
    loop {
        let request = ListPracticeSessionsRequest { page_size: 7, page_token: token.clone(), ..Default::default() };
        let page = env.practice().list_practice_sessions(env.req(me, request)).await?.into_inner();
        seen.extend(page.sessions.into_iter().map(|s| (s.started_at.map(|t| t.seconds).unwrap_or_default(), s.id)));
        if page.next_page_token.is_empty() {
            break;
        }
        first_token.get_or_insert(page.next_page_token.clone());
        token = page.next_page_token;
    }
    assert_eq!(seen.len(), 60);
    assert_eq!(seen.iter().map(|(_, id)| id.clone()).collect::<HashSet<_>>(), written);
    assert!(seen.windows(2).all(|w| w[0] >= w[1]), "latest first");
    let token = first_token.unwrap_or_default();
    let stolen = ListPracticeSessionsRequest { page_size: 7, page_token: token.clone(), ..Default::default() };
    let stolen =
        env.practice().list_practice_sessions(env.req(new_id(), stolen)).await.err().unwrap_or_else(|| Status::ok(""));
    assert_eq!((stolen.code(), fields_of(&stolen)), (Code::InvalidArgument, vec!["page_token".to_owned()]));
    let other_range =
        ListPracticeSessionsRequest { start_time: Some(ts(now - DAY)), page_token: token, ..Default::default() };
    let other_range = env.practice().list_practice_sessions(env.req(me, other_range)).await.err().map(|s| s.code());
    assert_eq!(other_range, Some(Code::InvalidArgument));
    Ok(())
}
