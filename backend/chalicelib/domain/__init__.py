"""Domain logic: model records, their rules and the ports the adapters implement; no AWS SDK here."""
