//! The identity service over real gRPC and PostgreSQL: sign-up,
//! verification, sign-in, sessions, throttling, enumeration resistance,
//! ownership and input validation. Identity is started on its own fresh
//! database with a [`MemoryMailer`], so a test can read the tokens it mails,
//! and is called directly with principals signed by the test key.

use jazz_e2e::bad_fields as fields_of;
use std::net::SocketAddr;
use std::sync::Arc;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use identity::mail::{MailKind, MemoryMailer};
use jazz_contract::jazz::identity::v1 as pb;
use jazz_e2e::oidc::{OidcStandIn, Signer};
use jazz_e2e::{MAIL_WAIT, TEST_PRINCIPAL_SECRET, connect, service_config};
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
    oidc: OidcStandIn,
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
        let oidc = OidcStandIn::start().await?;
        let options = jazz_e2e::identity_options(&oidc)?;
        let config = service_config(ServiceName::Identity, &db.url, peers);
        let app = identity::build_with_options(config, Arc::new(mailer.clone()), options).await?;
        let addr: SocketAddr = app.local_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        let key = PrincipalKey::new(SecretString::from(TEST_PRINCIPAL_SECRET));
        Ok(Self { channel: connect(addr).await?, mailer, oidc, db, key, _stop: stop })
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
        let token = self.mailer.wait_token(email, MailKind::Verification, MAIL_WAIT).await;
        token.ok_or_else(|| anyhow::anyhow!("no verification mail"))
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

    async fn queued_events(&self) -> anyhow::Result<i64> {
        use jazz_platform::schema::outbox_events::dsl::*;
        let mut conn = self.db.connect().await?;
        Ok(outbox_events.count().get_result(&mut conn).await?)
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
    assert!(id.mailer.wait_count("bill@example.com", MailKind::AlreadyRegistered, 1, MAIL_WAIT).await);
    assert!(id.mailer.sent().iter().all(|m| m.kind != MailKind::AlreadyRegistered || m.token.is_none()));

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
    let mut events: Vec<String> = jazz_platform::schema::outbox_events::table
        .select(jazz_platform::schema::outbox_events::event_type)
        .load(&mut conn)
        .await?;
    events.sort();
    let mail = identity::mail_outbox::MAIL_REQUESTED;
    // The sign-up's event, its verification mail and the "already registered" notice.
    assert_eq!(events, [mail, mail, jazz_platform::outbox::events::USER_CREATED]);
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
    assert_eq!(id.queued_events().await?, 0, "no mail queued, no event written");
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
    let token = id.mailer.wait_token("pw@example.com", MailKind::PasswordReset, MAIL_WAIT).await.unwrap_or_default();
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

/// A LinkAccount of the stand-in provider's account `sub` (as `google`).
fn link_request(oidc: &OidcStandIn, sub: &str) -> pb::LinkAccountRequest {
    pb::LinkAccountRequest {
        provider: "google".into(),
        id_token: oidc.id_token(sub).unwrap_or_default(),
        access_token: "ya29.ACCESS-SECRET".into(),
        refresh_token: "1//REFRESH-SECRET".into(),
        token_type: "Bearer".into(),
        scope: "openid email".into(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linked_accounts_are_listed_without_tokens_sealed_at_rest_and_owned() -> anyhow::Result<()> {
    let id = Identity::start().await?;
    let bill = id.user("bill@example.com", "10.0.0.1").await?;
    let jim = id.user("jim@example.com", "10.0.0.2").await?;
    let linked = id.auth().link_account(id.signed(link_request(&id.oidc, "g-1"), &bill.principal)).await?.into_inner();
    let account = linked.account.ok_or_else(|| anyhow::anyhow!("no account"))?;
    assert_eq!((account.provider.as_str(), account.provider_account_id.as_str()), ("google", "g-1"));
    // Linking it again refreshes; to another user it is refused.
    id.auth().link_account(id.signed(link_request(&id.oidc, "g-1"), &bill.principal)).await?;
    let taken = id.auth().link_account(id.signed(link_request(&id.oidc, "g-1"), &jim.principal)).await.err();
    assert_eq!(taken.map(|s| s.code()), Some(Code::AlreadyExists));
    // Rejected tokens and bad input write nothing.
    let forged = id.oidc.token(Signer::Attacker, "key-1", &id.oidc.claims("g-1"))?;
    let forged = pb::LinkAccountRequest { id_token: forged, ..link_request(&id.oidc, "x") };
    let refused = id.auth().link_account(id.signed(forged, &jim.principal)).await.err();
    assert_eq!(refused.as_ref().map(Status::code), Some(Code::InvalidArgument));
    assert_eq!(refused.as_ref().map(fields_of), Some(vec!["id_token".to_owned()]));
    let apple = pb::LinkAccountRequest { provider: "apple".into(), ..link_request(&id.oidc, "a-1") };
    let refused = id.auth().link_account(id.signed(apple, &bill.principal)).await.err();
    assert_eq!(refused.as_ref().map(fields_of), Some(vec!["provider".to_owned()]), "apple is not configured");
    let unknown = pb::LinkAccountRequest { provider: "myspace".into(), ..link_request(&id.oidc, "y") };
    let refused = id.auth().link_account(id.signed(unknown, &bill.principal)).await.err();
    assert_eq!(refused.as_ref().map(fields_of), Some(vec!["provider".to_owned()]));

    let list = id.auth().list_accounts(id.signed(pb::ListAccountsRequest::default(), &bill.principal)).await?;
    let listed = list.into_inner().accounts;
    assert_eq!(listed.len(), 1);
    assert!(!format!("{listed:?}").contains("SECRET"), "no token in any answer");
    let none = id.auth().list_accounts(id.signed(pb::ListAccountsRequest::default(), &jim.principal)).await?;
    assert!(none.into_inner().accounts.is_empty());

    // At rest: ciphertext, never the token.
    let mut conn = id.db.connect().await?;
    use identity::schema::accounts::dsl as a;
    let stored: Vec<(Option<String>, Option<String>, Option<String>)> =
        a::accounts.select((a::access_token, a::refresh_token, a::id_token)).load(&mut conn).await?;
    assert_eq!(stored.len(), 1);
    for (access, refresh, id_token) in &stored {
        for value in [access, refresh, id_token] {
            let value = value.as_deref().unwrap_or_default();
            assert!(!value.is_empty() && !value.contains("SECRET") && !value.starts_with("eyJ"), "{value}");
        }
    }
    let audit = id.audit_actions().await?;
    assert!(audit.contains(&"LINK".to_owned()));

    // Another user's account looks absent; the only sign-in method stays.
    let unlink =
        |principal: &Principal| id.signed(pb::UnlinkAccountRequest { account_id: account.id.clone() }, principal);
    let foreign = id.auth().unlink_account(unlink(&jim.principal)).await.err();
    assert_eq!(foreign.map(|s| s.code()), Some(Code::NotFound));
    diesel::update(identity::schema::users::table)
        .filter(identity::schema::users::email.eq("bill@example.com"))
        .set(identity::schema::users::password_hash.eq(None::<String>))
        .execute(&mut conn)
        .await?;
    let last = id.auth().unlink_account(unlink(&bill.principal)).await.err();
    assert_eq!(last.map(|s| s.code()), Some(Code::FailedPrecondition));
    // With a second link the first may go.
    id.auth().link_account(id.signed(link_request(&id.oidc, "g-2"), &bill.principal)).await?;
    id.auth().unlink_account(unlink(&bill.principal)).await?;
    let left = id.auth().list_accounts(id.signed(pb::ListAccountsRequest::default(), &bill.principal)).await?;
    let left: Vec<String> = left.into_inner().accounts.into_iter().map(|a| a.provider_account_id).collect();
    assert_eq!(left, ["g-2"]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_account_is_restored_within_the_window_and_purged_after_it() -> anyhow::Result<()> {
    let id = Identity::start().await?;
    let bill = id.user("bill@example.com", "10.0.0.1").await?;
    let not_deleted = pb::UndeleteMeRequest { email: "bill@example.com".into(), password: PASSWORD.into() };
    let refused = id.users().undelete_me(id.signed(not_deleted.clone(), &anonymous("10.0.0.1"))).await.err();
    assert_eq!(refused.map(|s| s.code()), Some(Code::FailedPrecondition));
    id.users().delete_me(id.signed(pb::DeleteMeRequest {}, &bill.principal)).await?;
    let wrong = pb::UndeleteMeRequest { password: "not the password at all".into(), ..not_deleted.clone() };
    let refused = id.users().undelete_me(id.signed(wrong, &anonymous("10.0.0.1"))).await.err();
    assert_eq!(refused.map(|s| s.code()), Some(Code::Unauthenticated));
    let restored = id.users().undelete_me(id.signed(not_deleted.clone(), &anonymous("10.0.0.1"))).await?;
    let restored = restored.into_inner();
    assert!(restored.user.as_ref().is_some_and(|u| u.deleted_at.is_none()));
    id.validate(&restored.session_token).await?;
    assert!(id.audit_actions().await?.contains(&"UNDELETE".to_owned()));

    // Deleted again, 31 days ago: past the window.
    let bad_id = |v: jazz_platform::error::FieldViolation| anyhow::anyhow!("{}", v.description);
    let user = parse_id("user_id", &restored.user.map(|u| u.id).unwrap_or_default()).map_err(bad_id)?;
    let session = id.validate(&restored.session_token).await?;
    let principal = Principal::user(user, parse_id("s", &session.session_id).map_err(bad_id)?, "t");
    id.users().delete_me(id.signed(pb::DeleteMeRequest {}, &principal)).await?;
    let mut conn = id.db.connect().await?;
    diesel::sql_query("UPDATE users SET deleted_at = now() - interval '31 days' WHERE id = $1")
        .bind::<diesel::sql_types::Uuid, _>(user)
        .execute(&mut conn)
        .await?;
    let late = id.users().undelete_me(id.signed(not_deleted, &anonymous("10.0.0.1"))).await.err();
    assert_eq!(late.map(|s| s.code()), Some(Code::Unauthenticated));
    let other = id.user("jim@example.com", "10.0.0.2").await?;

    let purged = identity::purge::purge_expired(&mut conn).await?;
    assert_eq!(purged, [user]);
    assert_eq!(id.count_users().await?, 1, "only jim is left");
    use identity::schema::{sessions, sign_in_attempts, user_profiles};
    let profiles: i64 =
        user_profiles::table.filter(user_profiles::user_id.eq(user)).count().get_result(&mut conn).await?;
    let sessions: i64 = sessions::table.filter(sessions::user_id.eq(user)).count().get_result(&mut conn).await?;
    let attempts: i64 = sign_in_attempts::table
        .filter(sign_in_attempts::email.eq("bill@example.com"))
        .count()
        .get_result(&mut conn)
        .await?;
    assert_eq!((profiles, sessions, attempts), (0, 0, 0));
    use jazz_platform::schema::{audit_logs as l, outbox_events as o};
    let traces: i64 = l::table.filter(l::user_id.eq(user)).count().get_result(&mut conn).await?;
    assert_eq!(traces, 0, "audit entries keep the action, not the user");
    let kept: i64 = l::table.filter(l::action.eq("UNDELETE")).count().get_result(&mut conn).await?;
    assert_eq!(kept, 1);
    let events: Vec<serde_json::Value> = o::table
        .filter(o::event_type.eq(jazz_platform::outbox::events::USER_PURGED))
        .select(o::payload)
        .load(&mut conn)
        .await?;
    assert_eq!(events, [serde_json::json!({ "user_id": jazz_platform::ids::to_api(user) })]);
    // Nothing more to purge; jim is untouched.
    assert!(identity::purge::purge_expired(&mut conn).await?.is_empty());
    id.validate(&other.token).await?;
    Ok(())
}

fn admin() -> Principal {
    Principal::service("ops-tool")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feature_flags_are_managed_by_services_only() -> anyhow::Result<()> {
    use pb::identity_admin_service_client::IdentityAdminServiceClient;
    let id = Identity::start().await?;
    let mut client = IdentityAdminServiceClient::new(id.channel.clone());
    let flag = |name: &str| pb::FeatureFlag {
        name: name.into(),
        description: "new generator".into(),
        is_enabled: true,
        rollout_percentage: 25.0,
        ..Default::default()
    };
    let create = pb::CreateFeatureFlagRequest { flag: Some(flag("ai_v2")), request_id: "req-1".into() };
    let first = client.create_feature_flag(id.signed(create.clone(), &admin())).await?.into_inner();
    let again = client.create_feature_flag(id.signed(create, &admin())).await?.into_inner();
    assert_eq!(first, again, "the same request id answers the first result");
    let other = pb::CreateFeatureFlagRequest { flag: Some(flag("ai_v3")), request_id: "req-1".into() };
    let reused = client.create_feature_flag(id.signed(other, &admin())).await.err();
    assert_eq!(reused.as_ref().map(|s| s.code()), Some(Code::InvalidArgument), "same id, other arguments");
    assert_eq!(reused.as_ref().map(fields_of), Some(vec!["request_id".to_owned()]));
    let reason = reused.and_then(|s| s.get_details_error_info()).map(|info| info.reason);
    assert_eq!(reason.as_deref(), Some("REQUEST_ID_REUSED"));
    let dup = pb::CreateFeatureFlagRequest { flag: Some(flag("ai_v2")), request_id: String::new() };
    let dup = client.create_feature_flag(id.signed(dup, &admin())).await.err();
    assert_eq!(dup.map(|s| s.code()), Some(Code::AlreadyExists));
    let bad = pb::FeatureFlag { rollout_percentage: f64::NAN, ..flag("Bad Name") };
    let bad = client
        .create_feature_flag(
            id.signed(pb::CreateFeatureFlagRequest { flag: Some(bad), request_id: String::new() }, &admin()),
        )
        .await
        .err();
    assert_eq!(bad.as_ref().map(fields_of), Some(vec!["flag.name".to_owned(), "flag.rollout_percentage".to_owned()]));
    for name in ["b_flag", "c_flag"] {
        let create = pb::CreateFeatureFlagRequest { flag: Some(flag(name)), request_id: String::new() };
        client.create_feature_flag(id.signed(create, &admin())).await?;
    }

    let update = pb::UpdateFeatureFlagRequest {
        flag: Some(pb::FeatureFlag { rollout_percentage: 50.0, description: "ignored".into(), ..flag("ai_v2") }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["rollout_percentage".into()] }),
    };
    let updated = client.update_feature_flag(id.signed(update, &admin())).await?.into_inner().flag;
    assert_eq!(updated.as_ref().map(|f| (f.rollout_percentage, f.description.as_str())), Some((50.0, "new generator")));
    let rename = pb::UpdateFeatureFlagRequest {
        flag: Some(flag("ai_v2")),
        update_mask: Some(prost_types::FieldMask { paths: vec!["name".into()] }),
    };
    let rename = client.update_feature_flag(id.signed(rename, &admin())).await.err();
    assert_eq!(rename.map(|s| s.code()), Some(Code::InvalidArgument));

    let get = client.get_feature_flag(id.signed(pb::GetFeatureFlagRequest { name: "ai_v2".into() }, &admin())).await?;
    assert_eq!(get.into_inner().flag.map(|f| f.rollout_percentage), Some(50.0));
    let page = pb::ListFeatureFlagsRequest { page_size: 2, page_token: String::new() };
    let first_page = client.list_feature_flags(id.signed(page, &admin())).await?.into_inner();
    let names: Vec<String> = first_page.flags.iter().map(|f| f.name.clone()).collect();
    assert_eq!(names, ["ai_v2", "b_flag"]);
    let page = pb::ListFeatureFlagsRequest { page_size: 2, page_token: first_page.next_page_token };
    let second = client.list_feature_flags(id.signed(page, &admin())).await?.into_inner();
    assert_eq!(second.flags.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["c_flag"]);
    assert!(second.next_page_token.is_empty());

    client.delete_feature_flag(id.signed(pb::DeleteFeatureFlagRequest { name: "b_flag".into() }, &admin())).await?;
    let gone = client.get_feature_flag(id.signed(pb::GetFeatureFlagRequest { name: "b_flag".into() }, &admin())).await;
    assert_eq!(gone.err().map(|s| s.code()), Some(Code::NotFound));
    let audit = id.audit_actions().await?;
    for action in ["CREATE", "UPDATE", "DELETE"] {
        assert!(audit.contains(&action.to_owned()), "{action} audited");
    }

    // A user principal is refused, and nothing changes.
    let bill = id.user("bill@example.com", "10.0.0.1").await?;
    let create = pb::CreateFeatureFlagRequest { flag: Some(flag("sneaky")), request_id: String::new() };
    let refused = client.create_feature_flag(id.signed(create, &bill.principal)).await.err();
    assert_eq!(refused.map(|s| s.code()), Some(Code::PermissionDenied));
    let delete = pb::DeleteFeatureFlagRequest { name: "ai_v2".into() };
    let refused = client.delete_feature_flag(id.signed(delete, &bill.principal)).await.err();
    assert_eq!(refused.map(|s| s.code()), Some(Code::PermissionDenied));

    // LookupUser by email and by id.
    use pb::lookup_user_request::Key;
    let by_email = pb::LookupUserRequest { key: Some(Key::Email("Bill@Example.com".into())) };
    let found = client.lookup_user(id.signed(by_email, &admin())).await?.into_inner();
    assert_eq!(found.active_session_count, 2, "the verification and the sign-in");
    let user_id = found.user.map(|u| u.id).unwrap_or_default();
    let by_id = pb::LookupUserRequest { key: Some(Key::UserId(user_id.clone())) };
    assert!(client.lookup_user(id.signed(by_id, &admin())).await?.into_inner().profile.is_some());
    let none = pb::LookupUserRequest { key: None };
    assert_eq!(
        client.lookup_user(id.signed(none, &admin())).await.err().map(|s| s.code()),
        Some(Code::InvalidArgument)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_logs_of_one_user_page_newest_first() -> anyhow::Result<()> {
    let id = Identity::start().await?;
    let bill = id.user("bill@example.com", "10.0.0.1").await?;
    id.user("jim@example.com", "10.0.0.2").await?;
    for _ in 0..3 {
        id.sign_in("bill@example.com", PASSWORD, "10.0.0.1").await?;
    }
    let user_id = jazz_platform::ids::to_api(bill.principal.user_id.unwrap_or_default());
    let mut internal = IdentityInternalServiceClient::new(id.channel.clone());
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let request = pb::ListAuditLogsRequest {
            user_id: user_id.clone(),
            page_size: 2,
            page_token: token.clone(),
            ..Default::default()
        };
        let page = internal.list_audit_logs(id.signed(request, &Principal::service("identity"))).await?.into_inner();
        assert!(page.entries.len() <= 2);
        seen.extend(page.entries);
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert!(seen.len() >= 5, "sign-up, verification and four sign-ins: {}", seen.len());
    assert!(seen.iter().all(|e| e.user_id == user_id && e.service == "identity"));
    let keys: Vec<(i64, i32, String)> = seen
        .iter()
        .map(|e| e.created_at.as_ref().map(|t| (t.seconds, t.nanos, e.id.clone())).unwrap_or_default())
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(keys, sorted, "newest first");
    // A token for another filter, or tampered, is refused; users may not call.
    let foreign = pb::ListAuditLogsRequest { page_size: 2, page_token: token.clone(), ..Default::default() };
    let tampered =
        pb::ListAuditLogsRequest { user_id: user_id.clone(), page_token: "AAAA".into(), ..Default::default() };
    for request in [foreign, tampered] {
        let refused = internal.list_audit_logs(id.signed(request, &Principal::service("identity"))).await.err();
        assert_eq!(refused.map(|s| s.code()), Some(Code::InvalidArgument));
    }
    let as_user = pb::ListAuditLogsRequest { user_id, ..Default::default() };
    let refused = internal.list_audit_logs(id.signed(as_user, &bill.principal)).await.err();
    assert_eq!(refused.map(|s| s.code()), Some(Code::PermissionDenied));
    Ok(())
}
