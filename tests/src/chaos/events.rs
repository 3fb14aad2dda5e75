//! Scenarios 1 and 2: the outbox across a killed producer and a killed
//! consumer. Identity's `user_created` goes to billing, which makes the
//! learner's one subscription and records the event id in its inbox
//! (`processed_events`) in the same transaction.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use diesel_async::AsyncPgConnection;
use jazz_contract::jazz::identity::v1 as identity_pb;
use jazz_e2e::sql;

use super::harness::{Codes, Harness, Tally};

/// Where one learner's `user_created` event is.
struct Delivery {
    user: String,
    event: Option<String>,
    status: String,
    subscriptions: i64,
    inbox_rows: i64,
}

/// Signs up `count` learners `<prefix>-<i>@example.com` through the gateway.
async fn sign_up(h: &Harness, from: IpAddr, prefix: &str, count: usize) -> anyhow::Result<(Vec<String>, Codes)> {
    let mut auth = identity_pb::auth_service_client::AuthServiceClient::new(h.channel("gateway", from).await?);
    let mut codes = Codes::default();
    let mut emails = Vec::new();
    for i in 0..count {
        let email = format!("{prefix}-{i}@example.com");
        let answer = auth
            .sign_up(identity_pb::SignUpRequest {
                email: email.clone(),
                password: "a-night-in-tunisia-1942".into(),
                first_name: "Chaos".into(),
                last_name: "Learner".into(),
                timezone: "UTC".into(),
                locale: "en".into(),
                ..Default::default()
            })
            .await;
        codes.add(&answer);
        emails.push(email);
    }
    Ok((emails, codes))
}

/// Each learner's `user_created` event in identity's outbox, and what
/// billing holds for it.
async fn deliveries(h: &Harness, emails: &[String]) -> anyhow::Result<Vec<Delivery>> {
    let (mut identity, mut billing) = (h.db("identity").await?, h.db("billing").await?);
    let mut found = Vec::new();
    for email in emails {
        let user = sql::lines(&mut identity, &format!("SELECT id::text AS line FROM users WHERE email = '{email}'"))
            .await?
            .pop()
            .with_context(|| format!("{email} is not in identity's users"))?;
        let api = jazz_platform::ids::to_api(user.parse()?);
        let events = sql::lines(
            &mut identity,
            &format!(
                "SELECT id::text || ' ' || status AS line FROM outbox_events \
                  WHERE event_type = 'identity.user_created' AND aggregate_id = '{api}'"
            ),
        )
        .await?;
        let (event, status) = match events.as_slice() {
            [one] => one.split_once(' ').map(|(e, s)| (Some(e.to_owned()), s.to_owned())).unwrap_or_default(),
            _ => (None, format!("{} events", events.len())),
        };
        let subscriptions =
            sql::number(&mut billing, &format!("SELECT count(*) AS n FROM subscriptions WHERE user_id = '{user}'"))
                .await?;
        let inbox_rows = match &event {
            Some(id) => {
                sql::number(
                    &mut billing,
                    &format!("SELECT count(*) AS n FROM processed_events WHERE event_id = '{id}'"),
                )
                .await?
            }
            None => 0,
        };
        found.push(Delivery { user, event, status, subscriptions, inbox_rows });
    }
    Ok(found)
}

/// Polls until every learner's event is delivered and applied (at most
/// `within`); the time it took.
async fn wait_applied(h: &Harness, emails: &[String], within: Duration) -> anyhow::Result<(Duration, Vec<Delivery>)> {
    let start = Instant::now();
    loop {
        let found = deliveries(h, emails).await?;
        let done = found.iter().all(|d| d.status == "delivered" && d.subscriptions >= 1);
        if done || start.elapsed() > within {
            return Ok((start.elapsed(), found));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Exactly once: one event per learner, delivered, one subscription, one
/// inbox row.
fn check_once(t: &mut Tally, found: &[Delivery]) {
    let delivered = found.iter().filter(|d| d.status == "delivered").count();
    let subscriptions: i64 = found.iter().map(|d| d.subscriptions).sum();
    let inbox: i64 = found.iter().map(|d| d.inbox_rows).sum();
    t.count("events delivered", format!("{delivered} of {}", found.len()));
    t.count("subscriptions in billing (want one per learner)", subscriptions);
    t.count("inbox rows in billing (want one per event)", inbox);
    let wrong: Vec<String> = found
        .iter()
        .filter(|d| d.event.is_none() || d.status != "delivered" || d.subscriptions != 1 || d.inbox_rows != 1)
        .map(|d| {
            format!("user {} event {:?} {} subs {} inbox {}", d.user, d.event, d.status, d.subscriptions, d.inbox_rows)
        })
        .collect();
    t.check("every event applied exactly once", wrong.is_empty(), wrong.join("; "));
}

/// 1. kill -9 of a producer between commit and delivery: its events are
///    delivered after the restart, once.
///
/// Billing is killed first, so identity's relay cannot deliver what the
/// sign-ups commit (each stays `pending`, retried with backoff); then
/// identity is killed with them undelivered, both come back, and the
/// restarted identity's relay delivers them.
pub async fn producer_killed(h: &mut Harness, run: &str) -> anyhow::Result<Tally> {
    let mut t = Tally::default();
    h.kill9("billing").await?;
    let (emails, codes) = sign_up(h, [127, 0, 0, 11].into(), &format!("chaos-producer-{run}"), 5).await?;
    t.count("sign-ups sent (billing down)", emails.len());
    t.count("answers", &codes);
    t.check("every sign-up answered OK", codes.of("OK") == emails.len(), &codes);
    let before = deliveries(h, &emails).await?;
    let pending = before.iter().filter(|d| d.status == "pending").count();
    t.count("events committed and pending when identity is killed", pending);
    t.check("the events were committed and not delivered", pending == emails.len(), pending);

    h.kill9("identity").await?;
    h.restart("billing", &[])?;
    h.wait_serving("billing", Duration::from_secs(30)).await?;
    restart_and_check(h, &mut t, "identity", &emails).await?;
    Ok(t)
}

/// 2. kill -9 of a consumer mid-handler: the event is applied exactly once.
///
/// A lock on billing's `subscriptions` holds HandleUserCreated inside its
/// transaction (its inbox row written, the subscription waiting); billing is
/// killed there, the lock released, billing restarted; identity's relay
/// delivers again and billing applies each event once.
pub async fn consumer_killed(h: &mut Harness, run: &str) -> anyhow::Result<Tally> {
    let mut t = Tally::default();
    let mut lock = hold_write_lock(h, "billing", "subscriptions").await?;
    let (emails, codes) = sign_up(h, [127, 0, 0, 12].into(), &format!("chaos-consumer-{run}"), 3).await?;
    t.count("sign-ups sent", emails.len());
    t.check("every sign-up answered OK", codes.of("OK") == emails.len(), &codes);
    let waiting = wait_for_lock_waiters(h, "billing", 1, Duration::from_secs(15)).await?;
    t.count("billing handlers held mid-transaction when killed", waiting);
    t.check("a handler was mid-transaction", waiting >= 1, waiting);

    h.kill9("billing").await?;
    sql::execute(&mut lock, "ROLLBACK").await?;
    let applied_by_the_dead = deliveries(h, &emails).await?.iter().map(|d| d.subscriptions).sum::<i64>();
    t.count("subscriptions committed by the killed process", applied_by_the_dead);
    restart_and_check(h, &mut t, "billing", &emails).await?;
    Ok(t)
}

/// Starts `process` again, waits for every learner's event to be applied
/// and checks each was applied exactly once.
async fn restart_and_check(
    h: &mut Harness,
    t: &mut Tally,
    process: &'static str,
    emails: &[String],
) -> anyhow::Result<()> {
    h.restart(process, &[])?;
    let restarted = Instant::now();
    h.wait_serving(process, Duration::from_secs(30)).await?;
    let (_, found) = wait_applied(h, emails, Duration::from_secs(30)).await?;
    t.count(
        &format!("time from {process}'s restart to all applied"),
        format!("{:.1} s", restarted.elapsed().as_secs_f64()),
    );
    check_once(t, &found);
    Ok(())
}

/// A connection to `service`'s database inside a transaction that holds
/// `table` locked against writes (reads pass); ROLLBACK releases it.
pub async fn hold_write_lock(h: &Harness, service: &str, table: &str) -> anyhow::Result<AsyncPgConnection> {
    let mut lock = h.db(service).await?;
    sql::execute(&mut lock, "BEGIN").await?;
    sql::execute(&mut lock, &format!("LOCK TABLE {table} IN EXCLUSIVE MODE")).await?;
    Ok(lock)
}

/// Waits until at least `want` sessions of `service`'s database wait on a
/// lock; how many there are.
pub async fn wait_for_lock_waiters(h: &Harness, service: &str, want: i64, within: Duration) -> anyhow::Result<i64> {
    let mut admin = h.db(service).await?;
    let start = Instant::now();
    loop {
        let waiting = lock_waiters(&mut admin).await?;
        if waiting >= want || start.elapsed() > within {
            return Ok(waiting);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How many sessions of `conn`'s database wait on a lock.
pub async fn lock_waiters(conn: &mut AsyncPgConnection) -> anyhow::Result<i64> {
    sql::number(
        conn,
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    .await
}
