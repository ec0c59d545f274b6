-- document role: articles.pushed, set once the subscription service has
-- handed a published article to the message service (Broadcast succeeded).
-- Published articles with pushed = FALSE are the ones still to push; the
-- index serves that query (state = published AND pushed = FALSE).
ALTER TABLE articles
  ADD COLUMN pushed BOOLEAN NOT NULL DEFAULT FALSE,
  ADD KEY idx_articles_state_pushed_id (state, pushed, id);
