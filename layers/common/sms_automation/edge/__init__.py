"""The edge every function shares, one way each (docs/decisions/0001-edge-stack.md):

- ``log_lines``: one JSON line per unit of work, Powertools' keys, its metrics as EMF inside;
- ``batch``: partial batch failure for the stream and queue functions;
- ``settings``: each function's configuration, typed, read from the environment on first use;
- ``aws``: the botocore configuration of every client;
- ``timestamps``: the one way times are written and read back.

Nothing here imports the domain; importing the package imports none of its modules.
"""
