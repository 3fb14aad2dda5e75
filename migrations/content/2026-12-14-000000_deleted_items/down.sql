DROP INDEX CONCURRENTLY IF EXISTS idx_generated_content_deleted_at;
