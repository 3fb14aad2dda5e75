//! Mail through a real SMTP server: identity's SMTP client sends the
//! verification mail to aiosmtpd (tests/outside/smtp_sink.py, installed by
//! `make` into build/venv), the test reads it, follows the link's token and
//! gets a session — the sign-up flow as a learner lives it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use identity::mail::{SmtpConfig, SmtpMailer};
use jazz_contract::jazz::identity::v1 as pb;
use jazz_contract::jazz::identity::v1::auth_service_client::AuthServiceClient;
use jazz_e2e::{TEST_PRINCIPAL_SECRET, connect, service_config};
use jazz_platform::testing::TestDatabase;
use jazz_platform::{Principal, PrincipalKey, ServiceName};
use secrecy::SecretString;
use tokio::io::{AsyncBufReadExt, BufReader};
use tonic::transport::Channel;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A loopback port nobody listens on (yet): for the one test whose mail
/// server must be down first and come back on the same port.
fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// aiosmtpd on a port it binds itself (no window in which another
/// process could take it), storing messages in a fresh folder.
async fn smtp_sink() -> anyhow::Result<(tokio::process::Child, u16, PathBuf)> {
    smtp_sink_on(0).await
}

/// aiosmtpd on `port` (0: one it picks); returns the port it listens on.
async fn smtp_sink_on(port: u16) -> anyhow::Result<(tokio::process::Child, u16, PathBuf)> {
    let python = workspace().join("build/venv/bin/python");
    anyhow::ensure!(python.exists(), "build/venv is missing: run `make tools` (make test does)");
    let out = std::env::temp_dir().join(format!("jazz-mail-{}", ulid_like()));
    let mut child = tokio::process::Command::new(python)
        .arg(workspace().join("tests/outside/smtp_sink.py"))
        .arg(port.to_string())
        .arg(&out)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let mut lines = BufReader::new(stdout).lines();
    let ready = tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await??;
    let listening = ready.as_deref().and_then(|line| line.strip_prefix("ready ")).and_then(|p| p.parse().ok());
    let port = listening.ok_or_else(|| anyhow::anyhow!("smtp sink did not start: {ready:?}"))?;
    Ok((child, port, out))
}

fn ulid_like() -> String {
    jazz_platform::ids::to_api(jazz_platform::ids::new_id()).to_lowercase()
}

/// Waits (up to 20 s: a retried mail waits out the relay's backoff) for the
/// first stored message and returns its text.
async fn first_mail(dir: &Path) -> anyhow::Result<String> {
    for _ in 0..200 {
        if let Ok(mut entries) = std::fs::read_dir(dir)
            && let Some(Ok(entry)) =
                entries.find(|e| e.as_ref().is_ok_and(|e| e.path().extension().is_some_and(|x| x == "eml")))
        {
            return Ok(std::fs::read_to_string(entry.path())?);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("no mail arrived")
}

/// Identity on a fresh database, mailing over SMTP to `port`.
async fn identity_mailing_to(
    port: u16,
) -> anyhow::Result<(TestDatabase, AuthServiceClient<Channel>, tokio::sync::oneshot::Sender<()>)> {
    let db = TestDatabase::migrated(ServiceName::Identity, identity::MIGRATIONS).await?;
    let mailer = SmtpMailer::new(SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        from: "JazzMaster Pro <no-reply@jazzmaster.pro>".into(),
        link_base: "https://app.jazzmaster.test/auth".into(),
    });
    let peers = jazz_e2e::no_peers();
    let app = identity::build_with(service_config(ServiceName::Identity, &db.url, peers), Arc::new(mailer)).await?;
    let addr: SocketAddr = app.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    Ok((db, AuthServiceClient::new(connect(addr).await?), stop))
}

fn key() -> PrincipalKey {
    PrincipalKey::new(SecretString::from(TEST_PRINCIPAL_SECRET))
}

/// Nina signs up.
async fn sign_up_nina(auth: &mut AuthServiceClient<Channel>) -> anyhow::Result<()> {
    let mut request = tonic::Request::new(pb::SignUpRequest {
        email: "nina@example.com".into(),
        password: "feeling good, it's a new dawn".into(),
        first_name: "Nina".into(),
        last_name: "Simone".into(),
        timezone: "Europe/Paris".into(),
        locale: "fr-FR".into(),
        ..Default::default()
    });
    key().attach(&mut request, &Principal::anonymous("req-mail"));
    auth.sign_up(request).await?;
    Ok(())
}

/// The token of the verification link in `mail`.
fn verification_token(mail: &str) -> anyhow::Result<String> {
    let link_start = mail
        .find("https://app.jazzmaster.test/auth/verify-email?token=")
        .ok_or_else(|| anyhow::anyhow!("no link in {mail}"))?;
    Ok(mail[link_start..]
        .split_once("token=")
        .map(|(_, rest)| rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect())
        .unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_verification_mail_arrives_over_smtp_and_its_link_signs_the_learner_in() -> anyhow::Result<()> {
    let (_sink, port, mail_dir) = smtp_sink().await?;
    let (_db, mut auth, _stop) = identity_mailing_to(port).await?;
    sign_up_nina(&mut auth).await?;

    let mail = first_mail(&mail_dir).await?;
    assert!(mail.contains("To: nina@example.com"), "{mail}");
    assert!(mail.contains("Subject: Confirm your email for JazzMaster Pro"), "{mail}");
    let token = verification_token(&mail)?;
    assert!(token.len() >= 22, "a token of at least 128 bits: {token}");

    let mut verify = tonic::Request::new(pb::VerifyEmailRequest { token });
    key().attach(&mut verify, &Principal::anonymous("req-verify"));
    let session = auth.verify_email(verify).await?.into_inner();
    assert!(!session.session_token.is_empty());
    let _ = std::fs::remove_dir_all(&mail_dir);
    Ok(())
}

/// The queued mail's state: (status, attempts).
async fn mail_event(db: &TestDatabase) -> anyhow::Result<Vec<(String, i32)>> {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use jazz_platform::schema::outbox_events as o;
    let mut conn = db.connect().await?;
    Ok(o::table
        .filter(o::event_type.eq(identity::mail_outbox::MAIL_REQUESTED))
        .select((o::status, o::attempts))
        .load(&mut conn)
        .await?)
}

async fn stored_tokens(db: &TestDatabase) -> anyhow::Result<i64> {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    let mut conn = db.connect().await?;
    Ok(identity::schema::verification_tokens::table.count().get_result(&mut conn).await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_queued_while_the_mail_server_is_down_goes_out_once_it_is_back() -> anyhow::Result<()> {
    let port = free_port()?;
    let (db, mut auth, _stop) = identity_mailing_to(port).await?;
    sign_up_nina(&mut auth).await?;

    // The sign-up answered OK with the server down; the mail waits in the
    // outbox, and the token of the failed attempt was thrown away.
    let mut failed = false;
    for _ in 0..100 {
        if mail_event(&db).await?.iter().any(|(status, attempts)| status == "pending" && *attempts >= 1) {
            failed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(failed, "the first attempt failed and the mail stays queued: {:?}", mail_event(&db).await?);
    assert_eq!(stored_tokens(&db).await?, 0, "no usable token from a mail nobody received");

    // The server comes back: the retry delivers it, with a working link.
    let (_sink, _, mail_dir) = smtp_sink_on(port).await?;
    let mail = first_mail(&mail_dir).await?;
    let mut verify = tonic::Request::new(pb::VerifyEmailRequest { token: verification_token(&mail)? });
    key().attach(&mut verify, &Principal::anonymous("req-verify"));
    assert!(!auth.verify_email(verify).await?.into_inner().session_token.is_empty());
    let events = mail_event(&db).await?;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, "delivered");
    let _ = std::fs::remove_dir_all(&mail_dir);
    Ok(())
}
