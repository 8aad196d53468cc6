"""The composition root of what the functions and the CLI share: domain services built on
their DynamoDB adapters. It may import anything in the layer; the domain and the adapters never
import it (pyproject's import contracts)."""
