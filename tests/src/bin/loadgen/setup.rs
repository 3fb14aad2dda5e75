//! Before and around the measurements: the learner and its data at scale,
//! the run's context, resident memory, and the plans of the reads.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use jazz_contract::jazz::content::v1::content_service_client::ContentServiceClient;
use jazz_contract::jazz::identity::v1::auth_service_client::AuthServiceClient;
use jazz_contract::jazz::identity::v1::user_service_client::UserServiceClient;
use jazz_contract::jazz::identity::v1::{GetMeRequest, SignInRequest};
use jazz_contract::jazz::progress::v1 as progress_pb;
use jazz_contract::jazz::progress::v1::practice_service_client::PracticeServiceClient;
use jazz_e2e::sql;
use jazz_platform::principal::PrincipalKey;
use tokio::sync::oneshot;
use tonic::metadata::{Ascii, MetadataValue};
use uuid::Uuid;

use crate::scenarios::{Addresses, Caller, EMAIL, Fixtures, PASSWORD};

/// The learner, signed in, with its data at scale.
pub struct Prepared {
    /// `Bearer <session token>`.
    pub bearer: MetadataValue<Ascii>,
    /// The learner's id.
    pub user: Uuid,
    /// What the calls refer to.
    pub fixtures: Fixtures,
    /// Sizes and how long they took to make, for the report.
    pub scale: Vec<(String, String)>,
}

fn database(name: &str) -> anyhow::Result<String> {
    std::env::var(name).map_err(|_| anyhow::anyhow!("{name} must be set (deploy/local/bench.sh sets it)"))
}

/// Signs the demo learner in, moves it to the Educator plan (the mix
/// generates), and grows its practice history and the catalogue to scale.
pub async fn prepare(addresses: Addresses, _key: &PrincipalKey) -> anyhow::Result<Prepared> {
    let channel = jazz_e2e::connect(addresses.gateway).await?;
    let signed_in = AuthServiceClient::new(channel.clone())
        .sign_in(SignInRequest { email: EMAIL.into(), password: PASSWORD.into() })
        .await?
        .into_inner();
    let bearer: MetadataValue<Ascii> = format!("Bearer {}", signed_in.session_token).parse()?;
    let caller = Caller::Gateway(bearer.clone());
    let me =
        UserServiceClient::new(channel.clone()).get_me(caller.request(GetMeRequest::default())).await?.into_inner();
    let user_id = me.user.map(|u| u.id).unwrap_or_default();
    let user = jazz_platform::ids::parse_id("user_id", &user_id).map_err(|v| anyhow::anyhow!("{v:?}"))?;

    // Twelve licks, one per key, each practised once through the gateway.
    let session = PracticeServiceClient::new(channel.clone())
        .start_practice_session(caller.request(progress_pb::StartPracticeSessionRequest::default()))
        .await?
        .into_inner()
        .session
        .map(|s| s.id)
        .unwrap_or_default();
    let mut lick = String::new();
    for (i, key) in ["C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"].iter().enumerate() {
        let request = caller.request(jazz_e2e::lick_request(key, 160, &format!("bench-{i}")));
        let item = ContentServiceClient::new(channel.clone()).generate_content(request).await?.into_inner();
        let id = item.content.map(|c| c.id).unwrap_or_default();
        let add = progress_pb::AddPracticeRecordRequest {
            practice_session_id: session.clone(),
            content_id: id.clone(),
            minutes: 10,
            performance: Some(70.0),
            ..Default::default()
        };
        PracticeServiceClient::new(channel.clone()).add_practice_record(caller.request(add)).await?;
        if lick.is_empty() {
            lick = id;
        }
    }

    let mut billing = AsyncPgConnection::establish(&database("BILLING_DATABASE_URL")?).await?;
    // The first generation made the learner's subscription (FREE); an
    // update before it found no row.
    let moved =
        sql::execute(&mut billing, &format!("UPDATE subscriptions SET tier = 'EDUCATOR' WHERE user_id = '{user}'"))
            .await?;
    anyhow::ensure!(moved == 1, "the learner has no subscription to move to Educator");
    // The mix generates faster than Educator's 2 000 a month allow (the
    // refusals would be the quota working, not the system failing): the
    // bench's Educator plan generates without a limit.
    sql::execute(
        &mut billing,
        "UPDATE plans SET entitlements = jsonb_set(entitlements, '{ai_generation}', 'null') WHERE tier = 'EDUCATOR'",
    )
    .await?;
    jazz_e2e::await_limit(&channel, jazz_contract::jazz::common::v1::SubscriptionTier::Educator, "ai_generation", None)
        .await?;

    let mut scale = Vec::new();
    let items: i64 = std::env::var("BENCH_CONTENT_ROWS").ok().and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
    let mut content = AsyncPgConnection::establish(&database("CONTENT_DATABASE_URL")?).await?;
    let started = Instant::now();
    jazz_e2e::scale::content_catalogue(&mut content, user, items).await?;
    sql::execute(&mut content, "VACUUM ANALYZE generated_content").await?;
    scale
        .push(("content catalogue".into(), format!("{items} items, made in {:.0} s", started.elapsed().as_secs_f64())));

    let records: i64 = std::env::var("BENCH_PRACTICE_RECORDS").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let mut progress = AsyncPgConnection::establish(&database("PROGRESS_DATABASE_URL")?).await?;
    let started = Instant::now();
    jazz_e2e::scale::practice_history(&mut progress, user, records, 365).await?;
    sql::execute(&mut progress, "VACUUM ANALYZE practice_records").await?;
    scale.push((
        "practice history".into(),
        format!("{records} records of one learner over 365 days, made in {:.0} s", started.elapsed().as_secs_f64()),
    ));
    let fixtures = Fixtures { lick, session, catalogue: u64::try_from(items).unwrap_or(0) };
    Ok(Prepared { bearer, user, fixtures, scale })
}

/// Commit, machine and time of the run.
pub fn context() -> BTreeMap<String, String> {
    let run = |program: &str, args: &[&str]| {
        std::process::Command::new(program)
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    let mut context = BTreeMap::new();
    context.insert("commit".into(), run("git", &["rev-parse", "--short", "HEAD"]));
    context.insert("date".into(), run("date", &["-u", "+%Y-%m-%dT%H:%M:%SZ"]));
    context.insert("machine".into(), format!("{} cores, {cpu}, {}", run("nproc", &[]), run("uname", &["-sr"])));
    context.insert("postgresql".into(), run("psql", &["--version"]));
    context
}

/// Resident memory (MiB) of each process whose pid file is in `dir`.
pub fn memory(dir: &PathBuf) -> BTreeMap<String, f64> {
    let mut found = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return found };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("pid") {
            continue;
        }
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
        let pid = std::fs::read_to_string(&path).unwrap_or_default();
        let status = std::fs::read_to_string(format!("/proc/{}/status", pid.trim())).unwrap_or_default();
        let kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|n| n.parse::<f64>().ok());
        if let Some(kib) = kib {
            found.insert(name, kib / 1024.0);
        }
    }
    found
}

/// Samples [`memory`] every 250 ms until stopped; the most seen per process.
pub struct MemoryWatch {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<BTreeMap<String, f64>>,
}

/// Starts a [`MemoryWatch`].
pub fn watch_memory(dir: PathBuf) -> MemoryWatch {
    let (stop, mut stopped) = oneshot::channel();
    let task = tokio::spawn(async move {
        let mut most = BTreeMap::<String, f64>::new();
        loop {
            for (process, mib) in memory(&dir) {
                let entry = most.entry(process).or_default();
                *entry = entry.max(mib);
            }
            tokio::select! {
                _ = &mut stopped => return most,
                () = tokio::time::sleep(Duration::from_millis(250)) => {}
            }
        }
    });
    MemoryWatch { stop, task }
}

impl MemoryWatch {
    /// The most each process held while watched.
    pub async fn stop(self) -> BTreeMap<String, f64> {
        let _ = self.stop.send(());
        self.task.await.unwrap_or_default()
    }
}

/// `EXPLAIN (ANALYZE, BUFFERS)` of the reads at scale, in the shapes the
/// stores run them (services/content/src/store/content.rs,
/// services/progress/src/store/summary.rs), with the learner's values.
pub async fn plans(user: Uuid, fixtures: &Fixtures) -> anyhow::Result<BTreeMap<String, String>> {
    let lick = jazz_platform::ids::parse_id("lick", &fixtures.lick).map_err(|v| anyhow::anyhow!("{v:?}"))?;
    let caller_joins = format!(
        "FROM generated_content gc \
         LEFT JOIN content_likes cl ON cl.generated_content_id = gc.id AND cl.user_id = '{user}' \
         LEFT JOIN saved_content sc ON sc.generated_content_id = gc.id AND sc.user_id = '{user}'"
    );
    // SearchContent's first query: the newest 1 000 matches, ranked; the
    // page's rows are then read by id.
    let candidates = |words: &str| {
        format!(
            "SELECT id, ts_rank(search_vector, websearch_to_tsquery('english', '{words}')) FROM generated_content \
              WHERE search_vector @@ websearch_to_tsquery('english', '{words}') AND deleted_at IS NULL \
                AND (user_id = '{user}' OR is_public) ORDER BY created_at DESC, id DESC LIMIT 1000"
        )
    };
    let content = [
        ("GetContent (by id)", format!("SELECT gc.*, cl.user_id, sc.id {caller_joins} WHERE gc.id = '{lick}'")),
        ("SearchContent candidates 'blues' (a common word)", candidates("blues")),
        ("SearchContent candidates 'bebop lick' (a rare phrase)", candidates("bebop lick")),
        (
            "ListPublicContent newest",
            format!(
                "SELECT gc.id, gc.title, cl.user_id, sc.id {caller_joins} WHERE gc.is_public AND gc.deleted_at IS NULL \
                  ORDER BY gc.created_at DESC, gc.id DESC LIMIT 21"
            ),
        ),
        (
            "ListPublicContent most liked",
            format!(
                "SELECT gc.id, gc.title, cl.user_id, sc.id {caller_joins} WHERE gc.is_public AND gc.deleted_at IS NULL \
                  ORDER BY gc.likes DESC, gc.id DESC LIMIT 21"
            ),
        ),
    ];
    let progress = [(
        "GetProgressSummary: 30 days by local day and area",
        format!(
            "SELECT (at AT TIME ZONE 'America/New_York')::date AS day, area, sum(minutes) \
               FROM (SELECT bucket AS at, skill_area AS area, minutes FROM practice_rollups \
                      WHERE user_id = '{user}' AND bucket >= date_trunc('hour', now()) - interval '30 days' \
                        AND bucket < date_trunc('hour', now()) \
                     UNION ALL \
                     SELECT practiced_at, coalesce(skill_area, ''), time_spent FROM practice_records \
                      WHERE user_id = '{user}' AND practiced_at >= date_trunc('hour', now()) AND practiced_at < now()) e \
              GROUP BY 1, 2"
        ),
    )];
    let mut plans = BTreeMap::new();
    for (url, queries) in
        [(database("CONTENT_DATABASE_URL")?, content.to_vec()), (database("PROGRESS_DATABASE_URL")?, progress.to_vec())]
    {
        let mut conn = AsyncPgConnection::establish(&url).await?;
        sql::execute(&mut conn, "SET jit = off").await?;
        for (name, query) in queries {
            let plan = sql::plan(&mut conn, &format!("EXPLAIN (ANALYZE, BUFFERS) {query}")).await?;
            plans.insert(name.to_owned(), plan.join("\n"));
        }
    }
    Ok(plans)
}
