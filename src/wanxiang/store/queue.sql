-- The queue protocol of wanxiang's workers: the jobs table is the queue.
--
-- Loaded by wanxiang.store.queue, one statement per "-- name:" block; a block named
-- "<name>@postgresql" replaces "<name>" on PostgreSQL. {tag_filter} narrows a claim to some Tags;
-- {hold_filter} (dev mode) skips the jobs a manual test mode holds.
-- States are written into the SQL, not bound: a partial index (ix_jobs_submitted,
-- ix_jobs_running_lease) is used only when the query's condition visibly matches the index's.
--
-- MaxConcurrent: a queue whose user set a cap (queues.concurrent_cap, NULL when none) has one
-- queue_slots row per allowed Running job. A claim from such a queue takes a free slot (its row
-- locked with SKIP LOCKED: claimers never wait on one hot row), a finish or a lease rescue frees
-- it. Queues without a cap never touch queue_slots, so they keep the claim's speed.
-- A queue is full when as many of its slots are taken as its cap allows (counted through the
-- partial index of taken slots, which holds only running jobs).

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
                             AND (queues.state = 'Paused'
                                  OR (SELECT count(*) FROM queue_slots
                                      WHERE queue_slots.queue_id = queues.queue_id
                                        AND queue_slots.job_id IS NOT NULL) >= queues.concurrent_cap)))
          {tag_filter} {hold_filter}
        ORDER BY jobs.job_level DESC, jobs.seq ASC
        LIMIT 1)
  AND jobs.state = 'Submitted'
RETURNING *

-- name: claim@postgresql
-- One statement in autocommit. The candidate job is locked with SKIP LOCKED; if its queue has a
-- cap, a free slot below the cap is locked the same way (a slot another claimer took since our
-- snapshot is re-checked and skipped); without a slot the job is left Submitted.
-- The job is updated by "seq = (SELECT ...)" alone, a key lookup whatever the statistics say:
-- joined FROM candidate, or with "state = 'Submitted'" (which the partial indexes match), a
-- planner that thought the table small scanned every Submitted job per claim. The row is locked
-- by the candidate's FOR UPDATE, which re-checked it is Submitted, so it cannot have moved on.
WITH candidate AS (
        SELECT jobs.seq, jobs.job_id, jobs.queue_id FROM jobs
        WHERE jobs.state = 'Submitted'
          AND NOT (EXISTS (SELECT queues.queue_id FROM queues
                           WHERE queues.queue_id = jobs.queue_id
                             AND (queues.state = 'Paused'
                                  OR (SELECT count(*) FROM queue_slots
                                      WHERE queue_slots.queue_id = queues.queue_id
                                        AND queue_slots.job_id IS NOT NULL) >= queues.concurrent_cap)))
          {tag_filter} {hold_filter}
        ORDER BY jobs.job_level DESC, jobs.seq ASC
        LIMIT 1 FOR UPDATE OF jobs SKIP LOCKED),
     free AS (
        SELECT queue_slots.queue_id, queue_slots.slot FROM queue_slots
        JOIN candidate ON queue_slots.queue_id = candidate.queue_id
        JOIN queues ON queues.queue_id = candidate.queue_id
        WHERE queue_slots.job_id IS NULL AND queue_slots.slot < queues.concurrent_cap
        ORDER BY queue_slots.slot
        LIMIT 1 FOR UPDATE OF queue_slots SKIP LOCKED),
     taken AS (
        UPDATE queue_slots SET job_id = candidate.job_id
        FROM free, candidate
        WHERE queue_slots.queue_id = free.queue_id AND queue_slots.slot = free.slot
        RETURNING queue_slots.slot)
UPDATE jobs
SET state = 'Running', start_us = :now, lease_owner = :token, lease_expires_us = :expires,
    attempts = jobs.attempts + 1
WHERE jobs.seq = (SELECT candidate.seq FROM candidate)
  AND (EXISTS (SELECT 1 FROM taken)
       OR NOT EXISTS (SELECT 1 FROM queues, candidate
                      WHERE queues.queue_id = candidate.queue_id AND queues.concurrent_cap IS NOT NULL))
RETURNING jobs.*

-- name: take_slot
-- SQLite, after a claim in the same transaction: the job takes the lowest free slot of its
-- queue's cap (none when the queue has no cap).
UPDATE queue_slots SET job_id = :job_id
WHERE queue_slots.queue_id = :queue_id
  AND queue_slots.slot = (SELECT s.slot FROM queue_slots AS s JOIN queues ON queues.queue_id = s.queue_id
                          WHERE s.queue_id = :queue_id AND s.job_id IS NULL AND s.slot < queues.concurrent_cap
                          ORDER BY s.slot LIMIT 1)

-- name: renew
-- Extend the lease of a job still held with this token (and record its progress, if any). No row:
-- the lease is lost. A cancel_us: a user asked the job to stop.
UPDATE jobs
SET progress = coalesce(:progress, jobs.progress), lease_expires_us = :expires
WHERE jobs.job_id = :job_id AND jobs.lease_owner = :token AND jobs.state = 'Running'
RETURNING jobs.cancel_us

-- name: finish
-- Record the outcome if the token still holds the lease; a worker whose lease lapsed and was
-- taken over finds no row and cannot overwrite the new owner's result. On SQLite free_slots
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
        UPDATE queue_slots SET job_id = NULL
        FROM done
        WHERE queue_slots.job_id = done.job_id
        RETURNING queue_slots.slot)
SELECT * FROM done

-- name: free_slots
-- The slots held by jobs that are no longer Running (finished, or given back by a rescue).
UPDATE queue_slots SET job_id = NULL WHERE queue_slots.job_id IN :job_ids

-- name: cancel_lost
-- A job a user asked to stop, whose worker stopped renewing, ends Cancel instead of running again.
UPDATE jobs
SET state = 'Cancel', code = 'Cancel', message = :message, end_us = :now,
    lease_owner = NULL, lease_expires_us = NULL
WHERE jobs.state = 'Running' AND jobs.lease_expires_us < :now AND jobs.cancel_us IS NOT NULL
RETURNING jobs.job_id

-- name: hand_back
-- A worker that stops before its job ends gives the job back at once, rather than letting its
-- lease lapse; the attempt does not count towards WorkerLost. A job a user asked to cancel is
-- left to its lease, whose rescue ends it Cancel.
UPDATE jobs
SET state = 'Submitted', lease_owner = NULL, lease_expires_us = NULL, progress = NULL,
    attempts = jobs.attempts - 1
WHERE jobs.job_id = :job_id AND jobs.lease_owner = :token AND jobs.state = 'Running'
  AND jobs.cancel_us IS NULL

-- name: fail_lost
-- A job whose worker stopped renewing too many times ends Failed.
UPDATE jobs
SET state = 'Failed', code = 'WorkerLost', message = :message, end_us = :now,
    lease_owner = NULL, lease_expires_us = NULL
WHERE jobs.state = 'Running' AND jobs.lease_expires_us < :now AND jobs.attempts >= :max_attempts
RETURNING jobs.job_id

-- name: release
-- Any other job whose worker stopped renewing goes back to the queue.
UPDATE jobs
SET state = 'Submitted', lease_owner = NULL, lease_expires_us = NULL
WHERE jobs.state = 'Running' AND jobs.lease_expires_us < :now
RETURNING jobs.job_id

-- name: hold_filter
-- Dev mode: a job of a queue in the manual test mode (its own row, else the global "*" row) waits.
AND coalesce((SELECT test_modes.mode FROM test_modes WHERE test_modes.scope = jobs.queue_id),
             (SELECT test_modes.mode FROM test_modes WHERE test_modes.scope = '*'), 'normal') <> 'manual'

-- name: advance_hold
-- Dev mode, manual: Submitted -> Running, held (no worker, no slot; a lease that never lapses)
-- until advanced again.
UPDATE jobs
SET state = 'Running', start_us = :now, lease_owner = 'manual-hold', lease_expires_us = :forever,
    attempts = jobs.attempts + 1
WHERE jobs.job_id = :job_id AND jobs.state = 'Submitted'

-- name: advance_go
-- Dev mode, manual: a held Running job is handed to the next idle worker (claim_advanced).
UPDATE jobs SET lease_owner = 'manual-go'
WHERE jobs.job_id = :job_id AND jobs.state = 'Running' AND jobs.lease_owner = 'manual-hold'

-- name: claim_advanced
-- Dev mode: a worker takes a job that advance handed over, keeping its Running state and start time.
UPDATE jobs
SET lease_owner = :token, lease_expires_us = :expires
WHERE jobs.seq = (
        SELECT jobs.seq FROM jobs
        WHERE jobs.state = 'Running' AND jobs.lease_owner = 'manual-go'
        ORDER BY jobs.seq ASC
        LIMIT 1)
  AND jobs.lease_owner = 'manual-go'
RETURNING *

-- name: claim_advanced@postgresql
UPDATE jobs
SET lease_owner = :token, lease_expires_us = :expires
WHERE jobs.seq = (
        SELECT jobs.seq FROM jobs
        WHERE jobs.state = 'Running' AND jobs.lease_owner = 'manual-go'
        ORDER BY jobs.seq ASC
        LIMIT 1 FOR UPDATE OF jobs SKIP LOCKED)
  AND jobs.lease_owner = 'manual-go'
RETURNING *
