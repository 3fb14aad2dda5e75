//! Faults a service must survive: a panicking handler, and its database
//! going away and coming back; and connections ended at their maximum age
//! (so clients re-resolve) without a call failing.

use std::net::SocketAddr;
use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use jazz_contract::jazz::billing::v1 as billing_pb;
use jazz_e2e::{TEST_PRINCIPAL_SECRET, connect, no_peers, service_config};
use jazz_platform::config::{Listen, ServerLimits};
use jazz_platform::server::{HealthProbe, ServeSpec, ServiceHost};
use jazz_platform::testing::{TestDatabase, server_url};
use jazz_platform::{Principal, PrincipalKey, ServiceName};
use secrecy::SecretString;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

async fn health(channel: tonic::transport::Channel) -> ServingStatus {
    let answer = HealthClient::new(channel).check(HealthCheckRequest { service: String::new() }).await;
    answer.map(|r| r.into_inner().status()).unwrap_or(ServingStatus::Unknown)
}

async fn wait_for(channel: &tonic::transport::Channel, want: ServingStatus) -> ServingStatus {
    let mut status = ServingStatus::Unknown;
    for _ in 0..100 {
        status = health(channel.clone()).await;
        if status == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_answers_internal_and_the_server_lives_on() -> anyhow::Result<()> {
    let router = axum::Router::new().route(
        "/test.v1.PanicService/Boom",
        axum::routing::post(|| async {
            // A handler bug the type system did not catch.
            if std::hint::black_box(true) {
                panic!("handler bug at services/x/src/api.rs:42 with SELECT secret");
            }
            "unreachable"
        }),
    );
    let pool = jazz_platform::db::pool(&jazz_platform::config::DatabaseConfig {
        url: SecretString::from(format!("{}/postgres", server_url())),
        max_connections: 1,
        acquire_timeout: Duration::from_secs(2),
        plan_cache_mode: jazz_platform::config::PlanCacheMode::default(),
    })?;
    let host = ServiceHost::bind(&Listen::Addr(SocketAddr::from(([127, 0, 0, 1], 0))), ServerLimits::default()).await?;
    let addr = host.local_addr();
    let spec = ServeSpec {
        routes: tonic::service::Routes::from(router),
        health_names: vec![],
        reflection_descriptors: jazz_contract::FILE_DESCRIPTOR_SET.to_vec(),
        reflection_services: None,
        probe: HealthProbe::Database(pool),
        accept_http1: false,
    };
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(host.serve(spec, async {
        let _ = stopped.await;
    }));
    let channel = connect(addr).await?;

    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await?;
    let path = http::uri::PathAndQuery::from_static("/test.v1.PanicService/Boom");
    let codec = tonic_prost::ProstCodec::<(), ()>::default();
    let answer = grpc.unary(tonic::Request::new(()), path, codec).await;
    let status = answer.err();
    assert_eq!(status.as_ref().map(tonic::Status::code), Some(Code::Internal));
    let message = status.map(|s| s.message().to_owned()).unwrap_or_default();
    assert!(message.starts_with("internal error (id "), "{message}");
    assert!(!message.contains("SELECT") && !message.contains(".rs"), "no panic text leaks: {message}");

    assert_eq!(wait_for(&channel, ServingStatus::Serving).await, ServingStatus::Serving, "still serving");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_the_database_answers_unavailable_and_serving_resumes_when_it_returns() -> anyhow::Result<()> {
    let db = TestDatabase::migrated(ServiceName::Billing, billing::MIGRATIONS).await?;
    let pool = jazz_platform::db::pool(&jazz_platform::config::DatabaseConfig {
        url: SecretString::from(db.url.clone()),
        max_connections: 2,
        acquire_timeout: Duration::from_secs(2),
        plan_cache_mode: jazz_platform::config::PlanCacheMode::default(),
    })?;
    billing::seed::load(pool, concat!(env!("CARGO_MANIFEST_DIR"), "/../seeds").into()).await?;
    let app = billing::build(service_config(ServiceName::Billing, &db.url, no_peers())).await?;
    let addr = app.local_addr();
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let channel = connect(addr).await?;
    let key = PrincipalKey::new(SecretString::from(TEST_PRINCIPAL_SECRET));
    let list_plans = || {
        let mut client = billing_pb::billing_service_client::BillingServiceClient::new(channel.clone());
        let mut request = tonic::Request::new(billing_pb::ListPlansRequest::default());
        key.attach(&mut request, &Principal::anonymous("req-fault"));
        async move { client.list_plans(request).await }
    };
    assert_eq!(wait_for(&channel, ServingStatus::Serving).await, ServingStatus::Serving);
    assert!(list_plans().await.is_ok());

    // The database goes away: no new connections, existing ones cut.
    let mut admin = AsyncPgConnection::establish(&format!("{}/postgres", server_url())).await?;
    let name = db.name.clone();
    diesel::sql_query(format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false")).execute(&mut admin).await?;
    diesel::sql_query(format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        .execute(&mut admin)
        .await?;

    assert_eq!(wait_for(&channel, ServingStatus::NotServing).await, ServingStatus::NotServing);
    let down = list_plans().await.err();
    assert_eq!(down.as_ref().map(tonic::Status::code), Some(Code::Unavailable), "{down:?}");
    let message = down.map(|s| s.message().to_owned()).unwrap_or_default();
    assert!(!message.contains(&name) && !message.contains("postgres"), "no internals leak: {message}");

    // It comes back: the same process serves again.
    diesel::sql_query(format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS true")).execute(&mut admin).await?;
    assert_eq!(wait_for(&channel, ServingStatus::Serving).await, ServingStatus::Serving);
    let mut recovered = false;
    for _ in 0..50 {
        if list_plans().await.is_ok() {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "calls succeed again without a restart");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_max_age_are_closed_and_clients_carry_on() -> anyhow::Result<()> {
    let db = TestDatabase::migrated(ServiceName::Progress, progress::MIGRATIONS).await?;
    let mut config = service_config(ServiceName::Progress, &db.url, no_peers());
    config.limits.max_connection_age = Some(Duration::from_millis(300));
    let service = jazz_e2e::LoneService::serve(progress::build(config).await?).await?;
    // One raw HTTP/2 connection: the server ends it (GOAWAY, then close).
    let tcp = tokio::net::TcpStream::connect(service.addr).await?;
    let (_client, connection) = h2::client::handshake(tcp).await?;
    let ended = tokio::time::timeout(Duration::from_secs(5), connection).await;
    assert!(ended.is_ok(), "the server kept a connection past its maximum age");
    // A tonic channel reconnects by itself: calls across several ages
    // succeed. A call can race the GOAWAY (sent on a connection the channel
    // had not yet seen go away, so the server never saw it): like gRPC's
    // transparent retry, the client sends such a call once more.
    for _ in 0..4 {
        let check = || {
            let mut client = HealthClient::new(service.channel.clone());
            async move { client.check(HealthCheckRequest::default()).await }
        };
        let answer = match check().await {
            Err(status) if status.message().contains("h2 protocol error") => check().await,
            other => other,
        };
        assert_eq!(answer.as_ref().map(|r| r.get_ref().status()).ok(), Some(ServingStatus::Serving), "{answer:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pooled_connections_run_without_jit_and_plan_once() -> anyhow::Result<()> {
    let db = TestDatabase::migrated(ServiceName::Progress, progress::MIGRATIONS).await?;
    let pool = jazz_platform::db::pool(&jazz_platform::config::DatabaseConfig {
        url: SecretString::from(db.url.clone()),
        max_connections: 1,
        acquire_timeout: Duration::from_secs(2),
        plan_cache_mode: jazz_platform::config::PlanCacheMode::default(),
    })?;
    let mut conn = pool.get().await?;
    let lines = jazz_e2e::sql::lines(&mut conn, "SELECT current_setting('jit') AS line").await?;
    assert_eq!(lines, ["off"], "JIT compiling costs an OLTP query more than it saves");
    // A statement whose call timed out is ended within a second of its
    // connection being dropped, not left waiting (`make chaos`, scenario 4).
    let lines =
        jazz_e2e::sql::lines(&mut conn, "SELECT current_setting('client_connection_check_interval') AS line").await?;
    assert_eq!(lines, ["1s"]);
    // Prepared statements are planned once (decision 42), and a
    // transaction can ask for plans made for its values instead.
    let mode = "SELECT current_setting('plan_cache_mode') AS line";
    assert_eq!(jazz_e2e::sql::lines(&mut conn, mode).await?, ["force_generic_plan"]);
    let custom = conn
        .transaction(async |conn| {
            diesel::sql_query(jazz_platform::db::CUSTOM_PLANS).execute(conn).await?;
            jazz_e2e::sql::lines(conn, mode).await
        })
        .await?;
    assert_eq!(custom, ["force_custom_plan"]);
    assert_eq!(jazz_e2e::sql::lines(&mut conn, mode).await?, ["force_generic_plan"], "SET LOCAL ends with it");
    Ok(())
}
