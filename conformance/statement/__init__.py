"""Conformance statements: the model, its JSON Schema and the loader."""

from conformance.statement.loader import load_statement, schema
from conformance.statement.model import Role, Statement, TransferCapability

__all__ = ["load_statement", "schema", "Role", "Statement", "TransferCapability"]
