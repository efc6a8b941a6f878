"""Alembic migrations of the SQL tracker store, applied at start by `parley.stores.sql_engine`."""
