-- Undoes 2025-01-02-000002_billing_init/up.sql, in reverse order.
DROP TABLE stripe_events;
DROP TABLE usage_records;
DROP TABLE subscriptions;
DROP TABLE plans;
