"""Entry point of the emulator process: ``python -m ministack`` plus one fix, run by
``.venv-emulator/bin/python`` (it imports nothing from the project).

ministack 1.5.33 imports an OpenAPI body's operations only under the plain method names, so
``x-amazon-apigateway-any-method`` (what SAM writes for ``Method: ANY`` once ``OpenApiVersion``
is set) creates the resource without a method and every request gets API Gateway's 403. AWS
imports it as method ANY; so does this shim, until ministack does it itself.
"""

from __future__ import annotations

import sys
from typing import Any

ANY_METHOD_KEY = "x-amazon-apigateway-any-method"


def _import_any_method_as_any() -> None:
    from ministack.services import apigateway_v1 as rest_api  # type: ignore[import-not-found]

    methods = getattr(rest_api, "_OPENAPI_HTTP_METHODS", None)
    original = getattr(rest_api, "_import_operation", None)
    if not isinstance(methods, set) or original is None:
        print("emulator_main: ministack changed; ANY-method fix not applied", file=sys.stderr)
        return
    if ANY_METHOD_KEY in methods:  # fixed upstream
        return

    def import_operation(api_id: str, resource_id: str, http_method: str, *args: Any) -> Any:
        if http_method.lower() == ANY_METHOD_KEY:
            http_method = "ANY"
        return original(api_id, resource_id, http_method, *args)

    methods.add(ANY_METHOD_KEY)
    rest_api._import_operation = import_operation


if __name__ == "__main__":
    _import_any_method_as_any()
    from ministack.app import main  # type: ignore[import-not-found]

    main()
