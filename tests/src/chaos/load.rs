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

use super::events::{hold_write_lock, wait_for_lock_waiters};
use super::harness::{Codes, DEMO_EMAIL, DEMO_PASSWORD, Harness, Tally};

/// When each call was answered (from the scenario's start) and how.
type CallLog = Vec<(Duration, Result<String, tonic::Status>)>;

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

/// The demo learner signed in from 127.0.0.`host`: the address, her
/// token, a gateway channel from that address, and the title this
/// scenario's sessions carry.
async fn learner(
    h: &Harness,
    host: u8,
    scenario: &str,
    run: &str,
) -> anyhow::Result<(IpAddr, String, Channel, String)> {
    let from: IpAddr = [127, 0, 0, host].into();
    let token = h.sign_in(from, DEMO_EMAIL, DEMO_PASSWORD).await?;
    let channel = h.channel("gateway", from).await?;
    Ok((from, token, channel, format!("chaos-{scenario}-{run}")))
}

fn ms(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

/// 3. `pg_ctl restart -m immediate` under a steady stream of acknowledged
///    writes: every OK is stored exactly once, failures are UNAVAILABLE or
///    ABORTED, and the pools heal within seconds without a restart.
pub async fn postgres_restarted(h: &mut Harness, run: &str) -> anyhow::Result<Tally> {
    let mut t = Tally::default();
    let (_, token, channel, title) = learner(h, 13, "restart", run).await?;
    const WRITERS: usize = 4;
    const BEFORE: Duration = Duration::from_secs(2);
    const AFTER: Duration = Duration::from_secs(8);
    const HEAL_WITHIN: Duration = Duration::from_secs(5);
    let start = Instant::now();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // (offset from start, answer) of every call.
    let log: Arc<Mutex<CallLog>> = Arc::default();
    let mut writers = Vec::new();
    for _ in 0..WRITERS {
        let (channel, token, title, log, stop) =
            (channel.clone(), token.clone(), title.clone(), log.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            // Bounded: stopped below, and never past a minute.
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && start.elapsed() < Duration::from_secs(60) {
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
    tokio::time::sleep(BEFORE).await;
    let took = h.restart_postgres().await?;
    let restarted = start.elapsed();
    t.count("pg_ctl restart -m immediate took", ms(took));
    tokio::time::sleep(AFTER).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
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
    t.count("writers / calls sent", format!("{WRITERS} / {}", log.len()));
    t.count("answers", &codes);
    for (_, answer) in &log {
        if let Err(status) = answer
            && !matches!(status.code(), tonic::Code::Unavailable | tonic::Code::Aborted)
        {
            t.count("  e.g.", format!("{:?} {}", status.code(), status.message()));
            break;
        }
    }
    t.check("failures are only UNAVAILABLE or ABORTED", codes.only(&["OK", "Unavailable", "Aborted"]), &codes);
    let healed = last_failure.map_or(Duration::ZERO, |at| at.saturating_sub(restarted));
    t.count("last failure after PostgreSQL was back", ms(healed));
    t.check("the pools healed within 5 s, without a restart", healed <= HEAL_WITHIN, ms(healed));
    let ok_after = log.iter().filter(|(at, a)| last_failure.is_none_or(|l| *at > l) && a.is_ok()).count();
    t.count("calls answered OK after the last failure", ok_after);
    t.check("calls succeed again after the restart", ok_after > 0, ok_after);
    let (rows, once) = stored(h, &title, &ok_ids).await?;
    t.count("sessions stored", rows);
    t.count("OK answers stored exactly once", format!("{once} of {}", ok_ids.len()));
    t.check("every call answered OK is stored exactly once", once == ok_ids.len(), once);
    let unknown = rows - i64::try_from(ok_ids.len())?;
    t.count("stored although the call failed (outcome unknown to the caller)", unknown);
    let failures = i64::try_from(log.len() - ok_ids.len())?;
    t.check("nothing stored twice or from nowhere", (0..=failures).contains(&unknown), unknown);
    for process in super::harness::PROCESSES {
        let serving = h.wait_serving(process, HEAL_WITHIN).await;
        t.check(&format!("{process} SERVING again"), serving.is_ok(), format!("{serving:?}"));
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
    let (_, token, channel, title) = learner(h, 14, "lock", run).await?;
    const DEADLINE: Duration = Duration::from_secs(2);
    const WAVE: usize = 24;
    const WAVES: usize = 2;
    let mut lock = hold_write_lock(h, "progress", "practice_sessions").await?;
    let before = list_sessions(&channel, &token, DEADLINE).await;
    t.check("a read passes the write lock", before.is_ok(), format!("{:?}", before.err()));

    // Two waves: a statement whose call timed out must not outlive it by
    // more than a moment, or each wave leaves a pool's worth of server
    // backends behind and PostgreSQL's connections run out.
    let mut admin = h.db("progress").await?;
    let mut codes = Codes::default();
    let (mut slowest, mut expired, mut most_waiting) = (Duration::ZERO, 0, 0);
    for _ in 0..WAVES {
        let mut wave = Vec::new();
        for _ in 0..WAVE {
            let (channel, token, title) = (channel.clone(), token.clone(), title.clone());
            wave.push(tokio::spawn(async move {
                let begun = Instant::now();
                let answer = start_session(&channel, &token, &title, DEADLINE).await;
                (begun.elapsed(), answer)
            }));
        }
        for call in wave {
            let (took, answer) = call.await?;
            slowest = slowest.max(took);
            // tonic's client enforces the deadline it sends too and names
            // its own expiry CANCELLED "Timeout expired" (the two clocks
            // race); a call still waiting for a pooled connection gets the
            // pool's UNAVAILABLE at the same instant (its wait is 2 s too).
            expired += usize::from(answer.as_ref().is_err_and(|s| {
                matches!(s.code(), tonic::Code::DeadlineExceeded | tonic::Code::Unavailable)
                    || (s.code() == tonic::Code::Cancelled && s.message() == "Timeout expired")
            }));
            codes.add(&answer);
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        most_waiting = most_waiting.max(super::events::lock_waiters(&mut admin).await?);
    }
    t.count("writes sent against the lock (pool holds 12)", format!("{WAVES} waves of {WAVE}"));
    t.count("answers (CANCELLED: the client's own deadline fired first)", &codes);
    t.count("slowest answer", ms(slowest));
    t.check("every write ended at its deadline", expired == WAVES * WAVE, &codes);
    t.check("within budget (deadline + 500 ms)", slowest <= DEADLINE + Duration::from_millis(500), ms(slowest));
    t.count("statements left waiting 1.5 s after a wave (most)", most_waiting);
    t.check("timed-out statements do not pile up (at most a pool's worth)", most_waiting <= 12, most_waiting);

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
    let (from, token, channel, title) = learner(h, 15, "term", run).await?;
    const IN_FLIGHT: usize = 8;
    let mut watch = HealthClient::new(h.channel("progress", from).await?)
        .watch(HealthCheckRequest { service: String::new() })
        .await?
        .into_inner();
    let first = watch.message().await?.map(|m| m.status());
    t.check("progress SERVING before", first == Some(ServingStatus::Serving), format!("{first:?}"));

    let mut lock = hold_write_lock(h, "progress", "practice_sessions").await?;
    let mut held = Vec::new();
    for _ in 0..IN_FLIGHT {
        let (channel, token, title) = (channel.clone(), token.clone(), title.clone());
        held.push(tokio::spawn(async move { start_session(&channel, &token, &title, Duration::from_secs(10)).await }));
    }
    let waiting = wait_for_lock_waiters(h, "progress", i64::try_from(IN_FLIGHT)?, Duration::from_secs(10)).await?;
    t.count("calls in flight (waiting on the lock) at SIGTERM", waiting);
    t.check("calls were in flight at SIGTERM", waiting == i64::try_from(IN_FLIGHT)?, waiting);

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

    // A read (the lock lets it pass): refused, not served, not left hanging.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let asked = Instant::now();
    let refused = list_sessions(&channel, &token, Duration::from_secs(2)).await;
    let refused_code = refused.as_ref().err().map(tonic::Status::code);
    t.count("a new call through the gateway while draining", format!("{refused_code:?} in {}", ms(asked.elapsed())));
    t.check("new calls refused (UNAVAILABLE)", refused_code == Some(tonic::Code::Unavailable), format!("{refused:?}"));
    let connect = tokio::net::TcpStream::connect(("127.0.0.1", h.port("progress"))).await;
    t.count("a new TCP connection to progress while draining", if connect.is_ok() { "accepted" } else { "refused" });
    t.check("the listener is closed while draining", connect.is_err(), "accepted");

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
    // `CHAOS_BURST_ADDRESSES` (1) spreads the burst over that many client
    // addresses (127.0.1.x), past the per-address credential limit, to
    // measure what the concurrency limits and identity's hashing do alone.
    let burst: usize = std::env::var("CHAOS_BURST").ok().and_then(|n| n.parse().ok()).unwrap_or(2000);
    let addresses: u8 = std::env::var("CHAOS_BURST_ADDRESSES").ok().and_then(|n| n.parse().ok()).unwrap_or(1).max(1);
    let rss_before = (h.rss_kib("gateway")?, h.rss_kib("identity")?);
    // HTTP/2 allows 256 streams per connection: eight connections (per
    // address when there are few) carry the whole burst at once.
    let mut channels = Vec::new();
    for a in 0..addresses {
        let from: IpAddr = if addresses == 1 { [127, 0, 0, 16].into() } else { [127, 0, 1, a].into() };
        for _ in 0..(8 / usize::from(addresses)).max(1) {
            channels.push(h.channel("gateway", from).await?);
        }
    }
    let start = Instant::now();
    let mut calls = Vec::new();
    for i in 0..burst {
        let channel = channels[i % channels.len()].clone();
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
    let (mut shed_latencies, mut admitted, mut all_done) = (Vec::new(), Vec::new(), Duration::ZERO);
    for call in calls {
        let (at, answer) = call.await?;
        let took = at.duration_since(start);
        all_done = all_done.max(took);
        if answer.is_err() {
            shed_latencies.push(took)
        } else {
            admitted.push(took)
        }
        codes.add(&answer);
    }
    shed_latencies.sort();
    let p99 = shed_latencies.get(shed_latencies.len().saturating_sub(1) * 99 / 100).copied().unwrap_or_default();
    t.count("sign-ins sent at once / client addresses", format!("{burst} / {addresses}"));
    t.count("answers", &codes);
    t.count("refused answers' p99 / all answered after", format!("{} / {}", ms(p99), ms(all_done)));
    t.check(
        "only OK, RESOURCE_EXHAUSTED or UNAVAILABLE",
        codes.only(&["OK", "ResourceExhausted", "Unavailable"]),
        &codes,
    );
    t.check("the burst was shed", codes.total() - codes.of("OK") >= burst / 2, &codes);
    // Queued instead of shed, the burst would wait for every password
    // hash: 2000 argon2 runs on two cores take far longer than this bound.
    t.check("shed at once (refusals' p99 under 5 s on the debug build)", p99 < Duration::from_secs(5), ms(p99));
    let mib = |kib: u64| kib / 1024;
    t.count(
        "RSS gateway / identity: before → peak (MiB)",
        format!("{} → {} / {} → {}", mib(rss_before.0), mib(peak.0), mib(rss_before.1), mib(peak.1)),
    );
    // Refused calls must cost nothing: the gateway's memory stays flat, and
    // identity's grows only with the sign-ins it admitted (argon2id takes
    // 12 MiB per hash running at once, kept for reuse), never with the
    // burst.
    let admitted = u64::try_from(codes.of("OK"))?;
    let identity_bound = (64 + 24 * admitted).min(512) * 1024;
    t.check("gateway memory bounded (grew < 64 MiB)", peak.0.saturating_sub(rss_before.0) < 64 * 1024, mib(peak.0));
    t.check(
        &format!("identity memory bounded by what it admitted (grew < {} MiB)", identity_bound / 1024),
        peak.1.saturating_sub(rss_before.1) < identity_bound,
        mib(peak.1),
    );

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
