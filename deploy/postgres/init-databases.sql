-- Runs once, when the postgres container initialises an empty data volume
-- (files in /docker-entrypoint-initdb.d are ignored on later starts).
-- One database per service: each service owns its event store, outbox and
-- read models, and applies its own Alembic migrations on start.
CREATE DATABASE registration;
CREATE DATABASE jobs;
CREATE DATABASE grid_reports;
CREATE DATABASE volunteering;
