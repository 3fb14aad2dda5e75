//! Scenarios 3–6: faults under a stream of calls through the gateway.
//! The writes are StartPracticeSession (progress), each with its own
//! `request_id`, so what was stored can be counted against what was
//! answered.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jazz_contract::jazz::identity::v1 as identity_pb;
use jazz_contract::jazz::progress::v1 as progress_pb;
use jazz_e2e::{bearer, sql};
use tokio::sync::Mutex;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use super::events::wait_for_lock_waiters;
use super::harness::{Codes, DEMO_EMAIL, DEMO_PASSWORD, Harness, Tally};

type Practice = progress_pb::practice_service_client::PracticeServiceClient<Channel>;

/// One StartPracticeSession titled `title` with a fresh request id and
/// the given deadline; the new session's id.
async fn start_session(
    channel: &Channel,
    token: &str,
    title: &str,
    deadline: Duration,
) -> Result<String, tonic::Status> {
    let message = progress_pb::StartPracticeSessionRequest {
        title: title.to_owned(),
        request_id: uuid::Uuid::new_v4().simple().to_string(),
        ..Default::default()
    };
    let mut request = bearer(message, token).map_err(|e| tonic::Status::internal(e.to_string()))?;
    request.set_timeout(deadline);
    let answer = Practice::new(channel.clone()).start_practice_session(request).await?;
    Ok(answer.into_inner().session.map(|s| s.id).unwrap_or_default())
}

/// One ListPracticeSessions with the given deadline.
async fn list_sessions(channel: &Channel, token: &str, deadline: Duration) -> Result<(), tonic::Status> {
    let mut request = bearer(progress_pb::ListPracticeSessionsRequest::default(), token)
        .map_err(|e| tonic::Status::internal(e.to_string()))?;
    request.set_timeout(deadline);
    Practice::new(channel.clone()).list_practice_sessions(request).await.map(drop)
}

/// Sessions titled `title` in progress's database, and how many of `ids`
/// are stored exactly once.
async fn stored(h: &Harness, title: &str, ids: &[String]) -> anyhow::Result<(i64, usize)> {
    let mut progress = h.db("progress").await?;
    let rows =
        sql::number(&mut progress, &format!("SELECT count(*) AS n FROM practice_sessions WHERE title = '{title}'"))
            .await?;
    let mut once = 0;
    for id in ids {
        let Ok(uuid) = jazz_platform::ids::parse_id("id", id) else { continue };
        let n = sql::number(&mut progress, &format!("SELECT count(*) AS n FROM practice_sessions WHERE id = '{uuid}'"))
            .await?;
        once += usize::from(n == 1);
    }
    Ok((rows, once))
}

fn ms(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

/// 3. `pg_ctl restart -m immediate` under a steady stream of acknowledged
///    writes: every OK is stored exactly once, failures are UNAVAILABLE or
///    ABORTED, and the pools heal within seconds without a restart.
pub async fn postgres_restarted(h: &mut Harness, run: &str) -> anyhow::Result<Tally> {
    let mut t = Tally::default();
    let from: IpAddr = [127, 0, 0, 13].into();
    let token = h.sign_in(from, DEMO_EMAIL, DEMO_PASSWORD).await?;
    let channel = h.channel("gateway", from).await?;
    let title = format!("chaos-restart-{run}");
    const WRITERS: usize = 4;
    const RUN_FOR: Duration = Duration::from_secs(12);
    const RESTART_AT: Duration = Duration::from_secs(2);
    let start = Instant::now();
    // (offset from start, answer) of every call.
    let log: Arc<Mutex<Vec<(Duration, Result<String, tonic::Status>)>>> = Arc::default();
    let mut writers = Vec::new();
    for _ in 0..WRITERS {
        let (channel, token, title, log) = (channel.clone(), token.clone(), title.clone(), log.clone());
        writers.push(tokio::spawn(async move {
            while start.elapsed() < RUN_FOR {
                let answer = start_session(&channel, &token, &title, Duration::from_secs(5)).await;
                let failed = answer.is_err();
                log.lock().await.push((start.elapsed(), answer));
                if failed {
                    // A client's retry pause, so a down database is not hammered.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }));
    }
    tokio::time::sleep(RESTART_AT).await;
    let restart_began = start.elapsed();
    let took = h.restart_postgres().await?;
    t.count("pg_ctl restart -m immediate took", ms(took));
    for writer in writers {
        writer.await?;
    }
    let log = std::mem::take(&mut *log.lock().await);
    let mut codes = Codes::default();
    for (_, answer) in &log {
        codes.add(answer);
    }
    let ok_ids: Vec<String> = log.iter().filter_map(|(_, a)| a.as_ref().ok().cloned()).collect();
    let last_failure = log.iter().filter(|(_, a)| a.is_err()).map(|(at, _)| *at).max();
    t.count("calls sent", log.len());
    t.count("answers", &codes);
    t.check("failures are only UNAVAILABLE or ABORTED", codes.only(&["OK", "Unavailable", "Aborted"]), &codes);
    let healed = last_failure.map_or(Duration::ZERO, |at| at.saturating_sub(restart_began));
    t.count("last failure after the restart began", ms(healed));
    t.check("the pools healed within 10 s, without a restart", healed <= Duration::from_secs(10), ms(healed));
    let ok_after = log.iter().filter(|(at, a)| last_failure.is_none_or(|l| *at > l) && a.is_ok()).count();
    t.count("calls answered OK after the last failure", ok_after);
    t.check("calls succeed again after the restart", ok_after > 0, ok_after);
    let (rows, once) = stored(h, &title, &ok_ids).await?;
    t.count("sessions stored", rows);
    t.count("OK answers stored exactly once", format!("{once} of {}", ok_ids.len()));
    t.check("every call answered OK is stored exactly once", once == ok_ids.len(), once);
    let unknown = rows - i64::try_from(ok_ids.len())?;
    t.count("stored although the call failed (outcome unknown to the caller)", unknown);
    t.check("nothing stored twice or from nowhere", (0..=i64::try_from(log.len() - ok_ids.len())?).contains(&unknown), unknown);
    for process in super::harness::PROCESSES {
        let status = h.health(process).await;
        t.check(&format!("{process} SERVING afterwards"), status == ServingStatus::Serving, format!("{status:?}"));
    }
    Ok(t)
}

/// 4. A locked table under a 2 s deadline: DEADLINE_EXCEEDED within
///    budget, and no pool left exhausted.
///
/// `practice_sessions` is locked against writes (reads still pass); a wave
/// of StartPracticeSession, more than progress's pool holds, waits on it
/// until the deadline; then reads of the same service must still find a
/// connection while the lock is held, and writes succeed once it is gone.
pub async fn table_locked(h: &mut Harness, run: &str) -> anyhow::Result<Tally> {
    let mut t = Tally::default();
    let from: IpAddr = [127, 0, 0, 14].into();
    let token = h.sign_in(from, DEMO_EMAIL, DEMO_PASSWORD).await?;
    let channel = h.channel("gateway", from).await?;
    let title = format!("chaos-lock-{run}");
    const DEADLINE: Duration = Duration::from_secs(2);
    const WAVE: usize = 24;
    let mut lock = h.db("progress").await?;
    sql::execute(&mut lock, "BEGIN").await?;
    sql::execute(&mut lock, "LOCK TABLE practice_sessions IN EXCLUSIVE MODE").await?;
    let before = list_sessions(&channel, &token, DEADLINE).await;
    t.check("a read passes the write lock", before.is_ok(), format!("{:?}", before.err()));

    let mut wave = Vec::new();
    for _ in 0..WAVE {
        let (channel, token, title) = (channel.clone(), token.clone(), title.clone());
        wave.push(tokio::spawn(async move {
            let begun = Instant::now();
            let answer = start_session(&channel, &token, &title, DEADLINE).await;
            (begun.elapsed(), answer)
        }));
    }
    let mut codes = Codes::default();
    let mut slowest = Duration::ZERO;
    for call in wave {
        let (took, answer) = call.await?;
        slowest = slowest.max(took);
        codes.add(&answer);
    }
    t.count("writes sent against the lock (pool holds 12)", WAVE);
    t.count("answers", &codes);
    t.count("slowest answer", ms(slowest));
    t.check("every write answered DEADLINE_EXCEEDED", codes.of("DeadlineExceeded") == WAVE, &codes);
    t.check("within budget (deadline + 500 ms)", slowest <= DEADLINE + Duration::from_millis(500), ms(slowest));

    let mut during = Codes::default();
    for _ in 0..3 {
        during.add(&list_sessions(&channel, &token, DEADLINE).await);
    }
    t.count("reads after the wave, lock still held", &during);
    t.check("the pool is not left exhausted (reads still served)", during.of("OK") == 3, &during);

    sql::execute(&mut lock, "ROLLBACK").await?;
    let released = Instant::now();
    let mut after = Codes::default();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let answer = start_session(&channel, &token, &title, DEADLINE).await;
        after.add(&answer);
        ids.extend(answer.ok());
    }
    t.count("writes right after the release", &after);
    t.count("time for them", ms(released.elapsed()));
    t.check("writes succeed right after the lock is released", after.of("OK") == 3, &after);
    let (rows, _) = stored(h, &title, &ids).await?;
    t.count("sessions stored by timed-out writes (outcome unknown to the caller)", rows - 3);
    Ok(t)
}

/// 5. SIGTERM under load: health NOT_SERVING, in-flight calls finish, new
///    ones refused.
///
/// Progress's writes are held in flight by a lock; a Health.Watch stream
/// sees the change; after SIGTERM a call is refused; the lock is released
/// and every held call must answer OK; the process then exits.
pub async fn terminated(h: &mut Harness, run: &str) -> anyhow::Result<Tally> {
    let mut t = Tally::default();
    let from: IpAddr = [127, 0, 0, 15].into();
    let token = h.sign_in(from, DEMO_EMAIL, DEMO_PASSWORD).await?;
    let channel = h.channel("gateway", from).await?;
    let title = format!("chaos-term-{run}");
    const IN_FLIGHT: usize = 8;
    let mut watch = HealthClient::new(h.channel("progress", from).await?)
        .watch(HealthCheckRequest { service: String::new() })
        .await?
        .into_inner();
    let first = watch.message().await?.map(|m| m.status());
    t.check("progress SERVING before", first == Some(ServingStatus::Serving), format!("{first:?}"));

    let mut lock = h.db("progress").await?;
    sql::execute(&mut lock, "BEGIN").await?;
    sql::execute(&mut lock, "LOCK TABLE practice_sessions IN EXCLUSIVE MODE").await?;
    let mut held = Vec::new();
    for _ in 0..IN_FLIGHT {
        let (channel, token, title) = (channel.clone(), token.clone(), title.clone());
        held.push(tokio::spawn(async move { start_session(&channel, &token, &title, Duration::from_secs(10)).await }));
    }
    let waiting = wait_for_lock_waiters(h, "progress", i64::try_from(IN_FLIGHT)?, Duration::from_secs(10)).await?;
    t.count("calls in flight (waiting on the lock) at SIGTERM", waiting);

    h.signal("progress", "TERM")?;
    let signalled = Instant::now();
    let mut seen = None;
    while seen != Some(ServingStatus::NotServing) && signalled.elapsed() < Duration::from_secs(3) {
        match tokio::time::timeout(Duration::from_secs(3), watch.message()).await {
            Ok(Ok(Some(update))) => seen = Some(update.status()),
            _ => break,
        }
    }
    t.count("health after SIGTERM (Watch)", format!("{seen:?} after {}", ms(signalled.elapsed())));
    t.check("health NOT_SERVING while draining", seen == Some(ServingStatus::NotServing), format!("{seen:?}"));
    drop(watch);

    let refused = start_session(&channel, &token, &title, Duration::from_secs(2)).await;
    let refused_code = refused.as_ref().err().map(tonic::Status::code);
    t.count("a new call while draining", format!("{refused_code:?}"));
    t.check("new calls refused (UNAVAILABLE)", refused_code == Some(tonic::Code::Unavailable), format!("{refused_code:?}"));

    sql::execute(&mut lock, "ROLLBACK").await?;
    let mut codes = Codes::default();
    let mut ids = Vec::new();
    for call in held {
        let answer = call.await?;
        codes.add(&answer);
        ids.extend(answer.ok());
    }
    t.count("in-flight calls' answers", &codes);
    t.check("every in-flight call finished OK", codes.of("OK") == IN_FLIGHT, &codes);
    let exit = h.wait_exit("progress", Duration::from_secs(15)).await;
    t.count("progress exited after", format!("{} ({exit:?})", ms(signalled.elapsed())));
    t.check("the process exits once drained", exit.is_ok(), format!("{exit:?}"));
    let (_, once) = stored(h, &title, &ids).await?;
    t.check("the finished calls are stored", once == ids.len(), once);

    h.restart("progress", &[])?;
    h.wait_serving("progress", Duration::from_secs(30)).await?;
    Ok(t)
}

/// 6. A burst of 2000 concurrent sign-ins: shed at once, memory bounded,
///    normal service right after.
pub async fn sign_in_burst(h: &mut Harness) -> anyhow::Result<Tally> {
    let mut t = Tally::default();
    const BURST: usize = 2000;
    // HTTP/2 allows 256 streams per connection: eight connections carry
    // the whole burst at once.
    const CONNECTIONS: usize = 8;
    let from: IpAddr = [127, 0, 0, 16].into();
    let rss_before = (h.rss_kib("gateway")?, h.rss_kib("identity")?);
    let mut channels = Vec::new();
    for _ in 0..CONNECTIONS {
        channels.push(h.channel("gateway", from).await?);
    }
    let start = Instant::now();
    let mut calls = Vec::new();
    for i in 0..BURST {
        let channel = channels[i % CONNECTIONS].clone();
        calls.push(tokio::spawn(async move {
            let mut auth = identity_pb::auth_service_client::AuthServiceClient::new(channel);
            let mut request = tonic::Request::new(identity_pb::SignInRequest {
                email: DEMO_EMAIL.into(),
                password: DEMO_PASSWORD.into(),
            });
            request.set_timeout(Duration::from_secs(20));
            let answer = auth.sign_in(request).await;
            (Instant::now(), answer.map(drop))
        }));
    }
    let mut peak = rss_before;
    let mut sampling = true;
    while sampling {
        peak = (peak.0.max(h.rss_kib("gateway")?), peak.1.max(h.rss_kib("identity")?));
        sampling = calls.iter().any(|c| !c.is_finished()) && start.elapsed() < Duration::from_secs(30);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut codes = Codes::default();
    let (mut shed_latencies, mut all_done) = (Vec::new(), Duration::ZERO);
    for call in calls {
        let (at, answer) = call.await?;
        let took = at.duration_since(start);
        all_done = all_done.max(took);
        if answer.is_err() {
            shed_latencies.push(took);
        }
        codes.add(&answer);
    }
    shed_latencies.sort();
    let p99 = shed_latencies.get(shed_latencies.len().saturating_sub(1) * 99 / 100).copied().unwrap_or_default();
    t.count("sign-ins sent at once", BURST);
    t.count("answers", &codes);
    t.count("refused answers' p99 / all answered after", format!("{} / {}", ms(p99), ms(all_done)));
    t.check("only OK, RESOURCE_EXHAUSTED or UNAVAILABLE", codes.only(&["OK", "ResourceExhausted", "Unavailable"]), &codes);
    t.check("the burst was shed", codes.total() - codes.of("OK") >= BURST / 2, &codes);
    t.check("shed at once (refusals' p99 under 2 s)", p99 < Duration::from_secs(2), ms(p99));
    let mib = |kib: u64| kib / 1024;
    t.count(
        "RSS gateway / identity: before → peak (MiB)",
        format!(
            "{} → {} / {} → {}",
            mib(rss_before.0),
            mib(peak.0),
            mib(rss_before.1),
            mib(peak.1)
        ),
    );
    const BOUND_KIB: u64 = 256 * 1024;
    t.check("gateway memory bounded (grew < 256 MiB)", peak.0.saturating_sub(rss_before.0) < BOUND_KIB, mib(peak.0));
    t.check("identity memory bounded (grew < 256 MiB)", peak.1.saturating_sub(rss_before.1) < BOUND_KIB, mib(peak.1));

    let after = Instant::now();
    let other: IpAddr = [127, 0, 0, 17].into();
    let signed_in = h.sign_in(other, DEMO_EMAIL, DEMO_PASSWORD).await;
    let me = match &signed_in {
        Ok(token) => {
            let mut users =
                identity_pb::user_service_client::UserServiceClient::new(h.channel("gateway", other).await?);
            let answer = users.get_me(bearer(identity_pb::GetMeRequest::default(), token)?).await;
            answer.map(drop).map_err(|s| format!("{:?}", s.code()))
        }
        Err(error) => Err(format!("no session: {error}")),
    };
    t.count("sign-in, then GetMe, right after", format!("{me:?} in {}", ms(after.elapsed())));
    t.check("normal service right after the burst", signed_in.is_ok() && me.is_ok(), format!("{me:?}"));
    Ok(t)
}
