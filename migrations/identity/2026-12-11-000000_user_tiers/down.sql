DROP INDEX IF EXISTS idx_users_created_at;
DROP TABLE IF EXISTS user_tiers;
