"""Table definitions of the SQL tracker store and SQL event broker (queries use these; the
schema itself is created by the Alembic migrations in `parley/stores/migrations/`)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()

_ROW_ID = BigInteger().with_variant(Integer(), "sqlite")

conversations = Table(
    "parley_conversations",
    metadata,
    Column("sender_id", String(255), primary_key=True),
    Column("created_at", Float, nullable=False),
    Column("latest_event_time", Float, nullable=False, index=True),
    # The per-conversation sequence counter: a turn reserves its range by incrementing it.
    Column("event_count", Integer, nullable=False),
    # The highest fencing token a turn appended with (Redis locks); older tokens are refused.
    Column("fence", BigInteger),
)

events = Table(
    "parley_events",
    metadata,
    Column("id", _ROW_ID, primary_key=True, autoincrement=True),
    Column("sender_id", String(255), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("type_name", String(64), nullable=False),
    Column("timestamp", Float, nullable=False, index=True),
    Column("event_id", String(64)),
    Column("model_id", String(128)),
    Column("key_id", String(32)),
    Column("body", Text, nullable=False),
    UniqueConstraint("sender_id", "sequence", name="uq_parley_events_sender_sequence"),
)

broker_events = Table(
    "parley_broker_events",
    metadata,
    Column("id", _ROW_ID, primary_key=True, autoincrement=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("event_id", String(64)),
    Column("data", Text, nullable=False),
)

# -- model registry and rollout (parley/models) ---------------------------------------------------

model_versions = Table(
    "parley_model_versions",
    metadata,
    Column("version", String(128), primary_key=True),  # the archive's model_id
    Column("fingerprints", Text, nullable=False),  # JSON: part name -> fingerprint
    Column("data_hash", String(64)),  # sha256 of the training data files
    Column("storage_key", String(512), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("trained_by", String(255)),
    Column("created_at", Float, nullable=False),  # when the model was trained
    Column("registered_at", Float, nullable=False),
    Column("figures", Text, nullable=False),  # JSON: {"test": {...}, "test_nlu": {...}}
)

model_tags = Table(
    "parley_model_tags",
    metadata,
    Column("tag", String(64), primary_key=True),  # one version holds a tag at a time
    Column("version", String(128), nullable=False),
    Column("updated_at", Float, nullable=False),
)

experiments = Table(
    "parley_experiments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("control", String(128), nullable=False),
    Column("candidate", String(128), nullable=False),
    Column("percent", Float, nullable=False),
    Column("status", String(16), nullable=False, index=True),  # running, promoted, rolled_back
    Column("plan", Text, nullable=False),  # JSON: auto-steps and guards, {} when manual
    Column("step_index", Integer, nullable=False),
    Column("started_at", Float, nullable=False),
    Column("step_started_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    # Raised by every change: a change applies only to the revision it was decided on, so two
    # replicas evaluating the guards at once cannot both step.
    Column("revision", Integer, nullable=False),
    Column("history", Text, nullable=False),  # JSON list of {at, action, percent, by, reason}
)

# Access control (parley/access): users, sessions, API tokens, the hash-chained audit log.
access_users = Table(
    "parley_access_users",
    metadata,
    Column("username", String(255), primary_key=True),
    Column("role", String(64), nullable=False),
    Column("source", String(16), nullable=False),  # local, ldap, oidc, saml
    Column("display_name", String(255)),
    Column("email", String(255)),
    Column("password_hash", String(255)),
    Column("totp_secret", String(64)),
    Column("disabled", Integer, nullable=False),
    Column("failed_logins", Integer, nullable=False),
    Column("locked_until", Float),
    Column("created_at", Float, nullable=False),
    Column("last_login", Float),
)

access_sessions = Table(
    "parley_access_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),  # sha256 of the cookie's session id
    Column("username", String(255), nullable=False, index=True),
    Column("method", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("last_seen", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("ip", String(64)),
)

access_tokens = Table(
    "parley_access_tokens",
    metadata,
    Column("token_id", String(32), primary_key=True),
    Column("username", String(255), nullable=False, index=True),
    Column("name", String(255), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("scopes", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float),
    Column("last_used", Float),
    Column("revoked_at", Float),
)

access_keys = Table(
    "parley_access_keys",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(128), nullable=False),
)

# One-time values already seen (OIDC states, SAML assertion ids): a replay finds its row.
access_used_ids = Table(
    "parley_access_used_ids",
    metadata,
    Column("id", String(255), primary_key=True),
    Column("expires_at", Float, nullable=False, index=True),
)

audit_log = Table(
    "parley_audit_log",
    metadata,
    Column("id", _ROW_ID, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False, index=True),
    Column("actor", String(255), nullable=False, index=True),
    Column("action", String(64), nullable=False, index=True),
    Column("target", String(255)),
    Column("result", String(16), nullable=False),
    Column("ip", String(64)),
    Column("details", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

# The studio (parley/studio): a search index of user and action events (filled from
# parley_events by the studio, so filters are plain SQL even when bodies are encrypted), and the
# reviewers' tags, flags, reviews and NLU inbox decisions.
studio_turns = Table(
    "parley_studio_turns",
    metadata,
    Column("event_row_id", _ROW_ID, primary_key=True, autoincrement=False),  # parley_events.id
    Column("sender_id", String(255), nullable=False, index=True),
    Column("sequence", Integer, nullable=False),
    Column("type_name", String(64), nullable=False),
    Column("timestamp", Float, nullable=False),
    Column("model_id", String(128), index=True),
    Column("channel", String(64), index=True),
    Column("intent", String(255), index=True),
    Column("confidence", Float, index=True),
    Column("action", String(255), index=True),
    Column("policy", String(255)),
    Column("text", Text),  # lower-cased user text; NULL when the store encrypts bodies
    # An active_loop row's form or loop (NULL: the loop ended); rows of type slot carry no labels.
    Column("loop", String(255)),
    # User texts only: free text scans this rather than the table; the analytics' fallback
    # messages read it in order.
    Index(
        "ix_parley_studio_turns_text",
        "intent",
        "text",
        "sender_id",
        sqlite_where=text("text IS NOT NULL"),
        postgresql_where=text("text IS NOT NULL"),
    ),
)

# One row per indexed conversation: what the list's length/confidence filters and the analytics
# group by, kept by the indexer so they are lookups, not aggregates over every turn.
studio_summaries = Table(
    "parley_studio_summaries",
    metadata,
    Column("sender_id", String(255), primary_key=True),
    Column("first_at", Float, nullable=False, index=True),
    Column("channel", String(64)),
    Column("model_id", String(128)),
    Column("user_messages", Integer, nullable=False),
    Column("min_confidence", Float),
    Column("handoff", Integer, nullable=False),
    Column("fallback", Integer, nullable=False),
    Column("last_at", Float),  # the latest indexed event
    Column("first_day", Integer),  # first_at's UTC day (days since 1970): analytics group by it
    # The user left without reaching a goal (see parley/studio/index.py `abandoned`): 0 or 1.
    Column("abandoned", Integer, nullable=False, server_default="0"),
    Index("ix_parley_studio_summaries_confidence_sender", "min_confidence", "sender_id"),
    Index("ix_parley_studio_summaries_messages_sender", "user_messages", "sender_id"),
)

# What each conversation had, per UTC day: one row per (kind, name, value, conversation, day)
# with how many events said it. Kinds: channel, model, intent, action (labels; name ""),
# slot and entity (name = the slot or entity; value = what was set or extracted, in clear only
# when the store does not encrypt, else a keyed hash, see parley/studio/index.py), and active
# (the days a user wrote; name and value ""). The list's label filters and the analytics' user
# counts read this (a conversation has one row where the turns table has many).
studio_facts = Table(
    "parley_studio_facts",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("name", String(255), primary_key=True),
    Column("value", String(255), primary_key=True),
    Column("sender_id", String(255), primary_key=True, index=True),
    Column("day", Integer, primary_key=True),  # days since 1970-01-01 UTC
    Column("events", Integer, nullable=False),
    Index("ix_parley_studio_facts_kind_day", "kind", "day"),
    sqlite_with_rowid=False,  # rows kept in key order: a kind's rows are read without lookups
)

# Filter sets of the conversation list saved under a name, by their owner, maybe shared.
studio_saved_filters = Table(
    "parley_studio_saved_filters",
    metadata,
    Column("id", _ROW_ID, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("owner", String(255), nullable=False),
    Column("shared", Integer, nullable=False),  # 1: every user with conversations:read sees it
    Column(
        "query", Text, nullable=False
    ),  # the list's query string, e.g. intent=greet&handoff=true
    Column("created_at", Float, nullable=False),
    UniqueConstraint("owner", "name", name="uq_parley_studio_saved_filters_owner_name"),
)

studio_state = Table(
    "parley_studio_state",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

studio_tags = Table(
    "parley_studio_tags",
    metadata,
    Column("sender_id", String(255), primary_key=True),
    Column("tag", String(64), primary_key=True, index=True),
    Column("created_by", String(255), nullable=False),
    Column("created_at", Float, nullable=False),
)

studio_reviews = Table(
    "parley_studio_reviews",
    metadata,
    Column("sender_id", String(255), primary_key=True),
    Column("reviewed_by", String(255), nullable=False),
    Column("reviewed_at", Float, nullable=False),
)

studio_flags = Table(
    "parley_studio_flags",
    metadata,
    Column("sender_id", String(255), primary_key=True),
    Column("sequence", Integer, primary_key=True),
    Column("flagged_by", String(255), nullable=False),
    Column("flagged_at", Float, nullable=False),
)

studio_annotations = Table(
    "parley_studio_annotations",
    metadata,
    Column("sender_id", String(255), primary_key=True),
    Column("sequence", Integer, primary_key=True),
    Column("decision", String(16), nullable=False),  # accepted, corrected, discarded
    Column("intent", String(255)),
    Column("file", String(1024)),
    Column("decided_by", String(255), nullable=False),
    Column("decided_at", Float, nullable=False),
)

# The studio's change set (parley/studio/changeset.py): accepted annotations and promoted clusters
# kept for download instead of being written into data/. It points at the messages (their texts
# stay in parley_events, encrypted when the store encrypts) and keeps the entities' offsets.
studio_changeset = Table(
    "parley_studio_changeset",
    metadata,
    Column("sender_id", String(255), primary_key=True),
    Column("sequence", Integer, primary_key=True),
    Column("intent", String(255), nullable=False),
    Column("entities", Text, nullable=False),  # JSON [{"entity", "start", "end"}]
    Column("new_intent", Integer, nullable=False),  # 1: a promoted cluster's new intent
    Column("added_by", String(255), nullable=False),
    Column("added_at", Float, nullable=False, index=True),
)

share_links = Table(
    "parley_share_links",
    metadata,
    Column("link_id", String(32), primary_key=True),
    Column("name", String(64), nullable=False),  # also the tag of its conversations
    Column("secret_hash", String(64), nullable=False),
    Column("model_version", String(128)),  # None: the model the server serves
    Column("created_by", String(255), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("revoked_at", Float),
    Column("revoked_by", String(255)),
    UniqueConstraint("name", name="uq_parley_share_links_name"),
)


# Trainings started from the studio (parley/studio/training_jobs.py): any worker shows a job's
# progress from here. `running` holds the project's key while a job runs (NULL after): the unique
# constraint lets one training at a time run per project, across workers and replicas.
training_jobs = Table(
    "parley_training_jobs",
    metadata,
    Column("job_id", String(32), primary_key=True),
    Column("project", String(1024), nullable=False),
    Column("running", String(64)),
    Column("status", String(16), nullable=False),  # running, succeeded, failed, ...
    Column("stage", String(32), nullable=False),
    Column("stage_done", Integer),
    Column("stage_total", Integer),
    Column("stage_what", String(255)),
    Column("started_by", String(255), nullable=False),
    Column("started_at", Float, nullable=False, index=True),
    Column("finished_at", Float),
    Column("heartbeat_at", Float, nullable=False),
    Column("host", String(255), nullable=False),
    Column("pid", Integer),
    Column("cancel_requested", Integer, nullable=False),
    Column("version", String(128)),
    Column("model", String(1024)),
    Column("error", Text),
    UniqueConstraint("running", name="uq_parley_training_jobs_running"),
)

training_log = Table(
    "parley_training_log",
    metadata,
    Column("job_id", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("at", Float, nullable=False),
    Column("line", Text, nullable=False),
)
