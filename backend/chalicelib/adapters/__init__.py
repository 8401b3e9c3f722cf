"""Adapters: one module per AWS service, implementing the domain's ports and translating SDK errors."""
