"""The composition root: domain services built on their adapters, for the functions and the CLI.
It may import anything in the layer; the domain and the adapters never import it (pyproject's
import contracts).

One module per function (``functions/<name>/handler.py`` calls ``handle`` of its namesake here:
``trigger_processor``, ``conversation_register``, ...): which settings, clients and adapters it
builds (once per warm Lambda, on first use), which use case it calls, and what each outcome logs and
counts. ``runtime`` wires the trigger processor and the conversation functions (the processing
core, the intake, the conversations, the deferrals); ``automations`` and ``action_log`` the
automations API, its events and the CLI's views.
"""
