DROP INDEX IF EXISTS idx_content_created_at_brin;
