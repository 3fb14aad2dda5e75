//! Diesel tables of `jazz_billing` (`migrations/billing`), written by hand
//! to match the SQL; see `docs/database.md`. The platform tables (audit log,
//! outbox, inbox, idempotency keys) are in `jazz_platform::schema`.

diesel::table! {
    /// Plan catalogue per tier: price and entitlements (loaded from `seeds/`).
    plans (tier) {
        /// `FREE`, `PRO` or `EDUCATOR`.
        tier -> Text,
        /// Display name (1–100 chars).
        name -> Text,
        /// Display description.
        description -> Nullable<Text>,
        /// Stripe price of the tier; unique. NULL for `FREE`.
        stripe_price_id -> Nullable<Text>,
        /// Price in minor units (cents), ≥ 0.
        price_amount_minor -> Int8,
        /// ISO 4217, upper case.
        currency -> Text,
        /// `month` or `year`.
        billing_interval -> Text,
        /// JSON object: feature → limit per period, or null for unlimited.
        entitlements -> Jsonb,
        /// Row creation.
        created_at -> Timestamptz,
        /// Kept by trigger.
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    /// A user's subscription (seed `Subscription`); one live row per user.
    subscriptions (id) {
        /// ULID.
        id -> Uuid,
        /// The user (`jazz_identity`; no foreign key).
        user_id -> Uuid,
        /// Stripe customer; unique.
        stripe_customer_id -> Nullable<Text>,
        /// Stripe subscription; unique.
        stripe_subscription_id -> Nullable<Text>,
        /// Stripe price in force.
        stripe_price_id -> Nullable<Text>,
        /// `ACTIVE`, `INACTIVE`, `PAST_DUE`, `CANCELED`, `UNPAID` or `TRIALING`.
        status -> Text,
        /// `FREE`, `PRO` or `EDUCATOR`.
        tier -> Text,
        /// Start of the current billing period.
        current_period_start -> Nullable<Timestamptz>,
        /// End of the current billing period.
        current_period_end -> Nullable<Timestamptz>,
        /// Cancels when the period ends.
        cancel_at_period_end -> Bool,
        /// When it was canceled.
        canceled_at -> Nullable<Timestamptz>,
        /// Trial start.
        trial_start -> Nullable<Timestamptz>,
        /// Trial end.
        trial_end -> Nullable<Timestamptz>,
        /// Additional data (≤ 64 KiB).
        metadata -> Nullable<Jsonb>,
        /// `created` of the newest Stripe event applied (older events are ignored).
        last_stripe_event_at -> Nullable<Timestamptz>,
        /// Row creation.
        created_at -> Timestamptz,
        /// Kept by trigger.
        updated_at -> Timestamptz,
        /// Soft delete.
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    /// Metered use of a feature against a subscription (seed `UsageRecord`).
    usage_records (id) {
        /// ULID.
        id -> Uuid,
        /// The subscription charged.
        subscription_id -> Uuid,
        /// `ai_generation`, `audio_export`, ... (1–64 chars).
        feature -> Text,
        /// Units consumed (> 0).
        quantity -> Int4,
        /// Additional data (≤ 64 KiB).
        metadata -> Nullable<Jsonb>,
        /// When it was consumed.
        recorded_at -> Timestamptz,
        /// The caller's key; unique per subscription (a retry records once).
        idempotency_key -> Text,
        /// Set when given back; refunded rows do not count.
        refunded_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    /// Stripe webhook events already applied (dedup by Stripe event id).
    stripe_events (id) {
        /// Stripe event id (`evt_...`).
        id -> Text,
        /// Stripe event type, e.g. `customer.subscription.updated`.
        event_type -> Text,
        /// The event's `created`.
        stripe_created_at -> Timestamptz,
        /// When we applied it.
        processed_at -> Timestamptz,
    }
}

diesel::joinable!(usage_records -> subscriptions (subscription_id));

diesel::allow_tables_to_appear_in_same_query!(plans, subscriptions, usage_records, stripe_events);
