"""Conversations: ``wait_for_reply`` steps waiting on Step Functions (docs/conversations.md).

``model`` is the pure domain (schedule, answers, outcomes); ``service`` the use cases over
injected ports (the DynamoDB store in ``adapters.conversation_store``, Step Functions in
``adapters.wait_workflow``, the step ledger for every SMS it sends).
"""
