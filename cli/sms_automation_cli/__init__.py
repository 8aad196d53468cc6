"""The ``sms-automation`` command line (``main``): one module per command group.

Not part of the Lambda layer: it runs on a developer's or an operator's machine, installed by
``make install`` with the layer's package (``sms_automation``: the domain and the adapters it
imports, as the functions do) and the local stack's (``sms_automation_local``: ``local status``,
``sandbox``, ``simulate sms``). Nothing in the layer or in functions/ imports it
(tests/unit/test_layer_contents.py).
"""
