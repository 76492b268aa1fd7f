-- 008: what a post references, so reposts and quotes of official posts can count as amplification.
-- referenced_post_id is the platform id of the post it reposts, quotes or replies to, on the same platform
-- (X referenced_tweets); reference_kind is 'repost', 'quote' or 'reply'. Both NULL for an original post and
-- wherever the platform does not say (YouTube, Instagram, Facebook, TikTok as read today).

ALTER TABLE dim_post ADD COLUMN referenced_post_id VARCHAR;
ALTER TABLE dim_post ADD COLUMN reference_kind VARCHAR;
