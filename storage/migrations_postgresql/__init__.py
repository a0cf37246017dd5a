"""PostgreSQL schema migrations (``NNNN_name.sql``): a baseline equal to SQLite's schema after
its migration 0014, then one twin of each later SQLite migration, with the same number and name
(tests/unit/test_schema_parity.py)."""
