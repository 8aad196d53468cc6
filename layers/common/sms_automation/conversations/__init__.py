"""Conversations: ``wait_for_reply`` steps waiting on Step Functions (docs/conversations.md).

``model`` is the pure domain (schedule, answers, outcomes); ``service`` the use cases over the
``ports`` (implemented by the DynamoDB store in ``adapters.conversation_store`` and Step
Functions in ``adapters.conversation_workflow``) and the step ledger for every SMS it sends.
"""
