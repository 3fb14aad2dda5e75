//! LinkAccount, UnlinkAccount and ListAccounts: the caller's linked provider
//! accounts. The provider's tokens are verified by the configured
//! [`crate::oauth::ProviderVerifier`] (which also says whose they are), then
//! sealed ([`crate::domain::sealed`]) before they reach the database; no
//! method returns them and no log line or audit entry holds them.

use diesel_async::AsyncConnection as _;
use jazz_contract::jazz::identity::v1::{
    LinkAccountRequest, LinkAccountResponse, ListAccountsRequest, ListAccountsResponse, UnlinkAccountRequest,
    UnlinkAccountResponse,
};
use jazz_platform::Principal;
use jazz_platform::audit::AuditEntry;
use jazz_platform::error::{FieldViolation, StoreError, Violations};
use jazz_platform::ids::{parse_id, to_api};
use jazz_platform::page_token::last_of_page;
use uuid::Uuid;

use super::auth::AuthApi;
use super::support::request_id;
use super::{convert, page};
use crate::domain::providers::{Provider, ProviderTokens};
use crate::domain::sealed::TokenCipher;
use crate::error::IdentityError;
use crate::oauth::VerifyError;
use crate::store::accounts::{self, AccountValues};
use crate::store::models::UserRow;
use crate::store::users;

/// Latest access-token expiry accepted (9999-12-31T23:59:59Z).
const MAX_EXPIRY_SECONDS: i64 = 253_402_300_799;

fn expiry(value: Option<prost_types::Timestamp>) -> Result<Option<i64>, FieldViolation> {
    match value {
        None => Ok(None),
        Some(at) if (0..=MAX_EXPIRY_SECONDS).contains(&at.seconds) && (0..1_000_000_000).contains(&at.nanos) => {
            Ok(Some(at.seconds))
        }
        Some(_) => Err(FieldViolation::new("expires_at", "must be between 1970 and 9999")),
    }
}

fn seal(
    cipher: &TokenCipher,
    context: &str,
    column: &str,
    value: Option<&String>,
) -> Result<Option<String>, IdentityError> {
    Ok(value.map(|plain| cipher.seal(plain, &format!("{context}:{column}"))).transpose()?)
}

/// LinkAccount for the signed-in `user_id`.
pub async fn link(
    api: &AuthApi,
    principal: &Principal,
    user_id: Uuid,
    req: LinkAccountRequest,
) -> Result<LinkAccountResponse, IdentityError> {
    let LinkAccountRequest {
        provider,
        id_token,
        access_token,
        refresh_token,
        token_type,
        scope,
        expires_at,
        session_state,
        request_id: rid,
    } = req;
    let mut v = Violations::new();
    let provider = v.check(Provider::parse("provider", &provider));
    let expires_at = v.check(expiry(expires_at)).flatten();
    let tokens = ProviderTokens::parse(
        &mut v,
        id_token,
        access_token,
        refresh_token,
        token_type,
        scope,
        expires_at,
        session_state,
    );
    v.check(request_id("request_id", &rid));
    v.finish().map_err(IdentityError::Invalid)?;
    let Some(provider) = provider else {
        return Err(IdentityError::field("provider", "is required"));
    };
    if !tokens.has_token() {
        return Err(IdentityError::field("id_token", "either id_token or access_token is required"));
    }
    let verified = api.options.verifier.verify(provider, &tokens).await?;
    if !(1..=255).contains(&verified.provider_account_id.chars().count()) {
        return Err(IdentityError::Provider(VerifyError::Rejected));
    }
    let context = format!("{}:{}", provider.as_str(), verified.provider_account_id);
    let cipher = &api.options.token_cipher;
    let values = AccountValues {
        kind: verified.kind,
        refresh_token: seal(cipher, &context, "refresh_token", tokens.refresh_token.as_ref())?,
        access_token: seal(cipher, &context, "access_token", tokens.access_token.as_ref())?,
        expires_at: tokens.expires_at,
        token_type: tokens.token_type.as_deref(),
        scope: tokens.scope.as_deref(),
        id_token: seal(cipher, &context, "id_token", tokens.id_token.as_ref())?,
        session_state: tokens.session_state.as_deref(),
    };
    let mut conn = api.context.pool.get().await?;
    let result = conn
        .transaction(async |conn| {
            users::by_id(conn, user_id).await?.filter(UserRow::is_live).ok_or(IdentityError::SessionInvalid)?;
            let existing =
                accounts::by_provider_for_update(conn, provider.as_str(), &verified.provider_account_id).await?;
            let (action, before, row) = match existing {
                Some(row) if row.user_id != user_id => return Err(IdentityError::AccountAlreadyLinked),
                Some(row) => ("UPDATE", Some(row.audit_json()), accounts::refresh(conn, row.id, &values).await?),
                None => (
                    "LINK",
                    None,
                    accounts::insert(conn, user_id, provider.as_str(), &verified.provider_account_id, &values).await?,
                ),
            };
            AuditEntry::new(principal, action, "accounts", Some(to_api(row.id)))
                .with_change(before, Some(row.audit_json()))
                .write(conn)
                .await?;
            Ok(row)
        })
        .await;
    match result {
        Ok(row) => Ok(LinkAccountResponse { account: Some(convert::account(&row)) }),
        // Two concurrent first links of one provider account: the loser sees the index.
        Err(IdentityError::Store(StoreError::UniqueViolation(c)))
            if c == "idx_accounts_provider_provider_account_id" =>
        {
            Err(IdentityError::AccountAlreadyLinked)
        }
        Err(other) => Err(other),
    }
}

/// UnlinkAccount: removes one of the caller's links, unless it is their only
/// way to sign in (no password and no other link).
pub async fn unlink(
    api: &AuthApi,
    principal: &Principal,
    user_id: Uuid,
    req: UnlinkAccountRequest,
) -> Result<UnlinkAccountResponse, IdentityError> {
    let UnlinkAccountRequest { account_id } = req;
    let id = parse_id("account_id", &account_id).map_err(|v| IdentityError::Invalid(vec![v]))?;
    let mut conn = api.context.pool.get().await?;
    conn.transaction(async |conn| {
        // Locking the user serialises concurrent unlinks of two last links.
        let user = users::by_id_for_update(conn, user_id)
            .await?
            .filter(UserRow::is_live)
            .ok_or(IdentityError::SessionInvalid)?;
        let row = accounts::owned_for_update(conn, user_id, id).await?.ok_or(IdentityError::NotFound("account"))?;
        if user.password_hash.is_none() && accounts::count(conn, user_id).await? <= 1 {
            return Err(IdentityError::LastSignInMethod);
        }
        accounts::delete(conn, row.id).await?;
        AuditEntry::new(principal, "UNLINK", "accounts", Some(to_api(row.id)))
            .with_change(Some(row.audit_json()), None)
            .write(conn)
            .await?;
        Ok(())
    })
    .await?;
    Ok(UnlinkAccountResponse {})
}

/// ListAccounts: the caller's links, oldest first.
pub async fn list(
    api: &AuthApi,
    user_id: Uuid,
    req: ListAccountsRequest,
) -> Result<ListAccountsResponse, IdentityError> {
    let ListAccountsRequest { page_size, page_token } = req;
    let size = jazz_platform::fields::page_size(page_size)?;
    let owner = to_api(user_id);
    let after = match page::decode(&api.context, &page_token, "accounts", &owner, 2)? {
        None => None,
        Some(parts) => Some(page::time_and_id(&parts)?),
    };
    let mut conn = api.context.pool.get().await?;
    let mut rows = accounts::list(&mut conn, user_id, after, size + 1).await?;
    let next_page_token = match last_of_page(&mut rows, size) {
        Some(last) => page::encode(
            &api.context,
            "accounts",
            &owner,
            &[&last.created_at.timestamp_micros().to_string(), &to_api(last.id)],
        ),
        None => String::new(),
    };
    Ok(ListAccountsResponse { accounts: rows.iter().map(convert::account).collect(), next_page_token })
}
