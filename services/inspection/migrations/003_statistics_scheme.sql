-- The scheme as the inspections' second counted dimension (issue 17; projections/statistics.py): the counters
-- and deltas kept before it have the target type alone, and were all titp's. Give them the value `titp` and
-- the roll-ups a measure with two dimensions has (`<measure>|0` by target type, `<measure>|1` by scheme; the
-- total `<measure>|*` stays as it is), as folding them again would have made them, so totals are unchanged
-- without a rebuild; and record in the facts that they were counted under titp (facts without a scheme read
-- as titp too), so re-projecting (`titp rebuild inspection`) finds nothing to change for them.
-- (An ESD inspection already counted before this migration counts as titp until that rebuild moves it.)
UPDATE statistics_deltas SET dimensions = dimensions || 'titp'::text
 WHERE measure IN ('inspections_done', 'inspections_with_findings', 'inspections_overdue_change')
   AND cardinality(dimensions) = 1;

INSERT INTO statistics AS s (measure, period, dimensions, count)
SELECT measure || '|0', period, dimensions, count
  FROM statistics
 WHERE measure IN ('inspections_done', 'inspections_with_findings', 'inspections_overdue_change')
   AND cardinality(dimensions) = 1
UNION ALL
SELECT measure || '|1', period, ARRAY['titp'], sum(count)
  FROM statistics
 WHERE measure IN ('inspections_done', 'inspections_with_findings', 'inspections_overdue_change')
   AND cardinality(dimensions) = 1
 GROUP BY measure, period
ON CONFLICT (measure, period, dimensions) DO UPDATE SET count = s.count + excluded.count;

UPDATE statistics SET dimensions = dimensions || 'titp'::text
 WHERE measure IN ('inspections_done', 'inspections_with_findings', 'inspections_overdue_change')
   AND cardinality(dimensions) = 1;

UPDATE statistics_facts SET facts = facts || '{"scheme": "titp"}'::jsonb
 WHERE jsonb_typeof(facts) = 'object' AND facts ? 'target_type' AND facts ? 'due_by' AND facts ? 'findings'
   AND NOT facts ? 'scheme';
