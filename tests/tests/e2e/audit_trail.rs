//! One user's audit trail across the four services
//! (`IdentityAdminService.GetUserAuditTrail`) and the `ListAuditLogs` of
//! content and progress it reads, on the whole suite: learners act through
//! the gateway, so every service writes its own entries; the admin calls go
//! straight to identity with a service principal.

use jazz_e2e::bad_fields as fields_of;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jazz_contract::jazz::common::v1::AuditLogEntry;
use jazz_contract::jazz::content::v1 as content_pb;
use jazz_contract::jazz::identity::v1 as identity_pb;
use jazz_contract::jazz::progress::v1 as progress_pb;
use jazz_e2e::{Suite, TEST_PRINCIPAL_SECRET, bearer, connect, service_config};
use jazz_platform::config::PeerUrls;
use jazz_platform::testing::TestDatabase;
use jazz_platform::{Principal, PrincipalKey, ServiceName};
use secrecy::SecretString;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

use content_pb::content_internal_service_client::ContentInternalServiceClient;
use content_pb::content_service_client::ContentServiceClient;
use identity_pb::identity_admin_service_client::IdentityAdminServiceClient;
use progress_pb::practice_service_client::PracticeServiceClient;
use progress_pb::progress_internal_service_client::ProgressInternalServiceClient;

fn key() -> PrincipalKey {
    PrincipalKey::new(SecretString::from(TEST_PRINCIPAL_SECRET.to_owned()))
}

/// `message` signed as the operators' tool.
fn admin<T>(message: T) -> Request<T> {
    let mut request = Request::new(message);
    key().attach(&mut request, &Principal::service("ops-tool"));
    request
}

/// Makes a learner leave entries in all four services through the gateway:
/// sign-up and verification (identity), the FREE subscription and a quota
/// grant (billing), a generation (content) and a practice session
/// (progress). Returns the learner's user id.
async fn busy_learner(suite: &Suite, email: &str) -> anyhow::Result<String> {
    let token = suite.learner(email).await?;
    let gateway = suite.gateway_channel().await?;
    // The FREE subscription arrives through identity's relay; until then
    // generation answers FAILED_PRECONDITION.
    let mut content = ContentServiceClient::new(gateway.clone());
    let mut generated = None;
    for _ in 0..100 {
        match content.generate_content(bearer(jazz_e2e::lick_request("F", 140, ""), &token)?).await {
            Ok(response) => {
                generated = response.into_inner().content;
                break;
            }
            Err(status) if status.code() == Code::FailedPrecondition => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(status) => return Err(status.into()),
        }
    }
    anyhow::ensure!(generated.is_some(), "no generation for {email}");
    let start = progress_pb::StartPracticeSessionRequest { title: "Blues in F".into(), ..Default::default() };
    let session = PracticeServiceClient::new(gateway).start_practice_session(bearer(start, &token)?).await?;
    let session = session.into_inner().session.ok_or_else(|| anyhow::anyhow!("no session"))?;
    Ok(session.user_id)
}

fn trail_request(user_id: &str, page_size: i32, page_token: &str) -> identity_pb::GetUserAuditTrailRequest {
    identity_pb::GetUserAuditTrailRequest {
        user_id: user_id.into(),
        page_size,
        page_token: page_token.into(),
        ..Default::default()
    }
}

/// Every page of a trail, in order.
async fn walk(
    client: &mut IdentityAdminServiceClient<Channel>,
    request: identity_pb::GetUserAuditTrailRequest,
) -> anyhow::Result<Vec<Vec<AuditLogEntry>>> {
    let mut pages = Vec::new();
    let mut token = String::new();
    loop {
        let page = identity_pb::GetUserAuditTrailRequest { page_token: token.clone(), ..request.clone() };
        let page = client.get_user_audit_trail(admin(page)).await?.into_inner();
        pages.push(page.entries);
        if page.next_page_token.is_empty() {
            return Ok(pages);
        }
        anyhow::ensure!(pages.len() < 100, "the trail does not end");
        token = page.next_page_token;
    }
}

fn order_key(entry: &AuditLogEntry) -> (i64, i32, String, String) {
    let at = entry.created_at.unwrap_or_default();
    (at.seconds, at.nanos, entry.id.clone(), entry.service.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trail_merges_all_four_services_newest_first_for_one_user_only() -> anyhow::Result<()> {
    let suite = Suite::start().await?;
    let ann = busy_learner(&suite, "ann@example.com").await?;
    let bob = busy_learner(&suite, "bob@example.com").await?;
    let mut client = IdentityAdminServiceClient::new(suite.service_channel(ServiceName::Identity).await?);

    let whole = walk(&mut client, trail_request(&ann, 200, "")).await?;
    assert_eq!(whole.len(), 1, "one page holds everything");
    let entries = whole.concat();
    let services: HashSet<&str> = entries.iter().map(|e| e.service.as_str()).collect();
    assert_eq!(services, HashSet::from(["identity", "billing", "content", "progress"]));
    assert!(entries.iter().all(|e| e.user_id == ann), "only ann's entries: {entries:#?}");
    let keys: Vec<_> = entries.iter().map(order_key).collect();
    let mut sorted = keys.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(keys, sorted, "newest first");
    let actions: HashSet<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    for action in ["CONTENT_GENERATE", "QUOTA_CONSUME"] {
        assert!(actions.contains(action), "{action} in {actions:?}");
    }

    // Small pages walk the same trail: no gap, no repeat.
    let paged = walk(&mut client, trail_request(&ann, 2, "")).await?;
    assert!(paged.iter().all(|page| page.len() <= 2));
    assert!(paged.len() >= 3);
    assert_eq!(paged.concat(), entries);

    // Bob's trail is his alone and shares nothing with ann's.
    let bobs = walk(&mut client, trail_request(&bob, 0, "")).await?.concat();
    assert!(!bobs.is_empty() && bobs.iter().all(|e| e.user_id == bob));
    let ann_ids: HashSet<&str> = entries.iter().map(|e| e.id.as_str()).collect();
    assert!(bobs.iter().all(|e| !ann_ids.contains(e.id.as_str())));

    // A time window: entries before the newest one's instant only.
    let newest = entries.first().and_then(|e| e.created_at).ok_or_else(|| anyhow::anyhow!("no entries"))?;
    let older = identity_pb::GetUserAuditTrailRequest { end_time: Some(newest), ..trail_request(&ann, 200, "") };
    let older = walk(&mut client, older).await?.concat();
    assert!(!older.is_empty() && older.len() < entries.len());
    assert!(older.iter().all(|e| order_key(e) < (newest.seconds, newest.nanos, String::new(), String::new())));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_trail_requests_name_the_field_and_users_may_not_call() -> anyhow::Result<()> {
    let suite = Suite::start().await?;
    let ann = busy_learner(&suite, "ann@example.com").await?;
    let mut client = IdentityAdminServiceClient::new(suite.service_channel(ServiceName::Identity).await?);
    let first = client.get_user_audit_trail(admin(trail_request(&ann, 1, ""))).await?.into_inner();
    assert!(!first.next_page_token.is_empty());

    let bad_time = prost_types::Timestamp { seconds: 0, nanos: -5 };
    let cases = [
        (trail_request("", 0, ""), "user_id"),
        (trail_request("not-a-ulid", 0, ""), "user_id"),
        (trail_request(&ann, -1, ""), "page_size"),
        (trail_request(&ann, 1, "garbage"), "page_token"),
        (
            identity_pb::GetUserAuditTrailRequest { start_time: Some(bad_time), ..trail_request(&ann, 0, "") },
            "start_time",
        ),
        // A token of one filter is refused under another.
        (
            identity_pb::GetUserAuditTrailRequest {
                end_time: Some(prost_types::Timestamp { seconds: 4_000_000_000, nanos: 0 }),
                ..trail_request(&ann, 1, &first.next_page_token)
            },
            "page_token",
        ),
    ];
    for (request, field) in cases {
        let status = client.get_user_audit_trail(admin(request)).await.err().unwrap_or_else(|| Status::ok(""));
        assert_eq!((status.code(), fields_of(&status)), (Code::InvalidArgument, vec![field.to_owned()]), "{field}");
    }

    let mut as_user = Request::new(trail_request(&ann, 0, ""));
    let user = jazz_platform::ids::parse_id("user_id", &ann).map_err(|v| anyhow::anyhow!("{v:?}"))?;
    key().attach(&mut as_user, &Principal::user(user, jazz_platform::ids::new_id(), "req"));
    let refused = client.get_user_audit_trail(as_user).await.err().map(|s| s.code());
    assert_eq!(refused, Some(Code::PermissionDenied));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_and_progress_list_their_own_audit_logs_in_pages() -> anyhow::Result<()> {
    let suite = Suite::start().await?;
    let ann = busy_learner(&suite, "ann@example.com").await?;
    busy_learner(&suite, "bob@example.com").await?;
    fn service<T>(message: T) -> Request<T> {
        let mut request = Request::new(message);
        key().attach(&mut request, &Principal::service("identity"));
        request
    }

    let mut content = ContentInternalServiceClient::new(suite.service_channel(ServiceName::Content).await?);
    let everyone = content.list_audit_logs(service(content_pb::ListAuditLogsRequest::default())).await?.into_inner();
    assert!(everyone.entries.len() >= 2, "both learners generated");
    let mine = content_pb::ListAuditLogsRequest { user_id: ann.clone(), page_size: 1, ..Default::default() };
    let page = content.list_audit_logs(service(mine.clone())).await?.into_inner();
    assert_eq!(page.entries.len(), 1);
    assert!(page.entries.iter().all(|e| e.user_id == ann && e.service == "content"));
    assert!(page.next_page_token.is_empty(), "one generation, one entry");
    let tampered = content_pb::ListAuditLogsRequest { page_token: "x.y".into(), ..mine };
    let status = content.list_audit_logs(service(tampered)).await.err().unwrap_or_else(|| Status::ok(""));
    assert_eq!((status.code(), fields_of(&status)), (Code::InvalidArgument, vec!["page_token".to_owned()]));

    let mut progress = ProgressInternalServiceClient::new(suite.service_channel(ServiceName::Progress).await?);
    let all = progress_pb::ListAuditLogsRequest { page_size: 1, ..Default::default() };
    let first = progress.list_audit_logs(service(all.clone())).await?.into_inner();
    assert_eq!(first.entries.len(), 1);
    assert_eq!(first.entries.first().map(|e| e.service.as_str()), Some("progress"));
    let second = progress_pb::ListAuditLogsRequest { page_token: first.next_page_token.clone(), ..all.clone() };
    let second = progress.list_audit_logs(service(second)).await?.into_inner();
    assert_eq!(second.entries.len(), 1);
    assert_ne!(first.entries, second.entries);
    assert!(second.next_page_token.is_empty(), "two sessions, two entries");
    // The first page's token belongs to the unfiltered list only.
    let other_filter =
        progress_pb::ListAuditLogsRequest { user_id: ann, page_token: first.next_page_token, ..Default::default() };
    let status = progress.list_audit_logs(service(other_filter)).await.err().unwrap_or_else(|| Status::ok(""));
    assert_eq!((status.code(), fields_of(&status)), (Code::InvalidArgument, vec!["page_token".to_owned()]));
    let bad = progress_pb::ListAuditLogsRequest { user_id: "nope".into(), page_size: -3, ..Default::default() };
    let status = progress.list_audit_logs(service(bad)).await.err().unwrap_or_else(|| Status::ok(""));
    assert_eq!(
        (status.code(), fields_of(&status)),
        (Code::InvalidArgument, vec!["user_id".into(), "page_size".into()])
    );
    Ok(())
}

/// A TCP listener that accepts connections and never answers on them.
async fn black_hole() -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    Ok(addr)
}

/// Identity alone on a fresh database, its peers at `peers`.
async fn lone_identity(peers: PeerUrls) -> anyhow::Result<(Channel, TestDatabase, tokio::sync::oneshot::Sender<()>)> {
    let db = TestDatabase::migrated(ServiceName::Identity, identity::MIGRATIONS).await?;
    let config = service_config(ServiceName::Identity, &db.url, peers);
    let app = identity::build_with(config, Arc::new(identity::mail::MemoryMailer::new())).await?;
    let addr = app.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    Ok((connect(addr).await?, db, stop))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_that_does_not_answer_fails_the_trail_within_the_callers_deadline() -> anyhow::Result<()> {
    let user = jazz_platform::ids::to_api(jazz_platform::ids::new_id());

    // Nobody listens at the peers: UNAVAILABLE at once, no partial trail.
    let (channel, _db, _stop) = lone_identity(jazz_e2e::no_peers()).await?;
    let status =
        IdentityAdminServiceClient::new(channel).get_user_audit_trail(admin(trail_request(&user, 0, ""))).await;
    assert_eq!(status.err().map(|s| s.code()), Some(Code::Unavailable));

    // The peers accept and never answer: the caller's 2 s deadline is passed
    // on, and identity answers UNAVAILABLE itself before it runs out (it
    // keeps a tenth of the budget, at most 200 ms, for its answer).
    let hole = format!("http://{}", black_hole().await?);
    let peers = PeerUrls { identity: String::new(), billing: hole.clone(), content: hole.clone(), progress: hole };
    let (channel, _db, _stop) = lone_identity(peers).await?;
    let mut request = admin(trail_request(&user, 0, ""));
    request.set_timeout(Duration::from_secs(2));
    let started = Instant::now();
    let status = IdentityAdminServiceClient::new(channel).get_user_audit_trail(request).await.err();
    let took = started.elapsed();
    assert_eq!(status.as_ref().map(Status::code), Some(Code::Unavailable), "{status:?}");
    assert!(took < Duration::from_secs(2), "answered within the deadline: {took:?}");
    assert!(took >= Duration::from_millis(1500), "waited for the peers most of the budget: {took:?}");
    let message = status.map(|s| s.message().to_owned()).unwrap_or_default();
    assert!(!message.contains("127.0.0.1") && !message.contains("http"), "no internals: {message}");
    Ok(())
}
