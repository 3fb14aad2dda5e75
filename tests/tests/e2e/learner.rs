//! A learner's account life, entirely through the gateway with a bearer
//! token, as the mobile app lives it: sign up, verify, sign in, use the
//! session, manage sessions and profile, forget the password, sign in by
//! magic link, delete the account.

use identity::mail::MailKind;
use jazz_contract::jazz::common::v1::SkillLevel;
use jazz_contract::jazz::identity::v1 as pb;
use jazz_contract::jazz::identity::v1::auth_service_client::AuthServiceClient;
use jazz_contract::jazz::identity::v1::user_service_client::UserServiceClient;
use jazz_e2e::{Suite, bearer};
use tonic::Code;
use tonic::transport::Channel;

const EMAIL: &str = "herbie@example.com";
const PASSWORD: &str = "watermelon-man-1962";

async fn token_of(suite: &Suite, kind: MailKind) -> anyhow::Result<String> {
    suite.mailer.wait_token(EMAIL, kind, jazz_e2e::MAIL_WAIT).await.ok_or_else(|| anyhow::anyhow!("no {kind:?} mail"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learner_lives_their_account_through_the_gateway() -> anyhow::Result<()> {
    let suite = Suite::start().await?;
    let channel: Channel = suite.gateway_channel().await?;
    let mut auth = AuthServiceClient::new(channel.clone());
    let mut users = UserServiceClient::new(channel);

    // Sign up and verify: the verification link signs the learner in.
    auth.sign_up(pb::SignUpRequest {
        email: EMAIL.into(),
        password: PASSWORD.into(),
        first_name: "Herbie".into(),
        last_name: "Hancock".into(),
        timezone: "America/Chicago".into(),
        locale: "en-US".into(),
        ..Default::default()
    })
    .await?;
    let verified =
        auth.verify_email(pb::VerifyEmailRequest { token: token_of(&suite, MailKind::Verification).await? }).await?;
    let first = verified.into_inner().session_token;

    // Sign in again (a second device) and use the session.
    let signed_in = auth.sign_in(pb::SignInRequest { email: EMAIL.into(), password: PASSWORD.into() }).await?;
    let second = signed_in.into_inner().session_token;
    assert_ne!(first, second, "a new token for every sign-in");
    let me = users.get_me(bearer(pb::GetMeRequest::default(), &second)?).await?.into_inner();
    assert_eq!(me.user.map(|u| u.email), Some(EMAIL.to_owned()));

    // Profile.
    let profile = pb::UserProfile { skill_level: SkillLevel::Advanced as i32, ..Default::default() };
    let mask = prost_types::FieldMask { paths: vec!["skill_level".into()] };
    users
        .update_profile(bearer(pb::UpdateProfileRequest { profile: Some(profile), update_mask: Some(mask) }, &second)?)
        .await?;
    let profile = users.get_profile(bearer(pb::GetProfileRequest::default(), &second)?).await?.into_inner().profile;
    assert_eq!(profile.map(|p| p.skill_level), Some(SkillLevel::Advanced as i32));

    // Sessions: two; revoke the first device's; it stops working (the
    // gateway's session cache lasts 1 s in the suite).
    let sessions =
        users.list_sessions(bearer(pb::ListSessionsRequest::default(), &second)?).await?.into_inner().sessions;
    assert_eq!(sessions.len(), 2);
    let other = sessions.iter().find(|s| !s.current).map(|s| s.id.clone()).unwrap_or_default();
    users.revoke_session(bearer(pb::RevokeSessionRequest { session_id: other }, &second)?).await?;
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let revoked = users.get_me(bearer(pb::GetMeRequest::default(), &first)?).await.err().map(|s| s.code());
    assert_eq!(revoked, Some(Code::Unauthenticated));

    // Forgotten password: the reset link sets a new one and ends every session.
    auth.request_password_reset(pb::RequestPasswordResetRequest { email: EMAIL.into() }).await?;
    let reset = pb::ResetPasswordRequest {
        token: token_of(&suite, MailKind::PasswordReset).await?,
        new_password: "cantaloupe-island-1964".into(),
    };
    auth.reset_password(reset).await?;
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let ended = users.get_me(bearer(pb::GetMeRequest::default(), &second)?).await.err().map(|s| s.code());
    assert_eq!(ended, Some(Code::Unauthenticated));
    let old = auth.sign_in(pb::SignInRequest { email: EMAIL.into(), password: PASSWORD.into() }).await;
    assert_eq!(old.err().map(|s| s.code()), Some(Code::Unauthenticated));

    // Magic link.
    auth.request_magic_link(pb::RequestMagicLinkRequest { email: EMAIL.into() }).await?;
    let magic = auth
        .sign_in_with_magic_link(pb::SignInWithMagicLinkRequest { token: token_of(&suite, MailKind::MagicLink).await? })
        .await?;
    let third = magic.into_inner().session_token;
    users.get_me(bearer(pb::GetMeRequest::default(), &third)?).await?;

    // Delete the account: the session ends with it.
    users.delete_me(bearer(pb::DeleteMeRequest::default(), &third)?).await?;
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let gone = users.get_me(bearer(pb::GetMeRequest::default(), &third)?).await.err().map(|s| s.code());
    assert_eq!(gone, Some(Code::Unauthenticated));
    Ok(())
}
