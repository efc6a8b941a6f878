"""Alembic migrations of the SQL tracker store, applied at start by `parley.stores.sql_engine`."""

# The newest revision in versions/ (a test keeps it equal to Alembic's head). A database already
# there is recognised without importing Alembic, which would add a quarter second to every start.
HEAD_REVISION = "0009"
