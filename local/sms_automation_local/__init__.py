"""The local stack: ``make run`` and the end-to-end tests bring it up with this package, and the
CLI reads it (``sms-automation local status``, ``sandbox``, ``simulate sms``).

Not part of the Lambda layer. The runner runs in the project venv (.venv); what it starts, each
in its own venv:
  SAM CLI (.venv-tools)          sam build / sam deploy of the real template.yaml
  ministack (.venv-emulator)     the local AWS emulator, on 127.0.0.1:4566 by default
  the Twilio sandbox (.venv)     ``twilio_sandbox``, on 127.0.0.1:4570 by default
Modules:
  the runner      layout (where things live), processes (start/stop detached processes, ports),
                  emulator (+ emulator_main, its entry point), sam (build with an input hash,
                  deploy; layer_prune trims the emulator's copy of the layer), seed (the demo
                  account), stack (all of it, in order, with the state file), __main__
                  (``python -m sms_automation_local run|stop|reset``)
  what the CLI    state (``.local/state.json``: what the runner started), demo (the demo
  reads too       account's public local-only credentials), readiness (is the stack ready?),
                  inbound_sms (an inbound SMS as Twilio delivers it, for any deployment),
                  twilio_sandbox_client (the sandbox's REST API, read as a Twilio client does)
  twilio_sandbox  the part of Twilio's REST API the project uses, the phone simulator page, and
                  ``twilio_sandbox.process`` (the sandbox as a process the runner manages)
"""
