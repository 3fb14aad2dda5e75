//! The gateway: the one public listener. It serves gRPC and gRPC-Web,
//! forwards the public services of the contract to their owners by path,
//! and refuses everything else. Reflection shows exactly the public
//! contract; health follows the services behind it.

pub mod auth;
pub mod config;
pub mod limits;
pub mod proxy;
pub mod routes;
pub mod shared_limits;
pub mod webhook;

use std::sync::Arc;

use axum::body::Body as AxumBody;
use jazz_contract::jazz::billing::v1::billing_internal_service_client::BillingInternalServiceClient;
use jazz_platform::server::{HealthProbe, ServeSpec, ServiceHost};
use jazz_platform::{Application, PrincipalKey, ServiceName};
use tonic::transport::{Channel, Endpoint};

use auth::Authenticator;
pub use config::GatewayConfig;
use limits::RateLimiters;
use proxy::Forwarder;
use routes::{Backend, PUBLIC_SERVICES};

/// Lazily connected channels to each service.
#[derive(Clone)]
struct Backends {
    identity: Channel,
    billing: Channel,
    content: Channel,
    progress: Channel,
}

impl Backends {
    fn connect(config: &GatewayConfig) -> anyhow::Result<Self> {
        let channel = |url: &str| -> anyhow::Result<Channel> {
            Ok(Endpoint::from_shared(url.to_owned())?
                .connect_timeout(std::time::Duration::from_secs(2))
                .tcp_nodelay(true)
                .http2_keep_alive_interval(std::time::Duration::from_secs(30))
                .connect_lazy())
        };
        Ok(Self {
            identity: channel(&config.peers.identity)?,
            billing: channel(&config.peers.billing)?,
            content: channel(&config.peers.content)?,
            progress: channel(&config.peers.progress)?,
        })
    }

    fn channel(&self, backend: Backend) -> Channel {
        match backend {
            Backend::Identity => self.identity.clone(),
            Backend::Billing => self.billing.clone(),
            Backend::Content => self.content.clone(),
            Backend::Progress => self.progress.clone(),
        }
    }
}

/// Builds the gateway: binds the listener and routes every public service.
pub async fn build(config: GatewayConfig) -> anyhow::Result<Application> {
    let backends = Backends::connect(&config)?;
    let key = Arc::new(PrincipalKey::new(config.principal_secret.clone()));
    let auth = Authenticator::new(backends.identity.clone(), key.clone(), config.auth_cache_ttl);
    let limits = Arc::new(RateLimiters::new(config.rate_limits.clone())?);
    spawn_limiter_cleanup(limits.clone());
    let forwarder = Forwarder { key, auth, limits };

    let mut router = axum::Router::new();
    for (service, backend) in PUBLIC_SERVICES {
        let channel = backends.channel(*backend);
        let forwarder = forwarder.clone();
        router = router.route(
            &format!("/{service}/{{method}}"),
            axum::routing::post(move |request: http::Request<AxumBody>| {
                let forwarder = forwarder.clone();
                let channel = channel.clone();
                async move { forwarder.forward(channel, request).await }
            }),
        );
    }
    // Internal, admin and unknown methods: the answer a missing method gets.
    let router = router
        .fallback(|| async { tonic::Status::unimplemented("unknown method").into_http::<AxumBody>() })
        .layer(tonic_web::GrpcWebLayer::new())
        .layer(cors(&config.cors_allowed_origins));
    // Added after the layers, so they do not wrap it: Stripe posts plain
    // HTTP/1.1, which the gRPC-Web layer answers with 400 before any route.
    let billing_internal = BillingInternalServiceClient::new(backends.billing.clone());
    let webhook_key = forwarder.key.clone();
    let router = router.route(
        webhook::PATH,
        axum::routing::post(move |request: http::Request<AxumBody>| {
            let (billing, key) = (billing_internal.clone(), webhook_key.clone());
            async move { webhook::handle(billing, &key, request).await }
        }),
    );

    let host = ServiceHost::bind(&config.listen, config.limits.clone()).await?.serving_as(ServiceName::Gateway);
    let spec = ServeSpec {
        routes: tonic::service::Routes::from(router),
        health_names: PUBLIC_SERVICES.iter().map(|(name, _)| *name).collect(),
        reflection_descriptors: routes::public_descriptor_set()?,
        reflection_services: Some(
            PUBLIC_SERVICES
                .iter()
                .map(|(name, _)| (*name).to_owned())
                .chain(["grpc.health.v1.Health".to_owned()])
                .collect(),
        ),
        probe: HealthProbe::Backends(vec![
            backends.identity.clone(),
            backends.billing.clone(),
            backends.content.clone(),
            backends.progress.clone(),
        ]),
        accept_http1: true,
    };
    Ok(Application::from_parts(host, spec))
}

/// Forgets idle rate-limit keys once a minute so memory stays bounded.
fn spawn_limiter_cleanup(limits: Arc<RateLimiters>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            limits.shrink();
        }
    });
}

/// CORS for gRPC-Web from the configured browser origins: the headers a
/// gRPC-Web client sends, and the grpc-* headers it must be allowed to read.
fn cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    use http::HeaderName;
    let origins: Vec<http::HeaderValue> = origins.iter().filter_map(|o| o.parse().ok()).collect();
    let header = HeaderName::from_static;
    tower_http::cors::CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([http::Method::POST, http::Method::OPTIONS])
        .allow_headers([
            http::header::CONTENT_TYPE,
            http::header::AUTHORIZATION,
            header("x-grpc-web"),
            header("x-user-agent"),
            header("grpc-timeout"),
            header("x-request-id"),
        ])
        .expose_headers([
            header("grpc-status"),
            header("grpc-message"),
            header("grpc-status-details-bin"),
            header("x-request-id"),
        ])
        .max_age(std::time::Duration::from_secs(600))
}
