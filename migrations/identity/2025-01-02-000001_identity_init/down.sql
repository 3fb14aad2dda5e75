-- Undoes 2025-01-02-000001_identity_init/up.sql, in reverse order.
-- Dropping a table drops its indexes and triggers.
DROP TABLE sign_in_attempts;
DROP TABLE feature_flags;
DROP TABLE verification_tokens;
DROP TABLE sessions;
DROP TABLE accounts;
DROP TABLE user_profiles;
DROP TABLE users;
