"""The claim loop: leases, heartbeats, engines, finish, and graceful shutdown."""
