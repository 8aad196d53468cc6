"""The composition root of what the functions and the CLI share: domain services built on
their DynamoDB adapters. It may import anything in the layer; the domain and the adapters never
import it (pyproject's import contracts).

``runtime`` wires the trigger processor and the conversation functions (the processing core,
the intake, the conversations, the deferrals); ``automations`` and ``action_log`` the
automations API, its events and the CLI's views."""
