//! Rate limits shared by gateway replicas (issue 14 part 3): two gateways
//! in front of the same services, both pointed at the machine's Redis under
//! a key prefix of their own, hold one limit together; with Redis
//! unreachable, each falls back to its own in-process limit and no call
//! fails because of it.

use jazz_contract::jazz::identity::v1 as identity;
use jazz_e2e::Suite;
use secrecy::SecretString;
use tonic::Code;

/// The Redis the tests share (`TEST_REDIS_URL`, else the machine's).
fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".to_owned())
}

/// Credential limits of `per_min` a minute, shared at `url` under a key
/// prefix no other test uses.
fn shared_limits(per_min: u32, url: &str) -> gateway::limits::RateLimits {
    gateway::limits::RateLimits {
        credentials_per_min: per_min,
        shared: Some(gateway::limits::SharedLimits {
            url: SecretString::from(url.to_owned()),
            key_prefix: format!("jazz-test:{}", jazz_platform::ids::new_id()),
            timeout: std::time::Duration::from_millis(500),
        }),
        ..Default::default()
    }
}

/// Sends `calls` sign-ins, alternating between the suite's gateways, and
/// counts those refused with RESOURCE_EXHAUSTED (any other answer is the
/// call having passed the limits).
async fn sign_ins_refused(suite: &Suite, calls: usize) -> anyhow::Result<usize> {
    let mut clients = Vec::new();
    for addr in &suite.gateways {
        clients.push(identity::auth_service_client::AuthServiceClient::new(jazz_e2e::connect(*addr).await?));
    }
    let mut refused = 0;
    for i in 0..calls {
        // A different email each time: only the gateways' per-address
        // limit is under test, not identity's per-account throttle.
        let request = identity::SignInRequest { email: format!("nobody{i}@example.com"), ..Default::default() };
        let client = &mut clients[i % suite.gateways.len()];
        if let Err(status) = client.sign_in(request).await
            && status.code() == Code::ResourceExhausted
        {
            refused += 1;
        }
    }
    Ok(refused)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_sharing_one_redis_hold_the_limit_together() -> anyhow::Result<()> {
    let suite = Suite::builder().gateways(2).rate_limits(shared_limits(4, &redis_url())).start().await?;
    // Each gateway alone sees 5 of the 10 calls and would admit 4 of them
    // (8 in all); together they admit the limit once.
    assert_eq!(sign_ins_refused(&suite, 10).await?, 6, "4 admitted across both gateways, 6 refused");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_unreachable_each_gateway_limits_alone_and_calls_still_pass() -> anyhow::Result<()> {
    // Nothing listens on port 1.
    let suite = Suite::builder().gateways(2).rate_limits(shared_limits(4, "redis://127.0.0.1:1/")).start().await?;
    assert_eq!(sign_ins_refused(&suite, 10).await?, 2, "4 admitted by each gateway, the fifth of each refused");
    Ok(())
}
