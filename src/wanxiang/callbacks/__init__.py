"""Delivery of job-finished notifications, with retries, recorded in the store."""
