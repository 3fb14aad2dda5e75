-- jazz_identity: users, profiles, sign-in (accounts, sessions, one-time
-- tokens, throttling) and feature flags. Applied after the platform set
-- (jazz_set_updated_at() comes from there). See docs/database.md.

-- ---------------------------------------------------------------------------
-- users (seed User) + password_hash
-- ---------------------------------------------------------------------------
CREATE TABLE users (
    id             uuid        PRIMARY KEY,
    -- Normalised (trimmed, lower-case) by the application before writing.
    email          text        NOT NULL
                               CHECK (length(email) BETWEEN 3 AND 254
                                      AND email = lower(email)
                                      AND strpos(email, '@') > 1),
    email_verified timestamptz NULL,
    first_name     text        NOT NULL CHECK (length(first_name) BETWEEN 1 AND 100),
    last_name      text        NOT NULL CHECK (length(last_name) BETWEEN 1 AND 100),
    username       text        NULL     CHECK (length(username) BETWEEN 1 AND 64),
    avatar         text        NULL     CHECK (length(avatar) <= 2048),
    -- IANA time zone name and BCP 47 tag, validated by the API.
    timezone       text        NOT NULL DEFAULT 'UTC' CHECK (length(timezone) BETWEEN 1 AND 64),
    locale         text        NOT NULL DEFAULT 'en'  CHECK (length(locale) BETWEEN 2 AND 35),
    is_active      boolean     NOT NULL DEFAULT true,
    last_login_at  timestamptz NULL,
    -- argon2id PHC string; NULL for users who sign in only through OAuth or
    -- magic links. The CHECK keeps anything but a PHC argon2 hash out.
    password_hash  text        NULL     CHECK (password_hash LIKE '$argon2%' AND length(password_hash) <= 512),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    deleted_at     timestamptz NULL
);
COMMENT ON TABLE users IS 'Learners and educators (seed User).';

-- @unique(email) + @@index([email]) + idx_users_email: one unique index.
CREATE UNIQUE INDEX idx_users_email    ON users (email);
-- @unique(username) + @@index([username]): one unique index.
CREATE UNIQUE INDEX idx_users_username ON users (username);
-- @@index([isActive, deletedAt]) = idx_users_active.
CREATE INDEX idx_users_active          ON users (is_active, deleted_at);

CREATE TRIGGER trg_users_set_updated_at
    BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION jazz_set_updated_at();

-- ---------------------------------------------------------------------------
-- user_profiles (seed UserProfile)
-- ---------------------------------------------------------------------------
CREATE TABLE user_profiles (
    id                 uuid        PRIMARY KEY,
    user_id            uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    skill_level        text        NOT NULL DEFAULT 'BEGINNER'
                                   CHECK (skill_level IN ('BEGINNER', 'INTERMEDIATE', 'ADVANCED', 'PROFESSIONAL')),
    musical_background jsonb       NULL CHECK (pg_column_size(musical_background) <= 65536),
    learning_goals     jsonb       NULL CHECK (pg_column_size(learning_goals) <= 65536),
    preferences        jsonb       NULL CHECK (pg_column_size(preferences) <= 65536),
    practice_schedule  jsonb       NULL CHECK (pg_column_size(practice_schedule) <= 65536),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    deleted_at         timestamptz NULL
);
COMMENT ON TABLE user_profiles IS 'One learning profile per user (seed UserProfile).';

CREATE UNIQUE INDEX idx_user_profiles_user_id ON user_profiles (user_id);
CREATE INDEX idx_user_profiles_skill_level    ON user_profiles (skill_level);

CREATE TRIGGER trg_user_profiles_set_updated_at
    BEFORE UPDATE ON user_profiles
    FOR EACH ROW EXECUTE FUNCTION jazz_set_updated_at();

-- ---------------------------------------------------------------------------
-- accounts (seed Account): linked sign-in providers
-- ---------------------------------------------------------------------------
-- refresh_token, access_token and id_token hold CIPHERTEXT (base64 of the
-- application's AEAD output), never the provider's token in clear.
CREATE TABLE accounts (
    id                  uuid        PRIMARY KEY,
    user_id             uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type                text        NOT NULL CHECK (length(type) BETWEEN 1 AND 32),
    provider            text        NOT NULL CHECK (length(provider) BETWEEN 1 AND 64),
    provider_account_id text        NOT NULL CHECK (length(provider_account_id) BETWEEN 1 AND 255),
    refresh_token       text        NULL     CHECK (length(refresh_token) <= 16384),
    access_token        text        NULL     CHECK (length(access_token) <= 16384),
    -- Seconds since the Unix epoch (seed Int); bigint to outlive 2038.
    expires_at          bigint      NULL,
    token_type          text        NULL     CHECK (length(token_type) <= 64),
    scope               text        NULL     CHECK (length(scope) <= 2048),
    id_token            text        NULL     CHECK (length(id_token) <= 16384),
    session_state       text        NULL     CHECK (length(session_state) <= 1024),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE accounts IS 'Sign-in providers linked to a user (seed Account); provider tokens are stored encrypted.';

CREATE UNIQUE INDEX idx_accounts_provider_provider_account_id ON accounts (provider, provider_account_id);
CREATE INDEX idx_accounts_user_id ON accounts (user_id);

CREATE TRIGGER trg_accounts_set_updated_at
    BEFORE UPDATE ON accounts
    FOR EACH ROW EXECUTE FUNCTION jazz_set_updated_at();

-- ---------------------------------------------------------------------------
-- sessions (seed Session) + ip_address, user_agent, last_seen_at, revoked_at
-- ---------------------------------------------------------------------------
CREATE TABLE sessions (
    id            uuid        PRIMARY KEY,
    -- SHA-256 of the bearer token, lower-case hex. The token itself is never stored.
    session_token text        NOT NULL CHECK (session_token ~ '^[0-9a-f]{64}$'),
    user_id       uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires       timestamptz NOT NULL,
    ip_address    text        NULL     CHECK (length(ip_address) <= 100),
    user_agent    text        NULL     CHECK (length(user_agent) <= 2048),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE sessions IS 'Bearer sessions (seed Session); session_token is the SHA-256 hex of the token.';

CREATE UNIQUE INDEX idx_sessions_session_token ON sessions (session_token);
CREATE INDEX idx_sessions_expires              ON sessions (expires);
CREATE INDEX idx_sessions_user_id              ON sessions (user_id);

CREATE TRIGGER trg_sessions_set_updated_at
    BEFORE UPDATE ON sessions
    FOR EACH ROW EXECUTE FUNCTION jazz_set_updated_at();

-- ---------------------------------------------------------------------------
-- verification_tokens (seed VerificationToken) + id, purpose, user_id,
-- attempts, consumed_at, created_at
-- ---------------------------------------------------------------------------
CREATE TABLE verification_tokens (
    id          uuid        PRIMARY KEY,
    -- Who the token is for: the normalised email address.
    identifier  text        NOT NULL CHECK (length(identifier) BETWEEN 1 AND 254),
    -- SHA-256 of the secret, lower-case hex (for short codes: of a string
    -- that also contains the identifier and purpose, so equal codes of two
    -- users do not collide on the unique index).
    token       text        NOT NULL CHECK (token ~ '^[0-9a-f]{64}$'),
    expires     timestamptz NOT NULL,
    purpose     text        NOT NULL
                            CHECK (purpose IN ('email_verification', 'password_reset', 'magic_link')),
    user_id     uuid        NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Guess counter, incremented BEFORE comparing.
    attempts    integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    consumed_at timestamptz NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE verification_tokens IS 'One-time secrets (email verification, password reset, magic link); only hashes are stored.';

CREATE UNIQUE INDEX idx_verification_tokens_token            ON verification_tokens (token);
CREATE UNIQUE INDEX idx_verification_tokens_identifier_token ON verification_tokens (identifier, token);
-- Latest live token of an identifier for a purpose (code redemption).
CREATE INDEX idx_verification_tokens_identifier_purpose
    ON verification_tokens (identifier, purpose, created_at DESC);
CREATE INDEX idx_verification_tokens_user_id ON verification_tokens (user_id);
CREATE INDEX idx_verification_tokens_expires ON verification_tokens (expires);

-- ---------------------------------------------------------------------------
-- feature_flags (seed FeatureFlag)
-- ---------------------------------------------------------------------------
CREATE TABLE feature_flags (
    id                 uuid             PRIMARY KEY,
    name               text             NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description        text             NULL     CHECK (length(description) <= 2000),
    is_enabled         boolean          NOT NULL DEFAULT false,
    rollout_percentage double precision NOT NULL DEFAULT 0
                                        CHECK (rollout_percentage BETWEEN 0 AND 100),
    conditions         jsonb            NULL     CHECK (pg_column_size(conditions) <= 65536),
    created_at         timestamptz      NOT NULL DEFAULT now(),
    updated_at         timestamptz      NOT NULL DEFAULT now()
);
COMMENT ON TABLE feature_flags IS 'Feature flags with percentage rollout (seed FeatureFlag).';

CREATE UNIQUE INDEX idx_feature_flags_name ON feature_flags (name);

CREATE TRIGGER trg_feature_flags_set_updated_at
    BEFORE UPDATE ON feature_flags
    FOR EACH ROW EXECUTE FUNCTION jazz_set_updated_at();

-- ---------------------------------------------------------------------------
-- sign_in_attempts (not in the seed): throttling per account and per address
-- ---------------------------------------------------------------------------
CREATE TABLE sign_in_attempts (
    id           uuid        PRIMARY KEY,
    -- Normalised email tried (known or not), NULL when none was given.
    email        text        NULL CHECK (length(email) <= 254),
    ip_address   text        NULL CHECK (length(ip_address) <= 100),
    succeeded    boolean     NOT NULL,
    attempted_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sign_in_attempts_subject_check CHECK (email IS NOT NULL OR ip_address IS NOT NULL)
);
COMMENT ON TABLE sign_in_attempts IS 'Sign-in attempts, for throttling failures per account and per client address.';

CREATE INDEX idx_sign_in_attempts_email_attempted_at      ON sign_in_attempts (email, attempted_at);
CREATE INDEX idx_sign_in_attempts_ip_address_attempted_at ON sign_in_attempts (ip_address, attempted_at);
-- Pruning of old attempts.
CREATE INDEX idx_sign_in_attempts_attempted_at            ON sign_in_attempts (attempted_at);
