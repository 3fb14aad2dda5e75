-- jazz_billing: subscriptions, metered usage, the plan catalogue and the
-- Stripe webhook dedup table. Applied after the platform set. See
-- docs/database.md.

-- ---------------------------------------------------------------------------
-- plans (not in the seed): the catalogue, loaded from seeds/
-- ---------------------------------------------------------------------------
CREATE TABLE plans (
    tier               text        PRIMARY KEY CHECK (tier IN ('FREE', 'PRO', 'EDUCATOR')),
    name               text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description        text        NULL     CHECK (length(description) <= 2000),
    stripe_price_id    text        NULL     CHECK (length(stripe_price_id) BETWEEN 1 AND 255),
    -- Price in the currency's minor unit (cents); money is never a float.
    price_amount_minor bigint      NOT NULL DEFAULT 0 CHECK (price_amount_minor >= 0),
    -- ISO 4217 code, upper case (Stripe wants lower case: convert at the call).
    currency           text        NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    billing_interval   text        NOT NULL DEFAULT 'month' CHECK (billing_interval IN ('month', 'year')),
    -- {"<feature>": <limit per billing period> | null (unlimited)}
    entitlements       jsonb       NOT NULL DEFAULT '{}'
                                   CHECK (jsonb_typeof(entitlements) = 'object'
                                          AND pg_column_size(entitlements) <= 65536),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE plans IS 'Plan catalogue per tier: price and entitlements (loaded from seeds/).';

CREATE UNIQUE INDEX idx_plans_stripe_price_id ON plans (stripe_price_id);

CREATE TRIGGER trg_plans_set_updated_at
    BEFORE UPDATE ON plans
    FOR EACH ROW EXECUTE FUNCTION jazz_set_updated_at();

-- ---------------------------------------------------------------------------
-- subscriptions (seed Subscription) + last_stripe_event_at
-- ---------------------------------------------------------------------------
-- user_id refers to jazz_identity.users: a plain uuid, no foreign key.
CREATE TABLE subscriptions (
    id                     uuid        PRIMARY KEY,
    user_id                uuid        NOT NULL,
    stripe_customer_id     text        NULL CHECK (length(stripe_customer_id) BETWEEN 1 AND 255),
    stripe_subscription_id text        NULL CHECK (length(stripe_subscription_id) BETWEEN 1 AND 255),
    stripe_price_id        text        NULL CHECK (length(stripe_price_id) BETWEEN 1 AND 255),
    status                 text        NOT NULL DEFAULT 'INACTIVE'
                                       CHECK (status IN ('ACTIVE', 'INACTIVE', 'PAST_DUE', 'CANCELED', 'UNPAID', 'TRIALING')),
    tier                   text        NOT NULL DEFAULT 'FREE'
                                       CHECK (tier IN ('FREE', 'PRO', 'EDUCATOR')),
    current_period_start   timestamptz NULL,
    current_period_end     timestamptz NULL,
    cancel_at_period_end   boolean     NOT NULL DEFAULT false,
    canceled_at            timestamptz NULL,
    trial_start            timestamptz NULL,
    trial_end              timestamptz NULL,
    metadata               jsonb       NULL CHECK (pg_column_size(metadata) <= 65536),
    -- `created` of the newest Stripe event applied to this row: an older
    -- (late or replayed) event must not overwrite a newer state.
    last_stripe_event_at   timestamptz NULL,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    deleted_at             timestamptz NULL
);
COMMENT ON TABLE subscriptions IS 'A user''s subscription (seed Subscription); at most one live (not soft-deleted) row per user.';

-- One live subscription per user.
CREATE UNIQUE INDEX idx_subscriptions_user_id_live ON subscriptions (user_id) WHERE deleted_at IS NULL;
-- Every row of a user, soft-deleted included (erasure/purge).
CREATE INDEX idx_subscriptions_user_id ON subscriptions (user_id);
CREATE UNIQUE INDEX idx_subscriptions_stripe_customer_id     ON subscriptions (stripe_customer_id);
CREATE UNIQUE INDEX idx_subscriptions_stripe_subscription_id ON subscriptions (stripe_subscription_id);
CREATE INDEX idx_subscriptions_status             ON subscriptions (status);
CREATE INDEX idx_subscriptions_tier               ON subscriptions (tier);
CREATE INDEX idx_subscriptions_current_period_end ON subscriptions (current_period_end);
CREATE INDEX idx_subscription_status              ON subscriptions (status, current_period_end);

CREATE TRIGGER trg_subscriptions_set_updated_at
    BEFORE UPDATE ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION jazz_set_updated_at();

-- ---------------------------------------------------------------------------
-- usage_records (seed UsageRecord) + idempotency_key, refunded_at
-- ---------------------------------------------------------------------------
CREATE TABLE usage_records (
    id              uuid        PRIMARY KEY,
    subscription_id uuid        NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    feature         text        NOT NULL CHECK (length(feature) BETWEEN 1 AND 64),
    quantity        integer     NOT NULL DEFAULT 1 CHECK (quantity > 0),
    metadata        jsonb       NULL CHECK (pg_column_size(metadata) <= 65536),
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    -- The caller's key for this consumption (e.g. the content request id):
    -- a retried ConsumeQuota records once.
    idempotency_key text        NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    -- Set when the consumption is given back (e.g. the generation failed);
    -- refunded rows do not count against the quota.
    refunded_at     timestamptz NULL
);
COMMENT ON TABLE usage_records IS 'Metered use of a feature against a subscription (seed UsageRecord).';

CREATE UNIQUE INDEX idx_usage_records_subscription_id_idempotency_key
    ON usage_records (subscription_id, idempotency_key);
CREATE INDEX idx_usage_records_subscription_id_feature ON usage_records (subscription_id, feature);
CREATE INDEX idx_usage_records_recorded_at             ON usage_records (recorded_at);
-- Quota sums: sum(quantity) WHERE subscription_id = $1 AND feature = $2
-- AND recorded_at >= $3 AND refunded_at IS NULL, as an index-only scan.
CREATE INDEX idx_usage_records_subscription_id_feature_recorded_at
    ON usage_records (subscription_id, feature, recorded_at) INCLUDE (quantity, refunded_at);

-- ---------------------------------------------------------------------------
-- stripe_events (not in the seed): processed Stripe webhook events
-- ---------------------------------------------------------------------------
-- Inserted in the same transaction as the event's effect; a duplicate
-- delivery hits the primary key and changes nothing.
CREATE TABLE stripe_events (
    id                text        PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 255),
    event_type        text        NOT NULL CHECK (length(event_type) BETWEEN 1 AND 200),
    stripe_created_at timestamptz NOT NULL,
    processed_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE stripe_events IS 'Stripe webhook events already applied (dedup by Stripe event id).';

CREATE INDEX idx_stripe_events_processed_at ON stripe_events (processed_at);
