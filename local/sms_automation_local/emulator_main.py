"""Entry point of the emulator process: ``python -m ministack`` plus one fix, run by
``.venv-emulator/bin/python`` (it imports nothing from the project).

ministack 1.5.33 imports an OpenAPI body's operations only under the plain method names, so
``x-amazon-apigateway-any-method`` (what SAM writes for ``Method: ANY`` once ``OpenApiVersion``
is set) creates the resource without a method and every request gets API Gateway's 403. AWS
imports it as method ANY; so does this shim, until ministack does it itself.

It also refuses an ``AWS::CloudWatch::Alarm`` with ``Metrics`` (metric math), failing the whole
deploy. Alarms never fire on the emulator (no service metrics), so the shim provisions such an
alarm on its first ``MetricStat`` metric instead: the stack deploys as on AWS, and what the
alarm computes is checked by the template tests.
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


_STANDARD_STATISTICS = frozenset({"SampleCount", "Average", "Sum", "Minimum", "Maximum"})


def _first_metric_instead_of_math(props: dict[str, Any]) -> dict[str, Any]:
    stats = [m["MetricStat"] for m in props["Metrics"] if isinstance(m.get("MetricStat"), dict)]
    if not stats:
        return props
    stat = stats[0]
    metric = stat.get("Metric", {})
    plain = {key: value for key, value in props.items() if key != "Metrics"}
    plain.update(
        MetricName=metric.get("MetricName"),
        Namespace=metric.get("Namespace"),
        Dimensions=metric.get("Dimensions", []),
        Period=stat.get("Period", 60),
    )
    name = "Statistic" if stat.get("Stat") in _STANDARD_STATISTICS else "ExtendedStatistic"
    plain[name] = stat.get("Stat")
    return plain


def _accept_metric_math_alarms() -> None:
    from ministack.services.cloudformation import (  # type: ignore[import-not-found]
        provisioners,
    )

    original = getattr(provisioners, "_cw_metric_alarm_record", None)
    if original is None:
        print(
            "emulator_main: ministack changed; metric-math alarm fix not applied", file=sys.stderr
        )
        return

    def record(name: str, props: dict[str, Any]) -> Any:
        if props.get("Metrics"):
            props = _first_metric_instead_of_math(props)
        return original(name, props)

    provisioners._cw_metric_alarm_record = record


if __name__ == "__main__":
    _import_any_method_as_any()
    _accept_metric_math_alarms()
    from ministack.app import main  # type: ignore[import-not-found]

    main()
