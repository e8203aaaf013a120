"""Data access: one module per DynamoDB table, returning models and domain errors."""
