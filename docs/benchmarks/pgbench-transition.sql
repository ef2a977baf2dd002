-- One transaction shaped like a Patto transition: one UPDATE of an instance row and two
-- INSERTs (the chained event and one outbox row). Each pgbench client works on its own
-- 16 instances, as the clients of `patto bench transitions` do.
\set id :client_id * 1000 + random(1, 16)
BEGIN;
UPDATE bench_instances
   SET version = version + 1,
       state = CASE WHEN state = 'drafting' THEN 'review' ELSE 'drafting' END
 WHERE id = :id;
INSERT INTO bench_events (instance_id, prev_hash, hash, kind, payload)
VALUES (:id, md5(random()::text), md5(random()::text), 'transition',
        '{"transition":"submit_for_review","from":"drafting","to":"review"}');
INSERT INTO bench_outbox (message_id, instance_id, recipient, template, payload)
VALUES (gen_random_uuid()::text, :id, 'bench@example.org', 'review_requested', '{}');
END;
