"""Pydantic models of request bodies, responses and stored items."""
