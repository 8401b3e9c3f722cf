"""The model manager's Lambda code: HTTP layer, schemas, domain logic and AWS adapters."""

__version__ = "0.1.0"
