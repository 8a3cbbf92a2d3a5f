"""The durable store on SQLAlchemy Core: one schema for SQLite and PostgreSQL. The job table is the queue."""
