-- The baseline for benchmarks/pools.py: the same pools, eligibility, funnel and figures as
-- xiaodai/pools/steps.py, written by hand as one DuckDB script over the same snapshot files.
-- {placeholders} are filled from the rule parameters in effect (integers and ISO dates only).

CREATE OR REPLACE TEMP VIEW customers AS SELECT * FROM read_parquet('{dir}/customers.parquet');
CREATE OR REPLACE TEMP VIEW credit_lines AS SELECT * FROM read_parquet('{dir}/credit_lines.parquet');
CREATE OR REPLACE TEMP VIEW loans AS SELECT * FROM read_parquet('{dir}/loans.parquet');
CREATE OR REPLACE TEMP VIEW cards AS SELECT * FROM read_parquet('{dir}/cards.parquet');
CREATE OR REPLACE TEMP VIEW applications AS SELECT * FROM read_parquet('{dir}/applications.parquet');
CREATE OR REPLACE TEMP VIEW payroll AS SELECT * FROM read_parquet('{dir}/payroll.parquet');
CREATE OR REPLACE TEMP VIEW consents AS SELECT * FROM read_parquet('{dir}/consents.parquet');
CREATE OR REPLACE TEMP VIEW opt_outs AS SELECT * FROM read_parquet('{dir}/opt_outs.parquet');
CREATE OR REPLACE TEMP VIEW previous AS SELECT * FROM read_parquet('{dir}/previous.parquet');
CREATE OR REPLACE TEMP VIEW contacts AS SELECT * FROM read_parquet('{dir}/contacts.parquet');
CREATE OR REPLACE TEMP VIEW leads AS SELECT * FROM read_parquet('{dir}/leads.parquet');

CREATE OR REPLACE TEMP TABLE pool_rows AS
WITH
au AS (
  SELECT customer_id, 'approved_undrawn' AS pool, SUM("limit" - drawn) AS potential, SUM("limit") AS basis,
         MAX(DATE '{day}' - COALESCE(last_drawn_on, approved_on)) AS days, MIN(expires_on) AS on_date,
         NULL::VARCHAR AS detail
  FROM credit_lines
  WHERE status = 'active' AND expires_on > DATE '{day}' AND "limit" >= {au_min_limit} * 100
    AND drawn * 10000 <= "limit" * {au_max_util}
    AND DATE '{day}' - COALESCE(last_drawn_on, approved_on) >= {au_min_idle}
  GROUP BY customer_id
),
ua AS (
  SELECT customer_id, 'unfinished_application' AS pool, amount AS potential, amount AS basis,
         DATE '{day}' - last_step_on AS days, last_step_on AS on_date, stage AS detail
  FROM applications
  WHERE status IN ('in_progress', 'abandoned') AND stage NOT IN ('approved', 'rejected', 'disbursed')
    AND started_on > DATE '{ua_since}' AND DATE '{day}' - last_step_on >= {ua_min_stalled}
  QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY last_step_on DESC, amount DESC, stage) = 1
),
cb AS (
  SELECT customer_id, 'current_borrower' AS pool,
         SUM(CASE WHEN matures_on - DATE '{day}' BETWEEN 0 AND {cb_renewal} THEN amount ELSE amount - balance END)
           AS potential,
         SUM(amount) AS basis, MIN(matures_on - DATE '{day}') AS days, MIN(matures_on) AS on_date,
         NULL::VARCHAR AS detail
  FROM loans
  WHERE kind = 'consumer' AND status = 'normal' AND balance > 0 AND overdue_days = 0
    AND (matures_on - DATE '{day}' BETWEEN 0 AND {cb_renewal}
         OR (amount - balance) * 10000 >= amount * {cb_repaid})
  GROUP BY customer_id
),
gp AS (
  SELECT customer_id, 'good_past_borrower' AS pool, MAX(amount) AS potential, MAX(amount) AS basis,
         NULL::BIGINT AS days, MAX(matures_on) AS on_date, NULL::VARCHAR AS detail
  FROM loans
  WHERE kind = 'consumer' AND status = 'settled' AND overdue_days = 0
    AND matures_on > DATE '{gp_since}' AND matures_on <= DATE '{day}'
    AND customer_id NOT IN (SELECT customer_id FROM loans WHERE kind = 'consumer' AND status <> 'settled')
  GROUP BY customer_id
),
ps AS (
  SELECT customer_id, 'payroll_staff' AS pool,
         LEAST(MAX(monthly_amount) * {ps_multiple}, {ps_cap} * 100) AS potential, MAX(monthly_amount) AS basis,
         NULL::BIGINT AS days, MAX(last_paid_on) AS on_date, NULL::VARCHAR AS detail
  FROM payroll
  WHERE partner AND DATE '{day}' - last_paid_on <= {ps_recent} AND monthly_amount >= {ps_min} * 100
  GROUP BY customer_id
),
mh AS (
  SELECT m.customer_id, 'mortgage_holder' AS pool,
         LEAST(c.monthly_income * {mh_multiple}, {mh_cap} * 100) AS potential, m.basis,
         DATE '{day}' - m.on_date AS days, m.on_date, NULL::VARCHAR AS detail
  FROM (SELECT customer_id, SUM(amount) AS basis, MIN(disbursed_on) AS on_date FROM loans
        WHERE kind = 'mortgage' AND status = 'normal' AND overdue_days = 0 AND disbursed_on <= DATE '{mh_before}'
        GROUP BY customer_id) m
  JOIN customers c USING (customer_id)
),
pc AS (
  SELECT b.customer_id, 'premium_card' AS pool, LEAST(c.monthly_income * {pc_multiple}, {pc_cap} * 100) AS potential,
         b."limit" AS basis, NULL::BIGINT AS days, NULL::DATE AS on_date, b.tier AS detail
  FROM (SELECT * FROM cards
        WHERE "limit" >= {pc_min_limit} * 100 AND "limit" > 0 AND used * 10000 <= "limit" * {pc_max_usage}
        QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY "limit" DESC, tier, used) = 1) b
  JOIN customers c USING (customer_id)
  WHERE b.customer_id NOT IN (SELECT customer_id FROM cards WHERE delinquent_cycles > 0)
),
pd AS (
  SELECT customer_id, 'premium_deposit' AS pool, LEAST(monthly_income * {pd_multiple}, {pd_cap} * 100) AS potential,
         aum AS basis, NULL::BIGINT AS days, NULL::DATE AS on_date, NULL::VARCHAR AS detail
  FROM customers WHERE aum >= {pd_min_aum} * 100
),
sc AS (
  SELECT l.customer_id, 'scenario_channel' AS pool, LEAST(c.monthly_income * {sc_multiple}, {sc_cap} * 100) AS potential,
         NULL::BIGINT AS basis, NULL::BIGINT AS days, l.consented_on AS on_date, l.scenario AS detail
  FROM (SELECT * FROM leads WHERE consented_on > DATE '{sc_since}'
        QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY consented_on DESC, scenario) = 1) l
  JOIN customers c USING (customer_id)
)
SELECT * FROM au UNION ALL SELECT * FROM ua UNION ALL SELECT * FROM cb UNION ALL SELECT * FROM gp
UNION ALL SELECT * FROM ps UNION ALL SELECT * FROM mh UNION ALL SELECT * FROM pc UNION ALL SELECT * FROM pd
UNION ALL SELECT * FROM sc;

CREATE OR REPLACE TEMP TABLE eligibility AS
WITH latest AS (
  SELECT * FROM consents
  QUALIFY row_number() OVER (PARTITION BY customer_id, channel ORDER BY recorded_at DESC, consent_id DESC) = 1
),
usable AS (
  SELECT customer_id, channel FROM latest
  WHERE granted AND (expires_on IS NULL OR expires_on > DATE '{day}')
    AND (customer_id, channel) NOT IN (SELECT customer_id, channel FROM opt_outs WHERE channel <> '')
),
bits AS (
  SELECT customer_id, SUM(CASE channel WHEN 'phone' THEN 1 WHEN 'sms' THEN 2 WHEN 'visit' THEN 4
                                       WHEN 'wechat' THEN 8 ELSE 0 END) AS channels
  FROM usable GROUP BY customer_id
),
out_all AS (SELECT DISTINCT customer_id FROM opt_outs WHERE channel = ''),
overdue AS (
  SELECT customer_id FROM loans WHERE status = 'overdue' OR (status <> 'settled' AND overdue_days > 0)
  UNION SELECT customer_id FROM cards WHERE delinquent_cycles > 0
)
SELECT c.customer_id,
       (CASE WHEN c.birth_date > DATE '{young}' THEN 1 ELSE 0 END
        + CASE WHEN c.birth_date <= DATE '{old}' THEN 2 ELSE 0 END
        + CASE WHEN c.is_vulnerable THEN 4 ELSE 0 END
        + CASE WHEN o.customer_id IS NOT NULL THEN 8 ELSE 0 END
        + CASE WHEN o.customer_id IS NULL AND COALESCE(b.channels, 0) = 0 THEN 16 ELSE 0 END
        + CASE WHEN d.customer_id IS NOT NULL THEN 32 ELSE 0 END)::BIGINT AS blocked,
       (CASE WHEN o.customer_id IS NOT NULL THEN 0 ELSE COALESCE(b.channels, 0) END)::BIGINT AS channels
FROM customers c
LEFT JOIN bits b USING (customer_id)
LEFT JOIN out_all o USING (customer_id)
LEFT JOIN (SELECT DISTINCT customer_id FROM overdue) d USING (customer_id);

CREATE OR REPLACE TEMP TABLE funnel AS
SELECT customer_id, MAX(covered) AS covered, MAX(contacted) AS contacted, MAX(reached) AS reached,
       MAX(interested) AS interested, MAX(applied) AS applied, MAX(approved) AS approved,
       MAX(disbursed) AS disbursed, MAX(drawn) AS drawn
FROM (
  SELECT customer_id, 0 AS covered, 1 AS contacted,
         CASE WHEN outcome IN ('no_answer', 'busy', 'wrong_number') THEN 0 ELSE 1 END AS reached,
         CASE WHEN outcome IN ('interested', 'will_apply', 'applied') THEN 1 ELSE 0 END AS interested,
         0 AS applied, 0 AS approved, 0 AS disbursed, 0 AS drawn
  FROM contacts WHERE contacted_on > DATE '{funnel_since}' AND contacted_on <= DATE '{day}'
  UNION ALL
  SELECT customer_id, 1, 0, 0, 0, 0, 0, 0, 0 FROM contacts
  WHERE contacted_on > DATE '{coverage_since}' AND contacted_on <= DATE '{day}'
  UNION ALL
  SELECT customer_id, 0, 0, 0, 0, 1, 0, 0, 0 FROM applications
  WHERE started_on > DATE '{funnel_since}' AND started_on <= DATE '{day}'
  UNION ALL
  SELECT customer_id, 0, 0, 0, 0, 0, 1, 0, 0 FROM applications
  WHERE stage IN ('approved', 'disbursed') AND last_step_on > DATE '{funnel_since}' AND last_step_on <= DATE '{day}'
  UNION ALL
  SELECT customer_id, 0, 0, 0, 0, 0, 1, 0, 0 FROM credit_lines
  WHERE approved_on > DATE '{funnel_since}' AND approved_on <= DATE '{day}'
  UNION ALL
  SELECT customer_id, 0, 0, 0, 0, 0, 0, 1, 0 FROM loans
  WHERE kind = 'consumer' AND disbursed_on > DATE '{funnel_since}' AND disbursed_on <= DATE '{day}'
  UNION ALL
  SELECT customer_id, 0, 0, 0, 0, 0, 0, 0, 1 FROM credit_lines
  WHERE last_drawn_on > DATE '{funnel_since}' AND last_drawn_on <= DATE '{day}'
) e
GROUP BY customer_id;

CREATE OR REPLACE TEMP TABLE members AS
SELECT p.customer_id, p.pool, p.potential, p.basis, p.days, p.on_date, p.detail,
       row_number() OVER (PARTITION BY p.customer_id ORDER BY {priority_case}, p.pool) = 1 AS is_primary,
       e.blocked, e.channels, pv.customer_id IS NULL AS is_new,
       c.branch_id, c.sub_branch_id, c.team_id, c.owner_id,
       COALESCE(f.covered, 0) AS covered, COALESCE(f.contacted, 0) AS contacted, COALESCE(f.reached, 0) AS reached,
       COALESCE(f.interested, 0) AS interested, COALESCE(f.applied, 0) AS applied,
       COALESCE(f.approved, 0) AS approved, COALESCE(f.disbursed, 0) AS disbursed, COALESCE(f.drawn, 0) AS drawn
FROM pool_rows p
JOIN customers c USING (customer_id)
JOIN eligibility e USING (customer_id)
LEFT JOIN funnel f USING (customer_id)
LEFT JOIN previous pv ON pv.customer_id = p.customer_id AND pv.pool = p.pool;

CREATE OR REPLACE TEMP TABLE figures AS
WITH facts AS (
  SELECT pool, branch_id, sub_branch_id, team_id, owner_id, 1 AS present, 0 AS gone,
         is_primary::BIGINT AS "primary", (blocked = 0)::BIGINT AS workable, potential,
         CASE WHEN blocked = 0 THEN potential ELSE 0 END AS workable_potential,
         (is_primary AND blocked = 0)::BIGINT AS primary_workable,
         CASE WHEN is_primary THEN potential ELSE 0 END AS primary_potential,
         CASE WHEN blocked = 0 THEN covered ELSE 0 END AS covered, is_new::BIGINT AS entered,
         contacted, reached, interested, applied, approved, disbursed, drawn
  FROM members
  UNION ALL
  SELECT pv.pool, c.branch_id, c.sub_branch_id, c.team_id, c.owner_id, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
         0, 0, 0, 0
  FROM previous pv JOIN customers c USING (customer_id)
  WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.customer_id = pv.customer_id AND m.pool = pv.pool)
)
SELECT pool, 'branch' AS level, branch_id, NULL::BIGINT AS sub_branch_id, NULL::BIGINT AS team_id,
       NULL::BIGINT AS owner_id, {measures}
FROM facts WHERE branch_id IS NOT NULL GROUP BY pool, branch_id
UNION ALL
SELECT pool, 'sub_branch', branch_id, sub_branch_id, NULL, NULL, {measures}
FROM facts WHERE branch_id IS NOT NULL AND sub_branch_id IS NOT NULL GROUP BY pool, branch_id, sub_branch_id
UNION ALL
SELECT pool, 'team', branch_id, NULL, team_id, NULL, {measures}
FROM facts WHERE branch_id IS NOT NULL AND team_id IS NOT NULL GROUP BY pool, branch_id, team_id
UNION ALL
SELECT pool, 'owner', branch_id, NULL, team_id, owner_id, {measures}
FROM facts WHERE branch_id IS NOT NULL AND owner_id IS NOT NULL
GROUP BY pool, branch_id, team_id, owner_id;
