-- The queue protocol of wanxiang's workers: the jobs table is the queue.
--
-- Loaded by wanxiang.store.queue, one statement per "-- name:" block. Two placeholders are filled
-- per database: {skip_locked} is "FOR UPDATE OF jobs SKIP LOCKED" on PostgreSQL and empty on
-- SQLite (whose writers are serialised by BEGIN IMMEDIATE); {tag_filter} narrows a claim to some
-- Tags; {hold_filter} (dev mode) skips the jobs a manual test mode holds. States are written into the SQL, not bound: a partial index (ix_jobs_submitted,
-- ix_jobs_running_lease) is used only when the query's condition visibly matches the index's.

-- name: claim
-- Take the best Submitted job outside Paused queues (JobLevel desc, then arrival) and lease it.
-- "Not in a Paused queue" rather than a join with Active queues: with no join the planner walks
-- the partial Submitted index in claim order and stops at the first row.
UPDATE jobs
SET state = 'Running', start_us = :now, lease_owner = :token, lease_expires_us = :expires,
    attempts = jobs.attempts + 1
WHERE jobs.seq = (
        SELECT jobs.seq FROM jobs
        WHERE jobs.state = 'Submitted'
          AND NOT (EXISTS (SELECT queues.queue_id FROM queues
                           WHERE queues.queue_id = jobs.queue_id AND queues.state = 'Paused'))
          {tag_filter} {hold_filter}
        ORDER BY jobs.job_level DESC, jobs.seq ASC
        LIMIT 1 {skip_locked})
  AND jobs.state = 'Submitted'
RETURNING *

-- name: renew
-- Extend the lease of a job still held with this token (and record its progress, if any).
UPDATE jobs
SET progress = coalesce(:progress, jobs.progress), lease_expires_us = :expires
WHERE jobs.job_id = :job_id AND jobs.lease_owner = :token AND jobs.state = 'Running'

-- name: finish
-- Record the outcome if the token still holds the lease; a worker whose lease lapsed and was
-- taken over finds no row and cannot overwrite the new owner's result.
UPDATE jobs
SET state = :state, end_us = :end, code = :code, message = :message, progress = :progress,
    result = :result, lease_owner = NULL, lease_expires_us = NULL
WHERE jobs.job_id = :job_id AND jobs.lease_owner = :token AND jobs.state = 'Running'
RETURNING *

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

-- name: hold_filter
-- Dev mode: a job of a queue in the manual test mode (its own row, else the global "*" row) waits.
AND coalesce((SELECT test_modes.mode FROM test_modes WHERE test_modes.scope = jobs.queue_id),
             (SELECT test_modes.mode FROM test_modes WHERE test_modes.scope = '*'), 'normal') <> 'manual'

-- name: advance_hold
-- Dev mode, manual: Submitted -> Running, held (no worker; a lease that never lapses) until advanced again.
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
        LIMIT 1 {skip_locked})
  AND jobs.lease_owner = 'manual-go'
RETURNING *
