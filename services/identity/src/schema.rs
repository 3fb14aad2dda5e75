//! Diesel tables of `jazz_identity` (`migrations/identity`), written by hand
//! to match the SQL; see `docs/database.md`. The platform tables (audit log,
//! outbox, inbox, idempotency keys) are in `jazz_platform::schema`.

diesel::table! {
    /// Learners and educators (seed `User`).
    users (id) {
        /// ULID.
        id -> Uuid,
        /// Trimmed, lower-case; unique (`idx_users_email`), 3–254 chars.
        email -> Text,
        /// When the email address was verified.
        email_verified -> Nullable<Timestamptz>,
        /// 1–100 chars.
        first_name -> Text,
        /// 1–100 chars.
        last_name -> Text,
        /// Unique (`idx_users_username`), 1–64 chars.
        username -> Nullable<Text>,
        /// Avatar URL (≤ 2048 chars).
        avatar -> Nullable<Text>,
        /// IANA time zone name (≤ 64 chars), default `UTC`.
        timezone -> Text,
        /// BCP 47 tag (2–35 chars), default `en`.
        locale -> Text,
        /// False when deactivated.
        is_active -> Bool,
        /// Last successful sign-in.
        last_login_at -> Nullable<Timestamptz>,
        /// argon2id PHC string; NULL for OAuth/magic-link-only users.
        password_hash -> Nullable<Text>,
        /// Row creation.
        created_at -> Timestamptz,
        /// Kept by trigger.
        updated_at -> Timestamptz,
        /// Soft delete.
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    /// One learning profile per user (seed `UserProfile`).
    user_profiles (id) {
        /// ULID.
        id -> Uuid,
        /// Owner; unique.
        user_id -> Uuid,
        /// `BEGINNER`, `INTERMEDIATE`, `ADVANCED` or `PROFESSIONAL`.
        skill_level -> Text,
        /// Previous experience, instruments (≤ 64 KiB).
        musical_background -> Nullable<Jsonb>,
        /// Learning objectives (≤ 64 KiB).
        learning_goals -> Nullable<Jsonb>,
        /// UI preferences, default settings (≤ 64 KiB).
        preferences -> Nullable<Jsonb>,
        /// Preferred practice times and duration (≤ 64 KiB).
        practice_schedule -> Nullable<Jsonb>,
        /// Row creation.
        created_at -> Timestamptz,
        /// Kept by trigger.
        updated_at -> Timestamptz,
        /// Soft delete.
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    /// Sign-in providers linked to a user (seed `Account`).
    accounts (id) {
        /// ULID.
        id -> Uuid,
        /// Owner.
        user_id -> Uuid,
        /// `oauth`, `email`, ... (SQL column `type`).
        #[sql_name = "type"]
        type_ -> Text,
        /// `google`, `facebook`, `email`, ...
        provider -> Text,
        /// The user's id at the provider; unique per provider.
        provider_account_id -> Text,
        /// Ciphertext (base64), never the token in clear.
        refresh_token -> Nullable<Text>,
        /// Ciphertext (base64), never the token in clear.
        access_token -> Nullable<Text>,
        /// Provider token expiry, seconds since the Unix epoch.
        expires_at -> Nullable<Int8>,
        /// Provider token type.
        token_type -> Nullable<Text>,
        /// Granted scopes.
        scope -> Nullable<Text>,
        /// Ciphertext (base64), never the token in clear.
        id_token -> Nullable<Text>,
        /// Provider session state.
        session_state -> Nullable<Text>,
        /// Row creation.
        created_at -> Timestamptz,
        /// Kept by trigger.
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    /// Bearer sessions (seed `Session`).
    sessions (id) {
        /// ULID.
        id -> Uuid,
        /// SHA-256 of the bearer token, 64 lower-case hex chars; unique.
        session_token -> Text,
        /// Owner.
        user_id -> Uuid,
        /// Hard expiry.
        expires -> Timestamptz,
        /// Client address at sign-in (≤ 100 chars).
        ip_address -> Nullable<Text>,
        /// Client user agent at sign-in (≤ 2048 chars).
        user_agent -> Nullable<Text>,
        /// Last time the session was validated.
        last_seen_at -> Timestamptz,
        /// Set by sign-out or revocation.
        revoked_at -> Nullable<Timestamptz>,
        /// Row creation.
        created_at -> Timestamptz,
        /// Kept by trigger.
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    /// One-time secrets: email verification, password reset, magic link
    /// (seed `VerificationToken`); only hashes are stored.
    verification_tokens (id) {
        /// ULID.
        id -> Uuid,
        /// Who the token is for (normalised email).
        identifier -> Text,
        /// SHA-256 of the secret, 64 lower-case hex chars; unique.
        token -> Text,
        /// Expiry.
        expires -> Timestamptz,
        /// `email_verification`, `password_reset` or `magic_link`.
        purpose -> Text,
        /// The user, when known.
        user_id -> Nullable<Uuid>,
        /// Guess counter, incremented before comparing.
        attempts -> Int4,
        /// Set when redeemed (single use).
        consumed_at -> Nullable<Timestamptz>,
        /// Row creation.
        created_at -> Timestamptz,
    }
}

diesel::table! {
    /// Feature flags with percentage rollout (seed `FeatureFlag`).
    feature_flags (id) {
        /// ULID.
        id -> Uuid,
        /// Unique name (1–100 chars).
        name -> Text,
        /// What the flag gates.
        description -> Nullable<Text>,
        /// Master switch.
        is_enabled -> Bool,
        /// 0–100.
        rollout_percentage -> Float8,
        /// Targeting conditions (≤ 64 KiB).
        conditions -> Nullable<Jsonb>,
        /// Row creation.
        created_at -> Timestamptz,
        /// Kept by trigger.
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    /// Sign-in attempts, for throttling failures per account and per address.
    sign_in_attempts (id) {
        /// ULID.
        id -> Uuid,
        /// Normalised email tried; at least one of `email` / `ip_address` is set.
        email -> Nullable<Text>,
        /// Client address.
        ip_address -> Nullable<Text>,
        /// Whether the attempt succeeded.
        succeeded -> Bool,
        /// When it happened.
        attempted_at -> Timestamptz,
    }
}

diesel::table! {
    /// Each user's effective subscription tier as billing last reported it
    /// (`billing.subscription_changed`), for flag targeting.
    user_tiers (user_id) {
        /// The user.
        user_id -> Uuid,
        /// `SUBSCRIPTION_TIER_…` name.
        tier -> Text,
        /// When billing wrote the event that set it.
        changed_at -> Timestamptz,
        /// Row update.
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(user_profiles -> users (user_id));
diesel::joinable!(user_tiers -> users (user_id));
diesel::joinable!(accounts -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(verification_tokens -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    user_profiles,
    accounts,
    sessions,
    verification_tokens,
    feature_flags,
    sign_in_attempts,
    user_tiers,
);
