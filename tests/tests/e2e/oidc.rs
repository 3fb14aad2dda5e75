//! Identity's OpenID Connect verifier over real HTTP against a local
//! stand-in provider (discovery document, key set, RS256-signed ID tokens):
//! what it accepts, what it refuses, and how often it reads the keys.

use identity::domain::providers::{Provider, ProviderTokens};
use identity::oauth::oidc::{OidcConfig, OidcVerifier};
use identity::oauth::{ProviderVerifier as _, VerifiedAccount, VerifyError};
use jazz_e2e::oidc::{CLIENT_ID, OidcStandIn, Signer};

fn verifier_for(oidc: &OidcStandIn) -> anyhow::Result<OidcVerifier> {
    OidcVerifier::new([(Provider::Google, OidcConfig::new(&oidc.issuer, &["other-app", CLIENT_ID]))])
}

async fn verify(verifier: &OidcVerifier, token: String) -> Result<VerifiedAccount, VerifyError> {
    verifier.verify(Provider::Google, &ProviderTokens::id_token_only(token)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_signed_by_the_provider_for_our_app_names_its_account() -> anyhow::Result<()> {
    let oidc = OidcStandIn::start().await?;
    let verifier = verifier_for(&oidc)?;
    let account = verify(&verifier, oidc.id_token("109876543210")?).await?;
    assert_eq!(account, VerifiedAccount { provider_account_id: "109876543210".into(), kind: "oidc" });
    // The issuer written without its scheme (as Google does) is the same issuer.
    let mut bare = oidc.claims("g-2");
    bare["iss"] = oidc.issuer.trim_start_matches("http://").into();
    assert!(verify(&verifier, oidc.token(Signer::Provider, "key-1", &bare)?).await.is_err(), "only https is bare");
    // A list of audiences containing ours is ours.
    let mut audiences = oidc.claims("g-3");
    audiences["aud"] = serde_json::json!(["someone-else", CLIENT_ID]);
    assert!(verify(&verifier, oidc.token(Signer::Provider, "key-1", &audiences)?).await.is_ok());
    assert_eq!(oidc.key_set_reads(), 1, "the key set is read once and kept");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_expired_and_foreign_tokens_are_rejected() -> anyhow::Result<()> {
    let oidc = OidcStandIn::start().await?;
    let verifier = verifier_for(&oidc)?;
    let now = oidc.claims("x")["iat"].as_i64().unwrap_or_default();
    let with = |field: &str, value: serde_json::Value| {
        let mut claims = oidc.claims("victim");
        claims[field] = value;
        claims
    };
    let without = |field: &str| {
        let mut claims = oidc.claims("victim");
        claims.as_object_mut().map(|c| c.remove(field));
        claims
    };
    let cases = [
        ("signed by another key", oidc.token(Signer::Attacker, "key-1", &oidc.claims("victim"))?),
        ("expired", oidc.token(Signer::Provider, "key-1", &with("exp", (now - 3600).into()))?),
        ("for another app", oidc.token(Signer::Provider, "key-1", &with("aud", "evil-app".into()))?),
        ("from another issuer", oidc.token(Signer::Provider, "key-1", &with("iss", "https://evil.example".into()))?),
        ("without exp", oidc.token(Signer::Provider, "key-1", &without("exp"))?),
        ("without sub", oidc.token(Signer::Provider, "key-1", &without("sub"))?),
        ("with an empty sub", oidc.token(Signer::Provider, "key-1", &with("sub", "".into()))?),
        ("tampered", format!("{}x", oidc.id_token("victim")?)),
    ];
    for (case, token) in cases {
        assert_eq!(verify(&verifier, token).await, Err(VerifyError::Rejected), "{case}");
    }
    // Expired within the minute of clock-skew leeway still counts.
    let skewed = oidc.token(Signer::Provider, "key-1", &with("exp", (now - 30).into()))?;
    assert!(verify(&verifier, skewed).await.is_ok());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_is_fetched_once_and_unknown_keys_do_not_hammer_the_provider() -> anyhow::Result<()> {
    let oidc = OidcStandIn::start().await?;
    let verifier = verifier_for(&oidc)?;
    assert!(verify(&verifier, oidc.id_token("a")?).await.is_ok());
    assert_eq!(oidc.key_set_reads(), 1);
    // A token naming a key id nobody published: one early read at most a
    // minute — this read was just made, so no second one now.
    let unknown = oidc.token(Signer::Provider, "key-9", &oidc.claims("a"))?;
    assert_eq!(verify(&verifier, unknown.clone()).await, Err(VerifyError::Rejected));
    assert_eq!(verify(&verifier, unknown).await, Err(VerifyError::Rejected));
    assert_eq!(oidc.key_set_reads(), 1, "unknown key ids do not trigger reads within the minute");

    // A fresh verifier after the provider rotated to key-2: it reads the
    // set and accepts tokens under the new id, refuses the retired one.
    oidc.rotate_to("key-2");
    let fresh = verifier_for(&oidc)?;
    assert!(verify(&fresh, oidc.token(Signer::Provider, "key-2", &oidc.claims("b"))?).await.is_ok());
    assert_eq!(verify(&fresh, oidc.id_token("b")?).await, Err(VerifyError::Rejected), "key-1 is retired");
    assert_eq!(oidc.key_set_reads(), 2);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_provider_is_unavailable_not_a_rejection() -> anyhow::Result<()> {
    // Port 1: nothing listens there, and no other test can take it.
    let verifier = OidcVerifier::new([(Provider::Google, OidcConfig::new("http://127.0.0.1:1", &[CLIENT_ID]))])?;
    let oidc = OidcStandIn::start().await?;
    let result = verify(&verifier, oidc.id_token("a")?).await;
    assert!(matches!(result, Err(VerifyError::Unavailable(_))), "{result:?}");
    Ok(())
}
