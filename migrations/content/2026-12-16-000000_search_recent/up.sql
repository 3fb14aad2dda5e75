-- SearchContent ranks a bounded candidate set: the newest matches, not
-- every match (issue 16; docs/decisions.md 39). This index returns live
-- items newest first and carries what deciding a match needs (the vector,
-- the owner, is_public), so the candidates come from an index-only scan
-- that stops after the set is full: a common word is as cheap as a rare
-- one. Rare words still go through idx_content_search (GIN); the planner
-- chooses by the word's frequency. generated_content is large: built
-- CONCURRENTLY, outside a transaction (metadata.toml).
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_generated_content_search_recent
    ON generated_content (created_at DESC, id DESC)
    INCLUDE (search_vector, user_id, is_public)
    WHERE deleted_at IS NULL;
