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

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// aiosmtpd on a free port, storing messages in a fresh folder.
async fn smtp_sink() -> anyhow::Result<(tokio::process::Child, u16, PathBuf)> {
    let python = workspace().join("build/venv/bin/python");
    anyhow::ensure!(python.exists(), "build/venv is missing: run `make tools` (make test does)");
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
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
    anyhow::ensure!(ready.as_deref() == Some("ready"), "smtp sink did not start: {ready:?}");
    Ok((child, port, out))
}

fn ulid_like() -> String {
    jazz_platform::ids::to_api(jazz_platform::ids::new_id()).to_lowercase()
}

/// Waits for the first stored message and returns its text.
async fn first_mail(dir: &Path) -> anyhow::Result<String> {
    for _ in 0..100 {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_verification_mail_arrives_over_smtp_and_its_link_signs_the_learner_in() -> anyhow::Result<()> {
    let (_sink, port, mail_dir) = smtp_sink().await?;
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
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let key = PrincipalKey::new(SecretString::from(TEST_PRINCIPAL_SECRET));
    let mut auth = AuthServiceClient::new(connect(addr).await?);

    let mut request = tonic::Request::new(pb::SignUpRequest {
        email: "nina@example.com".into(),
        password: "feeling good, it's a new dawn".into(),
        first_name: "Nina".into(),
        last_name: "Simone".into(),
        timezone: "Europe/Paris".into(),
        locale: "fr-FR".into(),
        ..Default::default()
    });
    key.attach(&mut request, &Principal::anonymous("req-mail"));
    auth.sign_up(request).await?;

    let mail = first_mail(&mail_dir).await?;
    assert!(mail.contains("To: nina@example.com"), "{mail}");
    assert!(mail.contains("Subject: Confirm your email for JazzMaster Pro"), "{mail}");
    let link_start = mail
        .find("https://app.jazzmaster.test/auth/verify-email?token=")
        .ok_or_else(|| anyhow::anyhow!("no link in {mail}"))?;
    let token: String = mail[link_start..]
        .split_once("token=")
        .map(|(_, rest)| rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect())
        .unwrap_or_default();
    assert!(token.len() >= 22, "a token of at least 128 bits: {token}");

    let mut verify = tonic::Request::new(pb::VerifyEmailRequest { token });
    key.attach(&mut verify, &Principal::anonymous("req-verify"));
    let session = auth.verify_email(verify).await?.into_inner();
    assert!(!session.session_token.is_empty());
    let _ = std::fs::remove_dir_all(&mail_dir);
    Ok(())
}
