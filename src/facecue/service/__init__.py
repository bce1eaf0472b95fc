"""The review service: REST API, storage, background analysis jobs (and, beside them, the reviewer pages).

Modules, one job each:
- settings: configuration from the environment (`Settings.from_env()`).
- db: the engine, sessions (`session_scope()`, the FastAPI dependency `get_session`) and migrations.
- models: the SQLAlchemy ORM classes.
- auth: password hashing, bearer tokens, session cookies, CSRF, login rate limiting, `current_user`.
- audit: the tamper-evident audit log, a hash chain stored in the database.
- storage: uploaded media (size/type checks, content sniffing, generated names) and the per-interview folders.
- jobs: claiming, heartbeats, recovery and finishing of analysis jobs; worker: the process that runs them.
- api: the JSON API under /api/v1; app: `create_app(settings)`.
"""
