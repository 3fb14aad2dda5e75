//! The suite started in-process: health and reflection through the gateway,
//! public methods forwarded, internal ones refused, and services that
//! refuse calls without a principal the gateway signed.

use jazz_contract::jazz::billing::v1 as billing;
use jazz_contract::jazz::identity::v1 as identity;
use jazz_e2e::{Suite, TEST_PRINCIPAL_SECRET};
use jazz_platform::ServiceName;
use jazz_platform::principal::{PRINCIPAL_HEADER, Principal, PrincipalKey};
use secrecy::SecretString;
use tokio_stream::StreamExt as _;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;

/// Every public service, as `grpcurl list` must show them.
const PUBLIC: [&str; 7] = [
    "jazz.billing.v1.BillingService",
    "jazz.content.v1.ContentService",
    "jazz.identity.v1.AuthService",
    "jazz.identity.v1.FeatureFlagService",
    "jazz.identity.v1.UserService",
    "jazz.progress.v1.PracticeService",
    "jazz.progress.v1.ProgressService",
];

async fn wait_for_serving(channel: tonic::transport::Channel, service: &str) -> ServingStatus {
    let mut client = HealthClient::new(channel);
    let mut status = ServingStatus::Unknown;
    for _ in 0..100 {
        let request = HealthCheckRequest { service: service.to_owned() };
        if let Ok(response) = client.check(request).await {
            status = response.into_inner().status();
            if status == ServingStatus::Serving {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    status
}

async fn list_services(channel: tonic::transport::Channel) -> anyhow::Result<Vec<String>> {
    let mut client = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = client.server_reflection_info(tokio_stream::iter([request])).await?.into_inner();
    let mut names = Vec::new();
    if let Some(response) = responses.next().await
        && let Some(MessageResponse::ListServicesResponse(list)) = response?.message_response
    {
        names = list.service.into_iter().map(|s| s.name).collect();
    }
    names.sort();
    Ok(names)
}

async fn describe(channel: tonic::transport::Channel, symbol: &str) -> anyhow::Result<bool> {
    let mut client = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::FileContainingSymbol(symbol.to_owned())),
    };
    let mut responses = client.server_reflection_info(tokio_stream::iter([request])).await?.into_inner();
    let found = match responses.next().await {
        Some(Ok(response)) => matches!(response.message_response, Some(MessageResponse::FileDescriptorResponse(_))),
        _ => false,
    };
    Ok(found)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_serves_health_and_reflects_exactly_the_public_contract() -> anyhow::Result<()> {
    let suite = Suite::start().await?;
    let channel = suite.gateway_channel().await?;

    assert_eq!(wait_for_serving(channel.clone(), "").await, ServingStatus::Serving);
    assert_eq!(wait_for_serving(channel.clone(), "jazz.content.v1.ContentService").await, ServingStatus::Serving);

    let mut listed = list_services(channel.clone()).await?;
    listed.retain(|name| name.starts_with("jazz."));
    assert_eq!(listed, PUBLIC);

    assert!(describe(channel.clone(), "jazz.identity.v1.AuthService").await?);
    assert!(!describe(channel.clone(), "jazz.identity.v1.IdentityInternalService").await?);
    assert!(!describe(channel, "jazz.billing.v1.BillingInternalService").await?);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_service_serves_health_and_reflection_of_its_own() -> anyhow::Result<()> {
    let suite = Suite::start().await?;
    for service in ServiceName::DATA_SERVICES {
        let channel = suite.service_channel(service).await?;
        assert_eq!(wait_for_serving(channel.clone(), "").await, ServingStatus::Serving, "{service:?}");
        let listed = list_services(channel).await?;
        let package = format!("jazz.{}.v1.", service.as_str());
        assert!(listed.iter().any(|name| name.starts_with(&package)), "{service:?} lists {listed:?}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_methods_are_refused_at_the_gateway_as_if_absent() -> anyhow::Result<()> {
    let suite = Suite::start().await?;
    let channel = suite.gateway_channel().await?;
    let mut internal = identity::identity_internal_service_client::IdentityInternalServiceClient::new(channel.clone());
    let refused = internal.validate_session(identity::ValidateSessionRequest::default()).await;
    let status = refused.err().map(|s| (s.code(), s.message().to_owned()));
    assert_eq!(status, Some((Code::Unimplemented, "unknown method".to_owned())));

    let mut quota = billing::billing_internal_service_client::BillingInternalServiceClient::new(channel);
    let refused = quota.consume_quota(billing::ConsumeQuotaRequest::default()).await;
    assert_eq!(refused.err().map(|s| s.code()), Some(Code::Unimplemented));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_methods_reach_their_service_through_the_gateway() -> anyhow::Result<()> {
    let suite = Suite::start().await?;
    let mut plans = billing::billing_service_client::BillingServiceClient::new(suite.gateway_channel().await?);
    // Answered by the billing service itself, which accepted the principal
    // the gateway signed, with the catalogue `make seed` loads.
    let plans = plans.list_plans(billing::ListPlansRequest::default()).await?.into_inner().plans;
    let mut tiers: Vec<_> = plans.iter().map(|p| p.tier).collect();
    tiers.sort_unstable();
    tiers.dedup();
    assert!(tiers.len() >= 2, "the seeded plans of several tiers: {plans:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_refuse_calls_without_a_valid_principal() -> anyhow::Result<()> {
    let suite = Suite::start().await?;
    let channel = suite.service_channel(ServiceName::Billing).await?;
    let mut client = billing::billing_service_client::BillingServiceClient::new(channel);

    let missing = client.list_plans(billing::ListPlansRequest::default()).await;
    assert_eq!(missing.err().map(|s| s.code()), Some(Code::Unauthenticated));

    let forger = PrincipalKey::new(SecretString::from("not-the-real-key-not-the-real-key!!".to_owned()));
    let mut forged = tonic::Request::new(billing::ListPlansRequest::default());
    forger.attach(&mut forged, &Principal::service("content"));
    assert_eq!(client.list_plans(forged).await.err().map(|s| s.code()), Some(Code::Unauthenticated));

    let key = PrincipalKey::new(SecretString::from(TEST_PRINCIPAL_SECRET.to_owned()));
    let mut genuine = tonic::Request::new(billing::ListPlansRequest::default());
    key.attach(&mut genuine, &Principal::service("content"));
    let accepted = client.list_plans(genuine).await;
    assert_ne!(accepted.err().map(|s| s.code()), Some(Code::Unauthenticated));

    let mut garbage = tonic::Request::new(billing::ListPlansRequest::default());
    garbage.metadata_mut().insert(PRINCIPAL_HEADER, tonic::metadata::MetadataValue::from_static("a.b"));
    assert_eq!(client.list_plans(garbage).await.err().map(|s| s.code()), Some(Code::Unauthenticated));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_that_need_a_session_are_refused_without_one() -> anyhow::Result<()> {
    let suite = Suite::start().await?;
    let channel = suite.gateway_channel().await?;
    let mut users = identity::user_service_client::UserServiceClient::new(channel.clone());
    let refused = users.get_me(identity::GetMeRequest::default()).await;
    assert_eq!(refused.err().map(|s| s.code()), Some(Code::Unauthenticated));

    let mut malformed = tonic::Request::new(identity::GetMeRequest::default());
    malformed.metadata_mut().insert("authorization", tonic::metadata::MetadataValue::from_static("Basic abc"));
    assert_eq!(users.get_me(malformed).await.err().map(|s| s.code()), Some(Code::Unauthenticated));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_sign_ins_from_one_address_is_cut_off_with_a_retry_hint() -> anyhow::Result<()> {
    use tonic_types::StatusExt as _;
    let limits = gateway::limits::RateLimits { credentials_per_min: 5, ..Default::default() };
    let suite = Suite::builder().rate_limits(limits).start().await?;
    let mut auth = identity::auth_service_client::AuthServiceClient::new(suite.gateway_channel().await?);
    let mut limited = Vec::new();
    for i in 0..12 {
        // A different email each time: only the gateway's per-address limit
        // is under test, not identity's per-account throttle.
        let request = identity::SignInRequest { email: format!("nobody{i}@example.com"), ..Default::default() };
        if let Err(status) = auth.sign_in(request).await
            && status.code() == Code::ResourceExhausted
        {
            limited.push(status);
        }
    }
    assert_eq!(limited.len(), 7, "5 admitted, the other 7 refused");
    let retry = limited[0].get_details_retry_info().and_then(|r| r.retry_delay);
    assert!(retry.is_some_and(|d| d > std::time::Duration::ZERO));

    // Other methods from the same address still pass.
    let mut plans = billing::billing_service_client::BillingServiceClient::new(suite.gateway_channel().await?);
    let status = plans.list_plans(billing::ListPlansRequest::default()).await.err().map(|s| s.code());
    assert_ne!(status, Some(Code::ResourceExhausted));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_beyond_the_concurrency_limit_is_shed_at_once_and_service_goes_on() -> anyhow::Result<()> {
    let limits = jazz_platform::config::ServerLimits { max_concurrent_requests: 2, ..Default::default() };
    let suite = Suite::builder().gateway_limits(limits).start().await?;
    let channel = suite.gateway_channel().await?;
    let mut calls = Vec::new();
    for _ in 0..60 {
        let mut plans = billing::billing_service_client::BillingServiceClient::new(channel.clone());
        calls.push(tokio::spawn(async move { plans.list_plans(billing::ListPlansRequest::default()).await }));
    }
    let (mut answered, mut shed) = (0, 0);
    for call in calls {
        match call.await? {
            Ok(_) => answered += 1,
            Err(status) if matches!(status.code(), Code::ResourceExhausted | Code::Unavailable) => shed += 1,
            Err(status) => anyhow::bail!("unexpected answer under load: {status:?}"),
        }
    }
    assert!(answered > 0, "some calls were served");
    assert!(shed > 0, "calls beyond the limit were shed, not queued ({answered} answered)");
    // The burst is over: the gateway serves normally again.
    let mut plans = billing::billing_service_client::BillingServiceClient::new(channel);
    assert!(plans.list_plans(billing::ListPlansRequest::default()).await.is_ok());
    Ok(())
}

/// A `Struct` nested `depth` levels deep: `{"a": {"a": … {}}}`.
fn nested_struct(depth: usize) -> prost_types::Struct {
    use prost_types::value::Kind;
    let mut inner = prost_types::Struct::default();
    for _ in 0..depth {
        let value = prost_types::Value { kind: Some(Kind::StructValue(inner)) };
        inner = prost_types::Struct { fields: [("a".to_owned(), value)].into() };
    }
    inner
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_that_cannot_be_decoded_are_invalid_arguments_not_internal_errors() -> anyhow::Result<()> {
    use jazz_contract::jazz::content::v1 as content;
    let suite = Suite::start().await?;
    let token = suite.learner("deep@example.com").await?;
    let mut contents = content::content_service_client::ContentServiceClient::new(suite.gateway_channel().await?);
    let deep = content::UpdateContentRequest {
        content: Some(content::GeneratedContent {
            id: jazz_platform::ids::to_api(jazz_platform::ids::new_id()),
            metadata: Some(nested_struct(120)),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["metadata".into()] }),
    };
    let refused = contents.update_content(jazz_e2e::bearer(deep, &token)?).await.err();
    let refused = refused.ok_or_else(|| anyhow::anyhow!("a 120-level Struct was accepted"))?;
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert_eq!(jazz_e2e::reason(&refused).as_deref(), Some(jazz_platform::malformed::MALFORMED_REQUEST));
    assert!(refused.message().contains("too deeply"), "{}", refused.message());

    // Larger than the service accepts (4 MiB by default).
    let mut users = identity::user_service_client::UserServiceClient::new(suite.gateway_channel().await?)
        .max_encoding_message_size(usize::MAX);
    let huge = identity::UpdateMeRequest {
        user: Some(identity::User { first_name: "x".repeat(5 << 20), ..Default::default() }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["first_name".into()] }),
    };
    let refused = users.update_me(jazz_e2e::bearer(huge, &token)?).await.err();
    let refused = refused.ok_or_else(|| anyhow::anyhow!("a 5 MiB request was accepted"))?;
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert!(!refused.message().contains("bytes"), "{}", refused.message());
    Ok(())
}
