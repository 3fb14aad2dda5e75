-- Each user's effective subscription tier as billing last reported it
-- (`billing.subscription_changed`), for feature-flag targeting. Billing owns
-- subscriptions; this is identity's copy of one fact about them. A row
-- goes with its user (purge). `changed_at` is when billing wrote the event:
-- an older event than the stored one changes nothing, so deliveries out of
-- order are harmless.
CREATE TABLE user_tiers (
    user_id    uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    tier       text NOT NULL CHECK (tier IN ('SUBSCRIPTION_TIER_FREE', 'SUBSCRIPTION_TIER_PRO', 'SUBSCRIPTION_TIER_EDUCATOR')),
    changed_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER trg_user_tiers_set_updated_at
    BEFORE UPDATE ON user_tiers
    FOR EACH ROW EXECUTE FUNCTION jazz_set_updated_at();

-- GetDailyFigures counts users created in one day. (It also counts
-- sessions used that day, with a scan once a day: an index on
-- sessions.last_seen_at would make ValidateSession's touch a non-HOT update
-- on the hot path.)
CREATE INDEX idx_users_created_at ON users (created_at);
