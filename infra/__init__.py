"""The kraken CDK app: one stack per stage, built from the constructs in infra.constructs."""
