-- The queue protocol of wanxiang's workers: the jobs table is the queue.
--
-- Loaded by wanxiang.store.queue, one statement per "-- name:" block; a block named
-- "<name>@postgresql" replaces "<name>" on PostgreSQL. {tag_filter} narrows a claim to some Tags.
-- States are written into the SQL, not bound: a partial index (ix_jobs_submitted,
-- ix_jobs_running_lease) is used only when the query's condition visibly matches the index's.
--
-- MaxConcurrent: a queue whose user set a cap (queues.concurrent_cap, NULL when none) counts its
-- Running jobs in queues.running. A claim from such a queue takes a slot by incrementing the
-- count while it is below the cap, under the queue row's lock; finishing frees the slot; a lease
-- rescue recounts. Queues without a cap are never written by a claim, so they keep its speed.

-- name: claim
-- SQLite (writers serialised by BEGIN IMMEDIATE): take the best Submitted job outside Paused or
-- full queues (JobLevel desc, then arrival) and lease it; take_slot follows in the transaction.
-- "Not in a Paused queue" rather than a join with Active queues: with no join the planner walks
-- the partial Submitted index in claim order and stops at the first row.
UPDATE jobs
SET state = 'Running', start_us = :now, lease_owner = :token, lease_expires_us = :expires,
    attempts = jobs.attempts + 1
WHERE jobs.seq = (
        SELECT jobs.seq FROM jobs
        WHERE jobs.state = 'Submitted'
          AND NOT (EXISTS (SELECT queues.queue_id FROM queues
                           WHERE queues.queue_id = jobs.queue_id
                             AND (queues.state = 'Paused' OR queues.running >= queues.concurrent_cap)))
          {tag_filter}
        ORDER BY jobs.job_level DESC, jobs.seq ASC
        LIMIT 1)
  AND jobs.state = 'Submitted'
RETURNING *

-- name: claim@postgresql
-- One statement in autocommit. The candidate is locked with SKIP LOCKED; if its queue has a cap,
-- the slot UPDATE waits for the queue row and re-reads the count (READ COMMITTED re-checks an
-- updated row), so two workers cannot both take the last slot; without a slot the job is left.
WITH candidate AS (
        SELECT jobs.seq, jobs.queue_id FROM jobs
        WHERE jobs.state = 'Submitted'
          AND NOT (EXISTS (SELECT queues.queue_id FROM queues
                           WHERE queues.queue_id = jobs.queue_id
                             AND (queues.state = 'Paused' OR queues.running >= queues.concurrent_cap)))
          {tag_filter}
        ORDER BY jobs.job_level DESC, jobs.seq ASC
        LIMIT 1 FOR UPDATE OF jobs SKIP LOCKED),
     slot AS (
        UPDATE queues SET running = queues.running + 1
        FROM candidate
        WHERE queues.queue_id = candidate.queue_id AND queues.running < queues.concurrent_cap
        RETURNING queues.queue_id)
UPDATE jobs
SET state = 'Running', start_us = :now, lease_owner = :token, lease_expires_us = :expires,
    attempts = jobs.attempts + 1
FROM candidate
WHERE jobs.seq = candidate.seq AND jobs.state = 'Submitted'
  AND (EXISTS (SELECT 1 FROM slot)
       OR NOT EXISTS (SELECT 1 FROM queues
                      WHERE queues.queue_id = candidate.queue_id AND queues.concurrent_cap IS NOT NULL))
RETURNING jobs.*

-- name: take_slot
-- SQLite, after a claim in the same transaction: count the job against its queue's cap.
UPDATE queues SET running = queues.running + 1
WHERE queues.queue_id = :queue_id AND queues.concurrent_cap IS NOT NULL

-- name: renew
-- Extend the lease of a job still held with this token (and record its progress, if any). No row:
-- the lease is lost. A cancel_us: a user asked the job to stop.
UPDATE jobs
SET progress = coalesce(:progress, jobs.progress), lease_expires_us = :expires
WHERE jobs.job_id = :job_id AND jobs.lease_owner = :token AND jobs.state = 'Running'
RETURNING jobs.cancel_us

-- name: finish
-- Record the outcome if the token still holds the lease; a worker whose lease lapsed and was
-- taken over finds no row and cannot overwrite the new owner's result. On SQLite free_slot
-- follows in the same transaction.
UPDATE jobs
SET state = :state, end_us = :end, code = :code, message = :message, progress = :progress,
    result = :result, lease_owner = NULL, lease_expires_us = NULL
WHERE jobs.job_id = :job_id AND jobs.lease_owner = :token AND jobs.state = 'Running'
RETURNING *

-- name: finish@postgresql
WITH done AS (
        UPDATE jobs
        SET state = :state, end_us = :end, code = :code, message = :message, progress = :progress,
            result = :result, lease_owner = NULL, lease_expires_us = NULL
        WHERE jobs.job_id = :job_id AND jobs.lease_owner = :token AND jobs.state = 'Running'
        RETURNING *),
     freed AS (
        UPDATE queues SET running = queues.running - 1
        FROM done
        WHERE queues.queue_id = done.queue_id AND queues.concurrent_cap IS NOT NULL AND queues.running > 0
        RETURNING queues.queue_id)
SELECT * FROM done

-- name: free_slot
UPDATE queues SET running = queues.running - 1
WHERE queues.queue_id = :queue_id AND queues.concurrent_cap IS NOT NULL AND queues.running > 0

-- name: cancel_lost
-- A job a user asked to stop, whose worker stopped renewing, ends Cancel instead of running again.
UPDATE jobs
SET state = 'Cancel', code = 'Cancel', message = :message, end_us = :now,
    lease_owner = NULL, lease_expires_us = NULL
WHERE jobs.state = 'Running' AND jobs.lease_expires_us < :now AND jobs.cancel_us IS NOT NULL

-- name: fail_lost
-- A job whose worker stopped renewing too many times ends Failed.
UPDATE jobs
SET state = 'Failed', code = 'WorkerLost', message = :message, end_us = :now,
    lease_owner = NULL, lease_expires_us = NULL
WHERE jobs.state = 'Running' AND jobs.lease_expires_us < :now AND jobs.attempts >= :max_attempts

-- name: release
-- Any other job whose worker stopped renewing goes back to the queue.
UPDATE jobs
SET state = 'Submitted', lease_owner = NULL, lease_expires_us = NULL
WHERE jobs.state = 'Running' AND jobs.lease_expires_us < :now

-- name: lock_capped
-- Before a recount on PostgreSQL: hold the capped queues' rows, so that every claim or finish
-- that changed a count has committed and the recount's own (newer) snapshot sees its job.
SELECT queues.queue_id FROM queues
WHERE queues.concurrent_cap IS NOT NULL AND (CAST(:queue_id AS VARCHAR(64)) IS NULL OR queues.queue_id = :queue_id)
ORDER BY queues.queue_id
FOR UPDATE

-- name: lock_capped@sqlite
SELECT queues.queue_id FROM queues
WHERE queues.concurrent_cap IS NOT NULL AND (CAST(:queue_id AS VARCHAR(64)) IS NULL OR queues.queue_id = :queue_id)

-- name: recount
-- The Running count of capped queues (one, or all when :queue_id is NULL), from the jobs.
UPDATE queues
SET running = (SELECT count(*) FROM jobs WHERE jobs.queue_id = queues.queue_id AND jobs.state = 'Running')
WHERE queues.concurrent_cap IS NOT NULL AND (CAST(:queue_id AS VARCHAR(64)) IS NULL OR queues.queue_id = :queue_id)
