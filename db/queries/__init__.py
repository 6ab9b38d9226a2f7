"""Data access: plain async functions taking a connection and the caller's organization id.

They speak SQLAlchemy Core and return row mappings: no per-row ORM objects on the hot paths. Batch functions,
used by the GraphQL DataLoaders, return results in the order of the keys they were given.
"""
