//! The test harness: the whole suite — four services on their own fresh
//! databases and the gateway in front — started in-process on loopback
//! ports, exactly as `make run` wires it, minus the processes.

pub mod oidc;
pub mod scale;
pub mod sql;
pub mod stripe;

use std::net::SocketAddr;
use std::time::Duration;

use jazz_platform::config::{DatabaseConfig, Listen, PeerUrls, ServerLimits};
use jazz_platform::testing::TestDatabase;
use jazz_platform::{Application, ServiceConfig, ServiceMigrations, ServiceName};
use secrecy::SecretString;
use tokio::sync::oneshot;
use tonic::transport::Channel;

/// The principal key every test suite shares.
pub const TEST_PRINCIPAL_SECRET: &str = "test-principal-secret-0123456789abcdef";

/// A running suite. Dropping it stops every server.
pub struct Suite {
    /// The gateway's address.
    pub gateway: SocketAddr,
    /// Every gateway's address, the first being [`Self::gateway`]: more
    /// than one with [`SuiteBuilder::gateways`], each a replica in front of
    /// the same services.
    pub gateways: Vec<SocketAddr>,
    /// Each data service's address, for direct (non-gateway) calls.
    pub services: Vec<(ServiceName, SocketAddr)>,
    /// Each service's database.
    pub databases: Vec<(ServiceName, TestDatabase)>,
    /// Every mail identity sent (verification, reset, magic-link tokens).
    pub mailer: identity::mail::MemoryMailer,
    /// The sign-in provider identity trusts as `google`.
    pub oidc: oidc::OidcStandIn,
    /// The Stripe API billing calls; webhooks signed with
    /// [`stripe::WEBHOOK_SECRET`] are accepted.
    pub stripe: stripe::StripeStandIn,
    stop: Vec<oneshot::Sender<()>>,
}

impl Drop for Suite {
    fn drop(&mut self) {
        for stop in self.stop.drain(..) {
            let _ = stop.send(());
        }
    }
}

/// A service configuration for tests: port 0, a small pool.
pub fn service_config(service: ServiceName, database_url: &str, peers: PeerUrls) -> ServiceConfig {
    ServiceConfig {
        service,
        listen: Listen::Addr(SocketAddr::from(([127, 0, 0, 1], 0))),
        database: database_config(database_url, 4),
        peers,
        principal_secret: SecretString::from(TEST_PRINCIPAL_SECRET.to_owned()),
        migrate_on_start: false,
        limits: ServerLimits::default(),
        relay_interval: Duration::from_millis(100),
    }
}

/// Identity's options in tests: a random provider-token key, `google`
/// verified against the stand-in `oidc`, purge every hour.
pub fn identity_options(oidc: &oidc::OidcStandIn) -> anyhow::Result<identity::config::IdentityOptions> {
    use identity::oauth::oidc::{OidcConfig, OidcVerifier};
    let google = OidcConfig::new(&oidc.issuer, &[oidc::CLIENT_ID, "jazzmaster-android.apps.example"]);
    Ok(identity::config::IdentityOptions {
        token_cipher: identity::domain::sealed::TokenCipher::random()?,
        verifier: std::sync::Arc::new(OidcVerifier::new([(identity::domain::providers::Provider::Google, google)])?),
        purge_interval: Duration::from_secs(3600),
    })
}

/// How long a test waits for a queued mail (the relay is woken at commit;
/// this only bounds a failure).
pub const MAIL_WAIT: Duration = Duration::from_secs(10);

/// The migrations of one data service.
pub fn migrations_of(service: ServiceName) -> ServiceMigrations {
    match service {
        ServiceName::Identity => identity::MIGRATIONS,
        ServiceName::Billing => billing::MIGRATIONS,
        ServiceName::Content => content::MIGRATIONS,
        ServiceName::Progress | ServiceName::Gateway => progress::MIGRATIONS,
    }
}

fn spawn(app: Application, stop: &mut Vec<oneshot::Sender<()>>) -> SocketAddr {
    let addr = app.local_addr();
    let (tx, rx) = oneshot::channel::<()>();
    stop.push(tx);
    tokio::spawn(async move {
        let _ = app
            .run_until_stopped(async {
                let _ = rx.await;
            })
            .await;
    });
    addr
}

impl Suite {
    /// Starts everything on fresh databases, with default limits.
    pub async fn start() -> anyhow::Result<Self> {
        Self::builder().start().await
    }

    /// A suite with settings other than the defaults:
    /// `Suite::builder().rate_limits(…).gateway_limits(…).start()`.
    pub fn builder() -> SuiteBuilder {
        SuiteBuilder::default()
    }
}

/// How a [`Suite`] is started (the crates.io `TestApp` builder's shape).
pub struct SuiteBuilder {
    rate_limits: gateway::limits::RateLimits,
    gateway_limits: ServerLimits,
    gateways: usize,
}

impl Default for SuiteBuilder {
    fn default() -> Self {
        Self { rate_limits: Default::default(), gateway_limits: ServerLimits::default(), gateways: 1 }
    }
}

impl SuiteBuilder {
    /// The gateway's per-address, per-user and credential rate limits.
    pub fn rate_limits(mut self, rate_limits: gateway::limits::RateLimits) -> Self {
        self.rate_limits = rate_limits;
        self
    }

    /// How many gateway replicas to start (1 by default), each with the
    /// same settings: with [`RateLimits::shared`](gateway::limits::RateLimits)
    /// set they share their limits in Redis.
    pub fn gateways(mut self, count: usize) -> Self {
        self.gateways = count.max(1);
        self
    }

    /// The gateway's server limits (concurrency, message size, timeout).
    pub fn gateway_limits(mut self, limits: ServerLimits) -> Self {
        self.gateway_limits = limits;
        self
    }

    /// Makes the four databases (concurrently, each copied from its
    /// migrated template), seeds billing's catalogue, binds every
    /// listener, then builds and serves each service on its own listener
    /// and the gateway in front.
    pub async fn start(self) -> anyhow::Result<Suite> {
        let (identity_db, billing_db, content_db, progress_db) = tokio::try_join!(
            TestDatabase::migrated(ServiceName::Identity, identity::MIGRATIONS),
            TestDatabase::migrated(ServiceName::Billing, billing::MIGRATIONS),
            TestDatabase::migrated(ServiceName::Content, content::MIGRATIONS),
            TestDatabase::migrated(ServiceName::Progress, progress::MIGRATIONS),
        )?;
        // The plan catalogue, as `make seed` loads it.
        billing::seed::load(jazz_platform::db::pool(&database_config(&billing_db.url, 1))?, SEEDS_DIR.into()).await?;
        let databases = vec![
            (ServiceName::Identity, identity_db),
            (ServiceName::Billing, billing_db),
            (ServiceName::Content, content_db),
            (ServiceName::Progress, progress_db),
        ];
        // Every listener is bound before any service is built, so each
        // knows its peers' addresses; each service then serves on the very
        // socket bound here.
        let mut listeners = Vec::new();
        for service in ServiceName::DATA_SERVICES {
            listeners.push((service, Listen::loopback()?));
        }
        let url_of = |svc: ServiceName| {
            listeners.iter().find(|(s, _)| *s == svc).map(|(_, l)| format!("http://{}", l.addr())).unwrap_or_default()
        };
        let peers = PeerUrls {
            identity: url_of(ServiceName::Identity),
            billing: url_of(ServiceName::Billing),
            content: url_of(ServiceName::Content),
            progress: url_of(ServiceName::Progress),
        };
        let mailer = identity::mail::MemoryMailer::new();
        let oidc = oidc::OidcStandIn::start().await?;
        let stripe = stripe::StripeStandIn::start().await?;
        let mut stop = Vec::new();
        let mut services = Vec::new();
        for ((service, listen), (_, db)) in listeners.into_iter().zip(&databases) {
            let mut config = service_config(service, &db.url, peers.clone());
            config.listen = listen;
            let app = match service {
                ServiceName::Identity => {
                    let options = identity_options(&oidc)?;
                    identity::build_with_options(config, std::sync::Arc::new(mailer.clone()), options).await?
                }
                ServiceName::Billing => {
                    billing::build_with_options(config, stripe::billing_options(&stripe, true)?).await?
                }
                ServiceName::Content => content::build(config).await?,
                ServiceName::Progress | ServiceName::Gateway => progress::build(config).await?,
            };
            services.push((service, spawn(app, &mut stop)));
        }
        let mut gateways = Vec::new();
        for _ in 0..self.gateways {
            let gateway = gateway::build(gateway::GatewayConfig {
                listen: Listen::loopback()?,
                peers: peers.clone(),
                principal_secret: SecretString::from(TEST_PRINCIPAL_SECRET.to_owned()),
                limits: self.gateway_limits.clone(),
                auth_cache_ttl: Duration::from_secs(1),
                rate_limits: self.rate_limits.clone(),
                cors_allowed_origins: vec!["https://app.jazzmaster.test".to_owned()],
            })
            .await?;
            gateways.push(spawn(gateway, &mut stop));
        }
        let gateway = gateways[0];
        Ok(Suite { gateway, gateways, services, databases, mailer, oidc, stripe, stop })
    }
}

/// A small pool's settings for `url`.
fn database_config(url: &str, max_connections: usize) -> DatabaseConfig {
    DatabaseConfig {
        url: SecretString::from(url.to_owned()),
        max_connections,
        acquire_timeout: Duration::from_secs(5),
        plan_cache_mode: jazz_platform::config::PlanCacheMode::default(),
    }
}

impl Suite {
    /// Signs a learner up through the gateway, verifies the address with the
    /// mailed token and returns their session token.
    pub async fn learner(&self, email: &str) -> anyhow::Result<String> {
        use jazz_contract::jazz::identity::v1 as pb;
        let mut auth = pb::auth_service_client::AuthServiceClient::new(self.gateway_channel().await?);
        auth.sign_up(pb::SignUpRequest {
            email: email.into(),
            password: "a-night-in-tunisia-1942".into(),
            first_name: "Test".into(),
            last_name: "Learner".into(),
            timezone: "UTC".into(),
            locale: "en".into(),
            ..Default::default()
        })
        .await?;
        let token = self
            .mailer
            .wait_token(email, identity::mail::MailKind::Verification, MAIL_WAIT)
            .await
            .ok_or_else(|| anyhow::anyhow!("no verification mail for {email}"))?;
        Ok(auth.verify_email(pb::VerifyEmailRequest { token }).await?.into_inner().session_token)
    }

    /// Puts a learner on a paid tier directly in billing's database (what
    /// the Stripe webhook will do once it exists).
    pub async fn set_tier(&self, email: &str, tier: &str) -> anyhow::Result<()> {
        use diesel_async::{AsyncConnection as _, RunQueryDsl as _};
        let url_of = |svc: ServiceName| self.databases.iter().find(|(s, _)| *s == svc).map(|(_, d)| d.url.clone());
        let mut identity_db =
            diesel_async::AsyncPgConnection::establish(&url_of(ServiceName::Identity).unwrap_or_default()).await?;
        #[derive(diesel::QueryableByName)]
        struct Id {
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            id: uuid::Uuid,
        }
        let user: Id = diesel::sql_query("SELECT id FROM users WHERE email = $1")
            .bind::<diesel::sql_types::Text, _>(email)
            .get_result(&mut identity_db)
            .await?;
        let mut billing_db =
            diesel_async::AsyncPgConnection::establish(&url_of(ServiceName::Billing).unwrap_or_default()).await?;
        diesel::sql_query(
            "UPDATE subscriptions SET tier = $1, status = 'ACTIVE' WHERE user_id = $2 AND deleted_at IS NULL",
        )
        .bind::<diesel::sql_types::Text, _>(tier)
        .bind::<diesel::sql_types::Uuid, _>(user.id)
        .execute(&mut billing_db)
        .await?;
        Ok(())
    }

    /// A channel to the gateway.
    pub async fn gateway_channel(&self) -> anyhow::Result<Channel> {
        connect(self.gateway).await
    }

    /// A channel straight to one service, bypassing the gateway.
    pub async fn service_channel(&self, service: ServiceName) -> anyhow::Result<Channel> {
        let addr = self
            .services
            .iter()
            .find(|(s, _)| *s == service)
            .map(|(_, a)| *a)
            .ok_or_else(|| anyhow::anyhow!("no such service"))?;
        connect(addr).await
    }
}

/// Connects to `addr`, retrying briefly while the server starts.
pub async fn connect(addr: SocketAddr) -> anyhow::Result<Channel> {
    let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?;
    let mut last = None;
    for _ in 0..50 {
        match endpoint.connect().await {
            Ok(channel) => return Ok(channel),
            Err(error) => last = Some(error),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(last.map(anyhow::Error::from).unwrap_or_else(|| anyhow::anyhow!("could not connect")))
}

/// A service started alone, serving until this is dropped.
pub struct LoneService {
    /// Where it listens.
    pub addr: SocketAddr,
    /// A connected channel to it.
    pub channel: Channel,
    _stop: oneshot::Sender<()>,
    /// What must live as long as the service (its peers, their databases).
    companions: Vec<Box<dyn std::any::Any + Send + Sync>>,
}

impl LoneService {
    /// Serves `app` on its bound port and connects to it.
    pub async fn serve(app: Application) -> anyhow::Result<Self> {
        let mut stop = Vec::new();
        let addr = spawn(app, &mut stop);
        let _stop = stop.pop().ok_or_else(|| anyhow::anyhow!("no stop handle"))?;
        Ok(Self { addr, channel: connect(addr).await?, _stop, companions: Vec::new() })
    }

    /// Keeps `companion` alive as long as the service.
    pub fn keep(&mut self, companion: impl std::any::Any + Send + Sync) {
        self.companions.push(Box::new(companion));
    }
}

/// Serves a stand-in for an outside service (an OAuth provider, Stripe) on
/// `listener` until the returned sender is dropped.
pub fn serve_stand_in(listener: tokio::net::TcpListener, app: axum::Router) -> oneshot::Sender<()> {
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    stop
}

/// The key tests sign principals with (the gateway's, in production).
pub fn test_principal_key() -> jazz_platform::PrincipalKey {
    jazz_platform::PrincipalKey::new(SecretString::from(TEST_PRINCIPAL_SECRET.to_owned()))
}

/// The repository's `seeds/` folder.
pub const SEEDS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../seeds");

/// Identity alone on a database of its own (no users), with no peers.
pub async fn identity_alone() -> anyhow::Result<LoneService> {
    let db = TestDatabase::migrated(ServiceName::Identity, identity::MIGRATIONS).await?;
    let oidc = oidc::OidcStandIn::start().await?;
    let config = service_config(ServiceName::Identity, &db.url, no_peers());
    let mailer = std::sync::Arc::new(identity::mail::MemoryMailer::new());
    let mut service =
        LoneService::serve(identity::build_with_options(config, mailer, identity_options(&oidc)?).await?).await?;
    service.keep(db);
    service.keep(oidc);
    Ok(service)
}

/// Billing on `db`, its catalogue seeded, with `options`, and the one peer
/// its outbox delivers to: an identity of its own, which knows none of
/// billing's users (so it acknowledges their tier reports and keeps
/// nothing).
pub async fn billing_alone(db: &TestDatabase, options: billing::config::BillingOptions) -> anyhow::Result<LoneService> {
    let identity = identity_alone().await?;
    let peers = PeerUrls { identity: format!("http://{}", identity.addr), ..no_peers() };
    let config = service_config(ServiceName::Billing, &db.url, peers);
    billing::seed::load(jazz_platform::db::pool(&config.database)?, SEEDS_DIR.into()).await?;
    let mut billing = LoneService::serve(billing::build_with_options(config, options).await?).await?;
    billing.keep(identity);
    Ok(billing)
}

/// Peer addresses for a service started alone: nothing listens there, so a
/// call to a peer fails fast (and never reaches a developer's `make run`).
pub fn no_peers() -> PeerUrls {
    let nowhere = "http://127.0.0.1:1".to_owned();
    PeerUrls { identity: nowhere.clone(), billing: nowhere.clone(), content: nowhere.clone(), progress: nowhere }
}

/// `message` with `authorization: Bearer <token>`, as the app sends it.
pub fn bearer<T>(message: T, token: &str) -> anyhow::Result<tonic::Request<T>> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert("authorization", format!("Bearer {token}").parse()?);
    Ok(request)
}

/// A test user: a principal for a fresh user id, as the gateway would sign
/// it for a signed-in learner.
#[derive(Debug, Clone)]
pub struct TestUser(pub jazz_platform::Principal);

impl Default for TestUser {
    fn default() -> Self {
        Self::new()
    }
}

impl TestUser {
    /// A user nobody has seen yet.
    pub fn new() -> Self {
        use jazz_platform::ids::new_id;
        Self(jazz_platform::Principal::user(new_id(), new_id(), "req-test"))
    }

    /// The user's id.
    pub fn id(&self) -> uuid::Uuid {
        self.0.user_id.unwrap_or_default()
    }

    /// The user's id in API form (ULID).
    pub fn api(&self) -> String {
        jazz_platform::ids::to_api(self.id())
    }

    /// `message` carrying this user's principal, signed now with the test
    /// key and valid for a minute.
    pub fn signed<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        let fresh =
            jazz_platform::Principal { expires_at: jazz_platform::principal::now_unix() + 60, ..self.0.clone() };
        test_principal_key().attach(&mut request, &fresh);
        request
    }
}

/// `message` carrying the principal of the peer service `service`, signed
/// with the test key.
pub fn as_service<T>(service: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    test_principal_key().attach(&mut request, &jazz_platform::Principal::service(service));
    request
}

/// The fields a refusal's `BadRequest` names, in order.
pub fn bad_fields(status: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt as _;
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

/// A refusal's stable reason code (`ErrorInfo.reason`).
pub fn reason(status: &tonic::Status) -> Option<String> {
    use tonic_types::StatusExt as _;
    status.get_details_error_info().map(|info| info.reason)
}

/// Every content type the engine generates.
pub const CONTENT_TYPES: [jazz_contract::jazz::common::v1::ContentType; 6] = {
    use jazz_contract::jazz::common::v1::ContentType;
    [
        ContentType::JazzLick,
        ContentType::ChordProgression,
        ContentType::ScalePattern,
        ContentType::HarmonyExercise,
        ContentType::Melody,
        ContentType::CompletePiece,
    ]
};

/// A request for an intermediate bebop lick in `key` (major) at `tempo_bpm`.
pub fn lick_request(
    key: &str,
    tempo_bpm: i32,
    request_id: &str,
) -> jazz_contract::jazz::content::v1::GenerateContentRequest {
    use jazz_contract::jazz::common::v1::{ContentType, Difficulty, KeyMode};
    use jazz_contract::jazz::content::v1 as pb;
    pb::GenerateContentRequest {
        parameters: Some(pb::GenerationParameters {
            r#type: ContentType::JazzLick as i32,
            key: key.into(),
            mode: KeyMode::Major as i32,
            tempo_bpm,
            style: "bebop".into(),
            difficulty: Difficulty::Intermediate as i32,
            ..Default::default()
        }),
        request_id: request_id.into(),
    }
}

/// Waits until billing at `channel` serves FREE's `feature` as `limit`
/// (`None`: unlimited): billing keeps the plan catalogue in memory and
/// reads it again when PostgreSQL notifies it of a change, so a test that
/// edits `plans` in SQL waits for that notification to arrive.
pub async fn await_free_limit(
    channel: &tonic::transport::Channel,
    feature: &str,
    limit: Option<i64>,
) -> anyhow::Result<()> {
    await_limit(channel, jazz_contract::jazz::common::v1::SubscriptionTier::Free, feature, limit).await
}

/// [`await_free_limit`] for any tier's plan.
pub async fn await_limit(
    channel: &tonic::transport::Channel,
    tier: jazz_contract::jazz::common::v1::SubscriptionTier,
    feature: &str,
    limit: Option<i64>,
) -> anyhow::Result<()> {
    use jazz_contract::jazz::billing::v1::billing_service_client::BillingServiceClient;
    use jazz_contract::jazz::billing::v1::{EntitlementKind, ListPlansRequest};
    let wanted = |kind: EntitlementKind, found: i64| match limit {
        None => kind == EntitlementKind::Unlimited,
        Some(limit) => kind == EntitlementKind::Limited && found == limit,
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let plans = BillingServiceClient::new(channel.clone())
            .list_plans(as_service("gateway", ListPlansRequest::default()))
            .await?
            .into_inner()
            .plans;
        let seen = plans
            .iter()
            .filter(|plan| plan.tier == tier as i32)
            .flat_map(|plan| &plan.entitlements)
            .any(|e| e.feature == feature && wanted(e.kind(), e.limit));
        if seen {
            return Ok(());
        }
        anyhow::ensure!(std::time::Instant::now() < deadline, "billing never served {tier:?}'s {feature} as {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
