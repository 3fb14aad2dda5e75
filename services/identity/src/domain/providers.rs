//! Linked sign-in providers: the known names and the shape of what a client
//! sends in LinkAccount (the provider's tokens and their attributes), checked
//! before anything is verified or stored.

use jazz_platform::error::{FieldViolation, Violations};

/// Longest provider token accepted, in bytes. Sealed and base64-encoded it
/// stays below the 16 384-character column bound.
pub const MAX_TOKEN_BYTES: usize = 8192;

/// The providers the contract names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    /// Google (OIDC).
    Google,
    /// Sign in with Apple (OIDC).
    Apple,
    /// Facebook (OAuth).
    Facebook,
}

impl Provider {
    /// Every provider.
    pub const ALL: [Self; 3] = [Self::Google, Self::Apple, Self::Facebook];

    /// The API and stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Google => "google",
            Self::Apple => "apple",
            Self::Facebook => "facebook",
        }
    }

    /// Parses a provider name (exact, lower case).
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldViolation> {
        match raw {
            "google" => Ok(Self::Google),
            "apple" => Ok(Self::Apple),
            "facebook" => Ok(Self::Facebook),
            _ => Err(FieldViolation::new(field, "must be one of google, apple, facebook")),
        }
    }
}

/// The provider's tokens and attributes as the client sent them, checked for
/// shape. Holds secrets: no `Debug`.
#[derive(Clone)]
pub struct ProviderTokens {
    /// OIDC ID token, if any.
    pub id_token: Option<String>,
    /// OAuth access token, if any.
    pub access_token: Option<String>,
    /// OAuth refresh token, if any.
    pub refresh_token: Option<String>,
    /// Usually "Bearer".
    pub token_type: Option<String>,
    /// Space-separated scopes.
    pub scope: Option<String>,
    /// Access-token expiry, seconds since the epoch.
    pub expires_at: Option<i64>,
    /// Provider session state.
    pub session_state: Option<String>,
}

fn token(v: &mut Violations, field: &str, raw: String) -> Option<String> {
    if raw.is_empty() {
        return None;
    }
    if raw.len() > MAX_TOKEN_BYTES {
        v.push(FieldViolation::new(field, format!("must be at most {MAX_TOKEN_BYTES} bytes")));
        return None;
    }
    if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
        v.push(FieldViolation::new(field, "must not contain spaces or control characters"));
        return None;
    }
    Some(raw)
}

fn text(v: &mut Violations, field: &str, raw: String, max: usize) -> Option<String> {
    if raw.is_empty() {
        return None;
    }
    if raw.chars().count() > max {
        v.push(FieldViolation::new(field, format!("must be at most {max} characters")));
        return None;
    }
    if raw.chars().any(char::is_control) {
        v.push(FieldViolation::new(field, "must not contain control characters"));
        return None;
    }
    Some(raw)
}

impl ProviderTokens {
    /// Checks the request's token fields; every problem is named in `v`.
    #[expect(clippy::too_many_arguments, reason = "one argument per request field, destructured by the caller")]
    pub fn parse(
        v: &mut Violations,
        id_token: String,
        access_token: String,
        refresh_token: String,
        token_type: String,
        scope: String,
        expires_at: Option<i64>,
        session_state: String,
    ) -> Self {
        Self {
            id_token: token(v, "id_token", id_token),
            access_token: token(v, "access_token", access_token),
            refresh_token: token(v, "refresh_token", refresh_token),
            token_type: text(v, "token_type", token_type, 64),
            scope: text(v, "scope", scope, 2048),
            expires_at,
            session_state: text(v, "session_state", session_state, 1024),
        }
    }

    /// Only an ID token (what a provider's sign-in SDK hands the app).
    pub fn id_token_only(id_token: String) -> Self {
        Self {
            id_token: Some(id_token),
            access_token: None,
            refresh_token: None,
            token_type: None,
            scope: None,
            expires_at: None,
            session_state: None,
        }
    }

    /// Whether an ID token or an access token was given (one is required).
    pub fn has_token(&self) -> bool {
        self.id_token.is_some() || self.access_token.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(id: &str, access: &str, scope: &str) -> (ProviderTokens, Vec<String>) {
        let mut v = Violations::new();
        let t = ProviderTokens::parse(
            &mut v,
            id.into(),
            access.into(),
            String::new(),
            String::new(),
            scope.into(),
            None,
            String::new(),
        );
        let fields = v.finish().err().unwrap_or_default().into_iter().map(|f| f.field).collect();
        (t, fields)
    }

    #[test]
    fn a_token_is_required_and_shapes_are_checked() {
        assert!(!parse("", "", "").0.has_token());
        assert!(parse("abc", "", "").0.has_token());
        assert!(parse("abc", "", "").1.is_empty());
        assert_eq!(parse("a b", "", "").1, ["id_token"]);
        assert_eq!(parse("", &"x".repeat(MAX_TOKEN_BYTES + 1), "").1, ["access_token"]);
        assert_eq!(parse("", "tok", "a\0b").1, ["scope"]);
        assert_eq!(Provider::parse("p", "google"), Ok(Provider::Google));
        assert!(Provider::parse("p", "Google").is_err());
    }
}
