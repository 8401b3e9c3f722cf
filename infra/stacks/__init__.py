"""CDK stacks of the kraken app; one KrakenStack per stage."""
