"""The web console's backend (issue 16), read-only slice: who may read what (``access``), the
console's read use cases over ports (``reads``), their bounded query parameters and opaque
cursors (``queries``) and the HTTP API routing (``http``). Pure: no AWS; the adapters are in
``sms_automation.adapters.console_reads``, the wiring in ``composition.console_api``.
"""
