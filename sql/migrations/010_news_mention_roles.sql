-- 010: news mentions with roles and per-mention tone (issue 16). Portable between PostgreSQL and DuckDB.
-- Mentions loaded before 010 keep NULL in the new columns (they were matched without roles or tone).

ALTER TABLE fact_news_mention ADD COLUMN mention_role VARCHAR;   -- institution, head, deputy or unit: the first of these the article names the agency in
ALTER TABLE fact_news_mention ADD COLUMN roles VARCHAR;          -- every role it names the agency in, comma-separated in that order
ALTER TABLE fact_news_mention ADD COLUMN unit_words VARCHAR;     -- the unit words for unit mentions ("Bareskrim", "Polda|SPPG"), '|'-separated
ALTER TABLE fact_news_mention ADD COLUMN tone VARCHAR;           -- negative, neutral or positive toward the agency (etl/news/tone.py)
ALTER TABLE fact_news_mention ADD COLUMN tone_score DOUBLE PRECISION;  -- -1, 0 or 1
ALTER TABLE fact_news_mention ADD COLUMN tone_method VARCHAR;    -- the rules' version; its measured quality is in etl_news_tone_quality

ALTER TABLE agency_daily_indicators ADD COLUMN news_mentions_institution BIGINT;  -- news_mentions counting only articles naming the institution itself
ALTER TABLE agency_daily_indicators ADD COLUMN news_negative_mentions BIGINT;     -- articles whose mention tone is negative
ALTER TABLE agency_daily_indicators ADD COLUMN news_positive_mentions BIGINT;     -- articles whose mention tone is positive

-- How well each tone method agrees with careful readers, measured on held-back labelled headlines
-- (tests/fixtures/news/eval; `make eval-matching` prints the same figures). The report shows tone with these
-- figures and never ranks by tone.
CREATE TABLE etl_news_tone_quality (
    tone_method        VARCHAR PRIMARY KEY,
    measured_on        VARCHAR NOT NULL,          -- which labelled text
    mentions           INTEGER NOT NULL,          -- gold mentions the matcher found, whose tone was scored
    accuracy           DOUBLE PRECISION NOT NULL,
    macro_f1           DOUBLE PRECISION NOT NULL, -- over negative, neutral, positive
    negative_f1        DOUBLE PRECISION NOT NULL,
    baseline_accuracy  DOUBLE PRECISION NOT NULL, -- always neutral
    baseline_macro_f1  DOUBLE PRECISION NOT NULL,
    floor_met          BOOLEAN NOT NULL           -- macro-F1 >= 0.70 and negative F1 >= 0.70
);
INSERT INTO etl_news_tone_quality VALUES
    ('rules-v1', 'held-back part of tests/fixtures/news/eval (538 headlines)', 241, 0.7842, 0.7824, 0.8276, 0.6224, 0.2558, TRUE);

-- News mentions per agency and day split by role and tone, with the tone method's measured quality beside.
-- Counts are articles (copies included); the views rank nothing.
CREATE VIEW report_news_mentions_by_role AS
SELECT m.published_on,
       a.category,
       a.agency_code,
       a.name AS agency_name,
       COUNT(*) AS articles,
       SUM(CASE WHEN m.mention_role = 'institution' THEN 1 ELSE 0 END) AS articles_institution,
       SUM(CASE WHEN m.mention_role = 'head' THEN 1 ELSE 0 END) AS articles_head,
       SUM(CASE WHEN m.mention_role = 'deputy' THEN 1 ELSE 0 END) AS articles_deputy,
       SUM(CASE WHEN m.mention_role = 'unit' THEN 1 ELSE 0 END) AS articles_unit_only,
       SUM(CASE WHEN m.tone = 'negative' THEN 1 ELSE 0 END) AS tone_negative,
       SUM(CASE WHEN m.tone = 'neutral' THEN 1 ELSE 0 END) AS tone_neutral,
       SUM(CASE WHEN m.tone = 'positive' THEN 1 ELSE 0 END) AS tone_positive,
       MAX(m.tone_method) AS tone_method,
       MAX(q.accuracy) AS tone_accuracy,
       MAX(q.macro_f1) AS tone_macro_f1,
       MAX(q.negative_f1) AS tone_negative_f1
FROM fact_news_mention m
JOIN dim_agency a ON a.agency_code = m.agency_code
LEFT JOIN etl_news_tone_quality q ON q.tone_method = m.tone_method
GROUP BY m.published_on, a.category, a.agency_code, a.name;

CREATE VIEW report_news_tone_quality AS
SELECT tone_method, measured_on, mentions, accuracy, macro_f1, negative_f1, baseline_accuracy, baseline_macro_f1, floor_met
FROM etl_news_tone_quality;
