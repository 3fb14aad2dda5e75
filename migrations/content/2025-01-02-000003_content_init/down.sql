-- Undoes 2025-01-02-000003_content_init/up.sql, in reverse order.
DROP TABLE content_likes;
DROP TABLE saved_content;
DROP TABLE generated_content;
DROP FUNCTION jazz_tags_text(text[]);
