"""One JSON line per unit of work: what it did and the metrics it counts, together.

A webhook request, a conversation task, a stream record: each is one event, so each is written
as one line. The line has the keys a Powertools ``Logger`` line has (``level``, ``location``,
``message``, ``timestamp``, ``service``, ``cold_start``, ``function_*``, ``correlation_id``,
``xray_trace_id``), then the work's own fields, and, in the same JSON object, its metrics in
CloudWatch's Embedded Metric Format (an ``_aws`` block naming the metrics and their
dimensions, their values as top-level keys): CloudWatch extracts the metrics from the log line
and Logs Insights queries its fields.

All nine functions write their lines here, and only here (docs/decisions/0001-edge-stack.md
has the measurements: Powertools' ``Logger`` and ``Metrics`` write the same keys but a log line
and a separate EMF line per unit of work, cost a cold start ~8 ms more and a warm request
~0.1 ms more; this is one ``json.dumps`` and one write).

A line is written whatever the log level: it carries the metrics. (Lambda drops JSON lines
below the function's ``ApplicationLogLevel``, EMF lines included, which is why the template
allows DEBUG and INFO only.)

A metric that counts 0 in a line is left out of it (about 50 bytes each; the processor's line
for an ordinary message counted four zeros: docs/cost.md). A period in which nothing was
counted then has no data point instead of a 0: the dashboard shows a gap, and every alarm on
an application metric treats missing data as not breaching (and adds series with
``FILL(…, 0)``), as ``tests/template/test_operations_template.py`` holds them to.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TextIO

Level = Literal["INFO", "WARNING", "ERROR"]

# Lines are trees of plain values built per line: no cycle to look for (~20 % of the encoding).
_encode = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, default=str, check_circular=False
).encode


@dataclass(frozen=True, slots=True)
class Count:
    """A CloudWatch ``Count`` metric, by ``service`` and the given dimensions."""

    name: str
    dimensions: Mapping[str, str] = field(default_factory=dict)
    value: int = 1


@dataclass(frozen=True, slots=True)
class LogLine:
    """What one unit of work did: its log level and message, its fields, what it counts."""

    level: Level
    message: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    """Written in this order after the standard keys; a None value is left out."""
    counts: tuple[Count, ...] = ()
    error: BaseException | None = None
    """Written as ``exception`` (the traceback) and ``exception_name``, as Powertools does."""


class LambdaContextLike(Protocol):
    @property
    def function_name(self) -> str: ...
    @property
    def memory_limit_in_mb(self) -> int | str: ...
    @property
    def invoked_function_arn(self) -> str: ...
    @property
    def aws_request_id(self) -> str: ...


class LogLines:
    """Writes a function's lines (to ``sys.stdout`` as it is at write time, unless given a
    stream): Lambda sends a function's standard output to its log group."""

    def __init__(
        self,
        service: str,
        namespace: str,
        *,
        location: str,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._service = service
        self._namespace = namespace
        self._location = location
        self._stream = stream
        self._clock = clock
        self._first_request: str | None = None
        self._written = False

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], function: str) -> LogLines:
        """Named as Powertools names its lines: ``POWERTOOLS_SERVICE_NAME`` (else ``function``),
        ``POWERTOOLS_METRICS_NAMESPACE`` (else ``SmsAutomation``); ``location`` is ``function``."""
        return cls(
            service=environ.get("POWERTOOLS_SERVICE_NAME") or function,
            namespace=environ.get("POWERTOOLS_METRICS_NAMESPACE") or "SmsAutomation",
            location=function,
        )

    def write(
        self,
        entry: LogLine,
        context: LambdaContextLike | None,
        correlation_id: str | None = None,
    ) -> None:
        (self._stream or sys.stdout).write(self.encode(entry, context, correlation_id) + "\n")

    def encode(
        self,
        entry: LogLine,
        context: LambdaContextLike | None,
        correlation_id: str | None = None,
    ) -> str:
        now = self._clock()
        document: dict[str, Any] = {
            "level": entry.level,
            "location": self._location,
            "message": entry.message,
            "timestamp": powertools_timestamp(now),
            "service": self._service,
            "cold_start": self._cold_start(context),
        }
        if context is not None:
            document["function_name"] = context.function_name
            document["function_memory_size"] = context.memory_limit_in_mb
            document["function_arn"] = context.invoked_function_arn
            document["function_request_id"] = context.aws_request_id
        if correlation_id:
            document["correlation_id"] = correlation_id
        for key, value in entry.fields.items():
            if value is not None:
                document[key] = value
        if entry.error is not None:
            error = entry.error
            document["exception"] = "".join(
                traceback.format_exception(type(error), error, error.__traceback__)
            ).rstrip("\n")
            document["exception_name"] = type(error).__name__
        trace = os.environ.get("_X_AMZN_TRACE_ID")
        if trace:
            document["xray_trace_id"] = trace.split(";")[0].replace("Root=", "")
        counted = _nonzero(entry.counts)
        if counted:
            self._embed_metrics(document, counted, now)
        return _encode(document)

    def _cold_start(self, context: LambdaContextLike | None) -> bool:
        """As Powertools says it: true on every line of the process's first invocation."""
        request_id = context.aws_request_id if context is not None else None
        if not self._written:
            self._written, self._first_request = True, request_id
            return True
        return request_id is not None and request_id == self._first_request

    def _embed_metrics(
        self, document: dict[str, Any], counts: tuple[Count, ...], now: float
    ) -> None:
        """EMF: one directive per set of dimensions; values and dimension values at the top."""
        directives: dict[tuple[str, ...], list[dict[str, str]]] = {}
        counted_by: dict[str, tuple[str, ...]] = {}
        top: dict[str, Any] = {}
        for count in counts:
            dimensions = ("service", *count.dimensions)
            if counted_by.setdefault(count.name, dimensions) != dimensions:
                # One top-level value would count in both sets of dimensions.
                raise ValueError(f"{count.name!r} counted by two sets of dimensions in one line")
            metrics = directives.setdefault(dimensions, [])
            if not any(metric["Name"] == count.name for metric in metrics):
                metrics.append({"Name": count.name, "Unit": "Count"})
            top[count.name] = top.get(count.name, 0) + count.value
            for name, value in count.dimensions.items():
                if top.setdefault(name, value) != value:
                    raise ValueError(f"two values for the dimension {name!r} in one line")
        clashes = sorted(name for name in top if name in document)
        if clashes:
            raise ValueError(f"metric or dimension names clash with log fields: {clashes}")
        document["_aws"] = {
            "Timestamp": int(now * 1000),
            "CloudWatchMetrics": [
                {"Namespace": self._namespace, "Dimensions": [list(names)], "Metrics": metrics}
                for names, metrics in directives.items()
            ],
        }
        document.update(top)


def _nonzero(counts: tuple[Count, ...]) -> tuple[Count, ...]:
    """The counts of the metrics whose total in the line is not 0."""
    totals: dict[str, int] = {}
    for count in counts:
        totals[count.name] = totals.get(count.name, 0) + count.value
    return tuple(count for count in counts if totals[count.name])


def powertools_timestamp(now: float) -> str:
    """Powertools' default log timestamp, in UTC as on Lambda: ``2026-11-26 22:51:46,486+0000``."""
    seconds = int(now)
    milliseconds = int((now - seconds) * 1000)
    return f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(seconds))},{milliseconds:03d}+0000"
