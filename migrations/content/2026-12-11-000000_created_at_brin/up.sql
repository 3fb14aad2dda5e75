-- The metrics job counts a day's generations once a day. Rows arrive in
-- created_at order, so a BRIN index finds a day's blocks at almost no cost
-- to inserts (a b-tree would be written on every generation).
CREATE INDEX idx_content_created_at_brin ON generated_content USING brin (created_at);
