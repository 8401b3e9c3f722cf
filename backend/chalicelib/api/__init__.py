"""HTTP layer: one blueprint per resource, thin views over the domain; errors.py maps every failure."""
