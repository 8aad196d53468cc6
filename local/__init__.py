"""The local stack runner: ``make run`` and the end-to-end tests bring the stack up with it.

Runs in the project venv (.venv). What it starts, each in its own venv:
  SAM CLI (.venv-tools)      sam build / sam deploy of the real template.yaml
  ministack (.venv-emulator) the local AWS emulator, on 127.0.0.1:4566 by default
Modules: layout (where things live), processes (start/stop detached processes, ports),
emulator, sam (build with an input hash, deploy), seed (the demo account), stack (all of it,
in order, with the state file), __main__ (``python -m local run|stop|reset``).
"""
