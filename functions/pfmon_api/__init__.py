"""PFMON's API: Lambda handlers, business logic, data access and models."""
