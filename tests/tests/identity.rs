//! The identity service over real gRPC and PostgreSQL: sign-up,
//! verification, sign-in, sessions, throttling, enumeration resistance,
//! ownership and input validation. Identity is started on its own fresh
//! database with a [`MemoryMailer`], so a test can read the tokens it mails,
//! and is called directly with principals signed by the test key.

use std::net::SocketAddr;
use std::sync::Arc;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use identity::mail::{MailKind, MemoryMailer};
use jazz_contract::jazz::identity::v1 as pb;
use jazz_e2e::{TEST_PRINCIPAL_SECRET, connect, service_config};
use jazz_platform::ids::parse_id;
use jazz_platform::testing::TestDatabase;
use jazz_platform::{Principal, PrincipalKey, ServiceName};
use pb::auth_service_client::AuthServiceClient;
use pb::identity_internal_service_client::IdentityInternalServiceClient;
use pb::user_service_client::UserServiceClient;
use secrecy::SecretString;
use tokio::sync::oneshot;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use tonic_types::StatusExt as _;

const PASSWORD: &str = "blue in green, so what?";

/// Identity on a database of its own.
struct Identity {
    channel: Channel,
    mailer: MemoryMailer,
    db: TestDatabase,
    key: PrincipalKey,
    _stop: oneshot::Sender<()>,
}

/// A signed-in user as the gateway would present them.
struct Session {
    token: String,
    principal: Principal,
}

impl Identity {
    async fn start() -> anyhow::Result<Self> {
        let db = TestDatabase::migrated(ServiceName::Identity, identity::MIGRATIONS).await?;
        let peers = jazz_e2e::no_peers();
        let mailer = MemoryMailer::new();
        let app = identity::build_with(service_config(ServiceName::Identity, &db.url, peers), Arc::new(mailer.clone()))
            .await?;
        let addr: SocketAddr = app.local_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        let key = PrincipalKey::new(SecretString::from(TEST_PRINCIPAL_SECRET));
        Ok(Self { channel: connect(addr).await?, mailer, db, key, _stop: stop })
    }

    fn signed<T>(&self, message: T, principal: &Principal) -> Request<T> {
        let mut request = Request::new(message);
        self.key.attach(&mut request, principal);
        request
    }

    fn auth(&self) -> AuthServiceClient<Channel> {
        AuthServiceClient::new(self.channel.clone())
    }

    fn users(&self) -> UserServiceClient<Channel> {
        UserServiceClient::new(self.channel.clone())
    }

    async fn validate(&self, token: &str) -> Result<pb::ValidateSessionResponse, Status> {
        let request =
            self.signed(pb::ValidateSessionRequest { session_token: token.into() }, &Principal::service("gateway"));
        IdentityInternalServiceClient::new(self.channel.clone()).validate_session(request).await.map(|r| r.into_inner())
    }

    /// Signs up `email` and returns the verification token it was mailed.
    async fn sign_up(&self, email: &str) -> anyhow::Result<String> {
        let request = pb::SignUpRequest {
            email: email.into(),
            password: PASSWORD.into(),
            first_name: "Bill".into(),
            last_name: "Evans".into(),
            timezone: "America/New_York".into(),
            locale: "en-US".into(),
            ..Default::default()
        };
        self.auth().sign_up(self.signed(request, &anonymous("10.0.0.1"))).await?;
        self.mailer.latest_token(email, MailKind::Verification).ok_or_else(|| anyhow::anyhow!("no verification mail"))
    }

    /// Signs up, verifies and signs in `email` from `ip`.
    async fn user(&self, email: &str, ip: &str) -> anyhow::Result<Session> {
        let token = self.sign_up(email).await?;
        self.auth().verify_email(self.signed(pb::VerifyEmailRequest { token }, &anonymous(ip))).await?;
        self.sign_in(email, PASSWORD, ip).await.map_err(anyhow::Error::from)
    }

    async fn sign_in(&self, email: &str, password: &str, ip: &str) -> Result<Session, Status> {
        let request = pb::SignInRequest { email: email.into(), password: password.into() };
        let token = self.auth().sign_in(self.signed(request, &anonymous(ip))).await?.into_inner().session_token;
        let valid = self.validate(&token).await?;
        let user = parse_id("user_id", &valid.user_id).map_err(|_| Status::internal("bad id"))?;
        let session = parse_id("session_id", &valid.session_id).map_err(|_| Status::internal("bad id"))?;
        let principal = Principal { client_ip: Some(ip.into()), ..Principal::user(user, session, "test") };
        Ok(Session { token, principal })
    }

    async fn count_users(&self) -> anyhow::Result<i64> {
        let mut conn = self.db.connect().await?;
        Ok(identity::schema::users::table.count().get_result(&mut conn).await?)
    }

    async fn audit_actions(&self) -> anyhow::Result<Vec<String>> {
        use jazz_platform::schema::audit_logs::dsl::*;
        let mut conn = self.db.connect().await?;
        Ok(audit_logs.select(action).order(id.asc()).load(&mut conn).await?)
    }
}

fn anonymous(ip: &str) -> Principal {
    Principal { client_ip: Some(ip.into()), user_agent: Some("jazz-e2e".into()), ..Principal::anonymous("test") }
}

fn fields_of(status: &Status) -> Vec<String> {
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_verify_sign_in_validate_and_sign_out() -> anyhow::Result<()> {
    let id = Identity::start().await?;
    let token = id.sign_up("bill@example.com").await?;
    // The same address again: the same empty answer, a notice instead of a second account.
    let again = pb::SignUpRequest {
        email: "Bill@Example.com".into(),
        password: "another long passphrase".into(),
        first_name: "Other".into(),
        last_name: "Person".into(),
        ..Default::default()
    };
    let answer = id.auth().sign_up(id.signed(again, &anonymous("10.0.0.9"))).await?;
    assert_eq!(answer.into_inner(), pb::SignUpResponse {});
    assert_eq!(id.count_users().await?, 1);
    assert!(id.mailer.sent().iter().any(|m| m.kind == MailKind::AlreadyRegistered && m.token.is_none()));

    let verified = id
        .auth()
        .verify_email(id.signed(pb::VerifyEmailRequest { token: token.clone() }, &anonymous("10.0.0.1")))
        .await?;
    let verified = verified.into_inner();
    assert!(verified.user.as_ref().and_then(|u| u.email_verified).is_some());
    assert!(id.validate(&verified.session_token).await.is_ok());
    let again = id.auth().verify_email(id.signed(pb::VerifyEmailRequest { token }, &anonymous("10.0.0.1"))).await;
    assert_eq!(again.err().map(|s| s.code()), Some(Code::InvalidArgument));

    let session = id.sign_in("bill@example.com", PASSWORD, "10.0.0.2").await?;
    assert_ne!(session.token, verified.session_token, "a new token on every sign-in");
    id.auth().sign_out(id.signed(pb::SignOutRequest {}, &session.principal)).await?;
    assert_eq!(id.validate(&session.token).await.err().map(|s| s.code()), Some(Code::Unauthenticated));
    let twice = id.auth().sign_out(id.signed(pb::SignOutRequest {}, &session.principal)).await;
    assert_eq!(twice.err().map(|s| s.code()), Some(Code::Unauthenticated));
    assert_eq!(id.validate("not-a-token").await.err().map(|s| s.code()), Some(Code::Unauthenticated));

    let actions = id.audit_actions().await?;
    for expected in ["CREATE", "EMAIL_VERIFY", "LOGIN", "LOGOUT"] {
        assert!(actions.iter().any(|a| a == expected), "{expected} missing from {actions:?}");
    }
    let mut conn = id.db.connect().await?;
    let events: Vec<String> = jazz_platform::schema::outbox_events::table
        .select(jazz_platform::schema::outbox_events::event_type)
        .load(&mut conn)
        .await?;
    assert_eq!(events, [jazz_platform::outbox::events::USER_CREATED]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_email_wrong_password_and_unverified_email_answer_alike() -> anyhow::Result<()> {
    let id = Identity::start().await?;
    id.user("known@example.com", "10.1.0.1").await?;
    id.sign_up("unverified@example.com").await?;
    let wrong = id.sign_in("known@example.com", "not the password at all", "10.1.0.2").await.err();
    let unknown = id.sign_in("nobody@example.com", PASSWORD, "10.1.0.3").await.err();
    let unverified = id.sign_in("unverified@example.com", PASSWORD, "10.1.0.4").await.err();
    let answer = |s: Option<Status>| s.map(|s| (s.code(), s.message().to_owned()));
    let expected = Some((Code::Unauthenticated, "invalid email or password".to_owned()));
    assert_eq!(answer(wrong), expected);
    assert_eq!(answer(unknown), expected);
    assert_eq!(answer(unverified), expected);
    assert!(id.audit_actions().await?.iter().any(|a| a == "LOGIN_FAILED"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_concurrent_redemptions_of_one_token_make_one_session() -> anyhow::Result<()> {
    let id = Arc::new(Identity::start().await?);
    let token = id.sign_up("race@example.com").await?;
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (id, token) = (id.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let request = id.signed(pb::VerifyEmailRequest { token }, &anonymous("10.2.0.1"));
            id.auth().verify_email(request).await.map(drop).map_err(|s| s.code())
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await?);
    }
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    assert!(results.iter().all(|r| r.is_ok() || *r == Err(Code::InvalidArgument)), "{results:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_are_throttled_per_account() -> anyhow::Result<()> {
    let id = Identity::start().await?;
    id.user("target@example.com", "10.3.0.1").await?;
    for attempt in 0..5 {
        let ip = format!("10.3.1.{attempt}");
        let refused = id.sign_in("target@example.com", "wrong password guess", &ip).await.err().map(|s| s.code());
        assert_eq!(refused, Some(Code::Unauthenticated));
    }
    // Even the right password is refused now, from a fresh address.
    let throttled = id.sign_in("target@example.com", PASSWORD, "10.3.2.1").await.err();
    assert_eq!(throttled.as_ref().map(Status::code), Some(Code::ResourceExhausted));
    assert!(throttled.and_then(|s| s.get_details_retry_info()).and_then(|r| r.retry_delay).is_some());
    // Another account is not affected.
    id.user("bystander@example.com", "10.3.3.1").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_cannot_revoke_another_users_session() -> anyhow::Result<()> {
    let id = Identity::start().await?;
    let a = id.user("a@example.com", "10.4.0.1").await?;
    let b = id.user("b@example.com", "10.4.0.2").await?;
    let listed = id.users().list_sessions(id.signed(pb::ListSessionsRequest::default(), &b.principal)).await?;
    let b_sessions = listed.into_inner().sessions;
    assert_eq!(b_sessions.len(), 2, "verification and sign-in sessions");
    assert_eq!(b_sessions.iter().filter(|s| s.current).count(), 1);
    let foreign = pb::RevokeSessionRequest { session_id: b_sessions[0].id.clone() };
    let refused = id.users().revoke_session(id.signed(foreign.clone(), &a.principal)).await;
    assert_eq!(refused.err().map(|s| s.code()), Some(Code::NotFound));
    assert!(id.validate(&b.token).await.is_ok());
    id.users().revoke_session(id.signed(foreign, &b.principal)).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_sign_up_input_names_the_field_and_writes_nothing() -> anyhow::Result<()> {
    let id = Identity::start().await?;
    let good = pb::SignUpRequest {
        email: "good@example.com".into(),
        password: PASSWORD.into(),
        first_name: "Bill".into(),
        last_name: "Evans".into(),
        ..Default::default()
    };
    let cases = [
        ("email", pb::SignUpRequest { email: "not-an-email".into(), ..good.clone() }),
        ("password", pb::SignUpRequest { password: "short".into(), ..good.clone() }),
        ("password", pb::SignUpRequest { password: "password1234".into(), ..good.clone() }),
        ("password", pb::SignUpRequest { password: "x".repeat(1025), ..good.clone() }),
        ("first_name", pb::SignUpRequest { first_name: "Bi\0ll".into(), ..good.clone() }),
        ("timezone", pb::SignUpRequest { timezone: "Mars/Olympus".into(), ..good.clone() }),
        ("locale", pb::SignUpRequest { locale: "english please".into(), ..good.clone() }),
    ];
    for (field, request) in cases {
        let status = id.auth().sign_up(id.signed(request, &anonymous("10.5.0.1"))).await.err();
        assert_eq!(status.as_ref().map(Status::code), Some(Code::InvalidArgument), "{field}");
        assert_eq!(status.as_ref().map(fields_of), Some(vec![field.to_owned()]), "{field}");
    }
    assert_eq!(id.count_users().await?, 0);
    assert!(id.audit_actions().await?.is_empty());
    assert!(id.mailer.sent().is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_change_and_reset_end_other_sessions() -> anyhow::Result<()> {
    let id = Identity::start().await?;
    let first = id.user("pw@example.com", "10.6.0.1").await?;
    let second = id.sign_in("pw@example.com", PASSWORD, "10.6.0.2").await?;
    let wrong = pb::ChangePasswordRequest {
        current_password: "not it at all".into(),
        new_password: "a brand new passphrase".into(),
    };
    let refused = id.auth().change_password(id.signed(wrong, &first.principal)).await.err();
    assert_eq!(refused.as_ref().map(fields_of), Some(vec!["current_password".to_owned()]));
    let change =
        pb::ChangePasswordRequest { current_password: PASSWORD.into(), new_password: "a brand new passphrase".into() };
    let changed = id.auth().change_password(id.signed(change, &first.principal)).await?.into_inner();
    assert_eq!(changed.revoked_session_count, 2, "the verification session and the second sign-in");
    assert!(id.validate(&first.token).await.is_ok());
    assert!(id.validate(&second.token).await.is_err());

    let reset = pb::RequestPasswordResetRequest { email: "pw@example.com".into() };
    id.auth().request_password_reset(id.signed(reset, &anonymous("10.6.0.3"))).await?;
    let unknown = pb::RequestPasswordResetRequest { email: "ghost@example.com".into() };
    id.auth().request_password_reset(id.signed(unknown, &anonymous("10.6.0.3"))).await?;
    let token = id.mailer.latest_token("pw@example.com", MailKind::PasswordReset).unwrap_or_default();
    let request = pb::ResetPasswordRequest { token, new_password: "yet another passphrase".into() };
    let after = id.auth().reset_password(id.signed(request, &anonymous("10.6.0.3"))).await?.into_inner();
    assert!(id.validate(&first.token).await.is_err());
    assert!(id.validate(&after.session_token).await.is_ok());
    assert!(id.sign_in("pw@example.com", "yet another passphrase", "10.6.0.4").await.is_ok());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_me_takes_only_masked_allowed_fields() -> anyhow::Result<()> {
    let id = Identity::start().await?;
    let me = id.user("mask@example.com", "10.7.0.1").await?;
    let mask = |paths: &[&str]| Some(prost_types_mask(paths));
    let user = pb::User { first_name: "William".into(), timezone: "Europe/Berlin".into(), ..Default::default() };
    let bad = pb::UpdateMeRequest { user: Some(user.clone()), update_mask: mask(&["email"]) };
    let refused = id.users().update_me(id.signed(bad, &me.principal)).await.err();
    assert_eq!(refused.as_ref().map(fields_of), Some(vec!["update_mask".to_owned()]));
    let good = pb::UpdateMeRequest { user: Some(user), update_mask: mask(&["first_name", "timezone"]) };
    let updated = id.users().update_me(id.signed(good, &me.principal)).await?.into_inner().user.unwrap_or_default();
    assert_eq!(
        (updated.first_name.as_str(), updated.timezone.as_str(), updated.last_name.as_str()),
        ("William", "Europe/Berlin", "Evans")
    );
    Ok(())
}

fn prost_types_mask(paths: &[&str]) -> prost_types::FieldMask {
    prost_types::FieldMask { paths: paths.iter().map(|p| (*p).to_owned()).collect() }
}
