"""Lambda entry points, one module per function family in `routes.FUNCTIONS`."""
