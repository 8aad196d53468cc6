"""The trigger language: pydantic models of one account's trigger file (``version: 1``).

These models are the schema (``sms-automation triggers schema`` publishes their JSON Schema);
they validate everything that can be known before a message arrives. The engine compiles a
validated ``TriggerSet`` once into plain Python objects and never touches pydantic per message.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import re
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    JsonValue,
    ModelWrapValidatorHandler,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sms_automation import broadcast_uploads as uploads
from sms_automation.time_zones import time_zone
from sms_automation.triggers.durations import (
    MAX_WAIT_SECONDS,
    beyond_longest_wait,
    longest_wait_refusal,
    parse_duration,
)
from sms_automation.triggers.http_rendering import parse_url_template
from sms_automation.triggers.inputs import ADDRESS_PATTERN, InvalidInput, coerce_input
from sms_automation.triggers.jsonpath import parse_json_path
from sms_automation.triggers.patterns import collecting_patterns, keep_alive, validate_pattern
from sms_automation.triggers.twiml import (
    MAX_TWIML_CHARS,
    ConnectSpec,
    SaySpec,
    TwimlTooLong,
    build_call_twiml,
)
from sms_automation.triggers.variables import VARIABLE_NAME_PATTERN, parse_template


class Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        coerce_numbers_to_str=True,  # `equals: 42` in YAML means the text "42"
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        # Validators are built on first use, not at import: a cold start that never parses a
        # trigger file (most conversation and status functions) does not pay for them.
        defer_build=True,
    )


TriggerName = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.:-]{0,79}$",
        description="Unique in the file; part of every step id, so no '/'.",
    ),
]
VariableName = Annotated[str, Field(pattern=rf"^{VARIABLE_NAME_PATTERN}$", max_length=64)]
StepLabel = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_-]{0,39}$",
        description="A stable step id for this action, used instead of its position.",
    ),
]
FieldName = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_-]+)*$",
        description="A message field (Twilio or ThinkAutomation name), a variable or a built-in.",
    ),
]
Text = Annotated[str, Field(max_length=65_536)]


def _check_timezone(name: str | None) -> str | None:
    if name is None:
        return None
    time_zone(name)  # UnknownTimeZone is a ValueError: the line's validation error
    return name


# ---------------------------------------------------------------------------------------------
# Conditions
# ---------------------------------------------------------------------------------------------

TEXT_OPERATORS = (
    "equals",
    "not_equals",
    "contains",
    "not_contains",
    "starts_with",
    "not_starts_with",
    "ends_with",
)
LIST_OPERATORS = ("matches_any_of", "not_matches_any_of")
FLAG_OPERATORS = ("is_blank", "is_not_blank", "is_valid_email")
NUMBER_OPERATORS = ("less_than", "greater_than", "less_than_or_equal", "greater_than_or_equal")
LENGTH_OPERATORS = ("length_equals", "length_less_than", "length_greater_than")
TIME_OPERATORS = ("is_before_time", "is_after_time")
DATE_OPERATORS = ("is_before_date", "is_after_date")
OPERATORS = (
    *TEXT_OPERATORS,
    *LIST_OPERATORS,
    "regex",
    *FLAG_OPERATORS,
    *NUMBER_OPERATORS,
    *LENGTH_OPERATORS,
    *TIME_OPERATORS,
    *DATE_OPERATORS,
)

_TIME_OF_DAY = re.compile(r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")


def _time_of_day(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(f"expected a time of day as text such as '17:30', got the number {value}")
    if isinstance(value, str) and not _TIME_OF_DAY.match(value):
        raise ValueError(f"expected a time of day 'HH:MM' or 'HH:MM:SS', got {value!r}")
    return value


class FieldCondition(Model):
    """``field`` + exactly one operator; text comparisons ignore case unless ``case_sensitive``."""

    field: FieldName
    case_sensitive: bool = False
    timezone: str | None = Field(
        None, description="IANA zone for time/date operators (default: the account's, else UTC)."
    )

    equals: Text | None = None
    not_equals: Text | None = None
    contains: Text | None = None
    not_contains: Text | None = None
    starts_with: Text | None = None
    not_starts_with: Text | None = None
    ends_with: Text | None = None
    matches_any_of: list[Text] | None = Field(None, min_length=1)
    not_matches_any_of: list[Text] | None = Field(None, min_length=1)
    regex: str | None = Field(None, description="Regular expression (RE2), searched anywhere.")
    is_blank: Literal[True] | None = None
    is_not_blank: Literal[True] | None = None
    is_valid_email: Literal[True] | None = None
    less_than: float | None = None
    greater_than: float | None = None
    less_than_or_equal: float | None = None
    greater_than_or_equal: float | None = None
    length_equals: int | None = Field(None, ge=0)
    length_less_than: int | None = Field(None, ge=0)
    length_greater_than: int | None = Field(None, ge=0)
    is_before_time: str | None = Field(None, description="'HH:MM' or 'HH:MM:SS'")
    is_after_time: str | None = Field(None, description="'HH:MM' or 'HH:MM:SS'")
    is_before_date: dt.date | None = None
    is_after_date: dt.date | None = None

    _check_zone = field_validator("timezone")(_check_timezone)

    @field_validator("is_before_time", "is_after_time", mode="before")
    @classmethod
    def _quoted_time(cls, value: Any) -> Any:
        return _time_of_day(value)

    @field_validator("regex")
    @classmethod
    def _safe_regex(cls, pattern: str | None, info: ValidationInfo) -> str | None:
        if pattern is not None:
            validate_pattern(pattern, info.context, stored_key=STORED_CONTEXT)
        return pattern

    @model_validator(mode="after")
    def _exactly_one_operator(self) -> Self:
        present = [name for name in OPERATORS if getattr(self, name) is not None]
        if not present:
            raise ValueError(
                f"condition on {self.field!r} has no operator: add one of {', '.join(OPERATORS)}"
            )
        if len(present) > 1:
            raise ValueError(
                f"condition on {self.field!r} has {len(present)} operators "
                f"({', '.join(present)}); use one per condition and group them with all/any"
            )
        if self.timezone is not None and present[0] not in (*TIME_OPERATORS, *DATE_OPERATORS):
            raise ValueError("'timezone' only applies to the time and date operators")
        return self

    @property
    def operator(self) -> str:
        return next(name for name in OPERATORS if getattr(self, name) is not None)

    @property
    def operand(self) -> Any:
        return getattr(self, self.operator)


class AllOf(Model):
    all: list[Condition] = Field(min_length=1)


class AnyOf(Model):
    any: list[Condition] = Field(min_length=1)


class NotGroup(Model):
    not_: Condition = Field(alias="not")


def _condition_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        for key, tag in (("all", "all-group"), ("any", "any-group"), ("not", "not-group")):
            if key in value:
                return tag
        return "field-condition"
    tags: dict[type, str] = {
        AllOf: "all-group",
        AnyOf: "any-group",
        NotGroup: "not-group",
        FieldCondition: "field-condition",
    }
    return tags.get(type(value))


Condition = Annotated[
    Annotated[FieldCondition, Tag("field-condition")]
    | Annotated[AllOf, Tag("all-group")]
    | Annotated[AnyOf, Tag("any-group")]
    | Annotated[NotGroup, Tag("not-group")],
    Discriminator(
        _condition_tag,
        custom_error_type="invalid_condition",
        custom_error_message="a condition is a mapping: 'field' + an operator, or all/any/not",
    ),
]
Conditions = Annotated[
    Annotated[Condition, Tag("one-condition")] | Annotated[list[Condition], Tag("condition-list")],
    Discriminator(lambda value: "condition-list" if isinstance(value, list) else "one-condition"),
]
"""A single condition, or a list that must all hold."""


# ---------------------------------------------------------------------------------------------
# Extraction
# ---------------------------------------------------------------------------------------------


class ExtractionBase(Model):
    field: FieldName = Field("Body", description="Where to extract from (default: the body).")
    trim: bool = Field(True, description="Strip surrounding whitespace from the extracted text.")
    default: Text = Field("", description="The value when nothing is found.")


class RegexExtraction(ExtractionBase):
    """Named groups become variables; ``into`` (optional) receives the whole match."""

    regex: str
    into: VariableName | None = None
    case_sensitive: bool = False

    @model_validator(mode="after")
    def _compiles_with_names(self, info: ValidationInfo) -> Self:
        compiled = validate_pattern(self.regex, info.context, stored_key=STORED_CONTEXT)
        if compiled is None:
            return self
        if not compiled.groupindex and self.into is None:
            raise ValueError(
                "the regex has no named groups ((?P<name>...)) and no 'into': nothing to set"
            )
        for name in compiled.groupindex:
            if not re.fullmatch(VARIABLE_NAME_PATTERN, name):
                raise ValueError(f"group name {name!r} is not a valid variable name")
        return self


class BetweenMarkers(Model):
    start: Text = Field(description="Text just before the value ('' = from the beginning).")
    end: Text = Field("", description="Text just after the value ('' = to the end).")


class BetweenExtraction(ExtractionBase):
    between: BetweenMarkers
    into: VariableName
    case_sensitive: bool = False


class SplitSpec(Model):
    delimiter: str = Field(min_length=1)
    index: int = Field(description="0 is the first part; -1 the last.")


class SplitExtraction(ExtractionBase):
    split: SplitSpec
    into: VariableName


class JsonPathExtraction(ExtractionBase):
    json_path: str = Field(description="'$', then '.key', '[index]' or '[\"key\"]' steps.")
    into: VariableName

    @field_validator("json_path")
    @classmethod
    def _parses(cls, path: str) -> str:
        parse_json_path(path)
        return path


def _extraction_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        for key in ("regex", "between", "split", "json_path"):
            if key in value:
                return key
        return None
    tags: dict[type, str] = {
        RegexExtraction: "regex",
        BetweenExtraction: "between",
        SplitExtraction: "split",
        JsonPathExtraction: "json_path",
    }
    return tags.get(type(value))


Extraction = Annotated[
    Annotated[RegexExtraction, Tag("regex")]
    | Annotated[BetweenExtraction, Tag("between")]
    | Annotated[SplitExtraction, Tag("split")]
    | Annotated[JsonPathExtraction, Tag("json_path")],
    Discriminator(
        _extraction_tag,
        custom_error_type="invalid_extraction",
        custom_error_message="an extraction has one of: regex, between, split, json_path",
    ),
]


# ---------------------------------------------------------------------------------------------
# Actions
# ---------------------------------------------------------------------------------------------


class ActionBase(Model):
    id: StepLabel | None = None
    when: Conditions | None = Field(None, description="Run this action only if these hold.")


class SendSmsAction(ActionBase):
    type: Literal["send_sms"]
    to: Text = Field("%From%", description="Default: the sender of the inbound message.")
    from_: Text | None = Field(
        None, alias="from", description="Default: the number that received the message (%To%)."
    )
    messaging_service_sid: str | None = Field(None, pattern=r"^MG[0-9a-fA-F]{32}$")
    body: Text = ""
    media_urls: list[Text] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _sender_and_content(self) -> Self:
        if self.from_ is not None and self.messaging_service_sid is not None:
            raise ValueError("set 'from' or 'messaging_service_sid', not both")
        if not self.body and not self.media_urls:
            raise ValueError("send_sms needs a 'body' or 'media_urls'")
        return self


class Say(Model):
    text: Text = Field(min_length=1)
    voice: str | None = Field(None, max_length=64, description="e.g. 'Polly.Amy', 'woman'")
    language: str | None = Field(None, pattern=r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$")
    loop: int = Field(1, ge=0, le=100, description="0 repeats until the call ends.")


class ConnectTo(Model):
    number: Text = Field(min_length=1)
    caller_id: Text | None = None
    timeout: int = Field(30, ge=5, le=600, description="Seconds to wait for an answer.")
    record: bool = False


class MakeCallAction(ActionBase):
    type: Literal["make_call"]
    to: Text = Field(min_length=1)
    from_: Text = Field("%To%", alias="from")
    say: Say | None = None
    connect_to: ConnectTo | None = None

    @model_validator(mode="after")
    def _fits_inline(self) -> Self:
        if self.say is None and self.connect_to is None:
            raise ValueError("make_call needs 'say', 'connect_to' or both")
        # The templates as written are a lower bound on the rendered TwiML's size.
        say_text = self.say.text if self.say else None
        number = self.connect_to.number if self.connect_to else None
        caller_id = self.connect_to.caller_id if self.connect_to else None
        try:
            build_call_twiml(*self.twiml_specs(say_text, number, caller_id))
        except TwimlTooLong as error:
            raise ValueError(
                f"{error}; shorten the 'say' text (Twilio's inline TwiML limit is "
                f"{MAX_TWIML_CHARS} characters)"
            ) from None
        return self

    def twiml_specs(
        self, say_text: str | None, number: str | None, caller_id: str | None
    ) -> tuple[SaySpec | None, ConnectSpec | None]:
        """This call's ``<Say>`` and ``<Dial>`` with the given (rendered) texts."""
        say = connect = None
        if self.say is not None and say_text is not None:
            say = SaySpec(say_text, self.say.voice, self.say.language, self.say.loop)
        if self.connect_to is not None and number is not None:
            connect = ConnectSpec(
                number, caller_id, self.connect_to.timeout, self.connect_to.record
            )
        return say, connect


APP_TABLE_CONTEXT = "app_table"
"""Validation context key: the deployment's own table, which ``record`` may never write to."""
STORED_CONTEXT = "stored"
"""Validation context key: True when reading a version already stored, which checks that
depend on the clock (a literal ``until``) must not refuse: the engine checks it at run time."""


def app_table_refusal(table: str) -> str:
    return (
        f"{table!r} is the application's own table (accounts, messages, triggers): record "
        "writes to the records table or a table of yours, never to it"
    )


class RecordAction(ActionBase):
    type: Literal["record"]
    table: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_.-]{3,255}$",
        description="A DynamoDB table name; default: the project's records table. Never the "
        "application's own table.",
    )
    item: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.-]{0,254}$")], Text] = Field(
        min_length=1, description="Attribute name -> text template."
    )

    @field_validator("table")
    @classmethod
    def _not_the_app_table(cls, table: str | None, info: ValidationInfo) -> str | None:
        """Refused when the caller knows the app table (``APP_TABLE_CONTEXT``); the processor
        refuses it again at run time, when it always knows."""
        if table is not None and table == (info.context or {}).get(APP_TABLE_CONTEXT):
            raise ValueError(app_table_refusal(table))
        return table


class HttpRequestAction(ActionBase):
    type: Literal["http_request"]
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] = "GET"
    url: Text = Field(
        min_length=1,
        description="http:// or https:// written out; a %var% in the path, query or fragment "
        "is percent-encoded as one component; one in the host may hold host-name characters "
        "only.",
    )
    query: dict[Annotated[str, Field(min_length=1, max_length=256)], Text] = Field(
        default_factory=dict,
        description="Name -> text template; encoded and appended to the url's query.",
    )
    headers: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")], Text] = Field(
        default_factory=dict
    )
    body: Text | None = Field(None, description="A text template, sent as it renders.")
    json_body: JsonValue = Field(
        None,
        alias="json",
        description="Any value whose strings are templates; sent as JSON "
        "(Content-Type: application/json unless headers set one). Not with 'body'.",
    )
    timeout_seconds: float = Field(5.0, gt=0, le=10)
    into: VariableName | None = Field(
        None,
        description="Prefix for the response: %into.status%, %into.body%, %into.json...%, "
        "%into.headers.<name>%.",
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str, info: ValidationInfo) -> str:
        """Refused here, except in a version stored before the rule (``STORED_CONTEXT``):
        the engine skips that step at run time rather than stop the account's triggers."""
        if not (info.context or {}).get(STORED_CONTEXT):
            parse_url_template(url)  # its UrlTemplateError (a ValueError) names the problem
        return url

    @model_validator(mode="after")
    def _one_body(self) -> Self:
        if self.body is not None and self.json_body is not None:
            raise ValueError("give either 'body' (text) or 'json' (a value), not both")
        return self


EmailAddress = Annotated[Text, Field(min_length=1, max_length=254)]


class SendEmailAction(ActionBase):
    """An e-mail through Amazon SES, from a sender the deployment allows (``EmailSenders``)."""

    type: Literal["send_email"]
    to: EmailAddress | list[EmailAddress] = Field(
        description="One address, or a list of up to 10; each one plain name@domain after "
        "rendering (no display name, no line break)."
    )
    from_: EmailAddress | None = Field(
        None,
        alias="from",
        description="Default: the first address in the deployment's EmailSenders; it must be "
        "one of them, or in one of its domains.",
    )
    reply_to: EmailAddress | None = None
    subject: Text = Field(min_length=1, description="One line; at most 400 characters rendered.")
    text: Text | None = Field(None, description="The plain-text body, rendered as it is.")
    html: Text | None = Field(
        None, description="The HTML body; every variable's value is HTML-escaped."
    )

    @model_validator(mode="after")
    def _a_body(self) -> Self:
        if self.text is None and self.html is None:
            raise ValueError("send_email needs 'text', 'html' or both")
        if isinstance(self.to, list) and not 1 <= len(self.to) <= 10:
            raise ValueError("send_email: 'to' holds 1 to 10 addresses")
        return self

    @property
    def recipients(self) -> list[str]:
        return self.to if isinstance(self.to, list) else [self.to]


BusOrFunction = Annotated[
    str,
    Field(
        pattern=r"^(arn:aws[a-z-]*:[a-z]+:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9:/_.-]{1,200}|"
        r"[A-Za-z0-9_.-]{1,140})$",
        description="A name or an ARN, as written (no variable): it must be among the "
        "deployment's allowed ones.",
    ),
]


class PublishEventAction(ActionBase):
    """An event on an EventBridge bus the deployment names (``EventBusArns``); source
    ``sms-automation``."""

    type: Literal["publish_event"]
    bus: BusOrFunction = Field(description="The bus's name or ARN (one of EventBusArns).")
    detail_type: Text = Field(
        min_length=1, description="The event's detail-type; one line, at most 128 characters."
    )
    detail: dict[str, JsonValue] = Field(
        default_factory=dict,
        description="A JSON object whose strings are templates (each rendered as text).",
    )


class InvokeLambdaAction(ActionBase):
    """A Lambda function the deployment names (``InvokeFunctionArns``), with a JSON payload."""

    type: Literal["invoke_lambda"]
    function: BusOrFunction = Field(description="The function's name or ARN.")
    invocation: Literal["sync", "async"] = Field(
        "sync", description="sync: wait for the result; async: queue the event, do not wait."
    )
    payload: JsonValue = Field(
        default_factory=dict,
        description="Any JSON value whose strings are templates (each rendered as text).",
    )
    timeout_seconds: float = Field(10.0, gt=0, le=30, description="sync only: how long to wait.")
    into: VariableName | None = Field(
        None,
        description="sync only: %into.result% (the function's JSON answer), %into.status%, "
        "%into.error% (its error type, when it failed).",
    )

    @model_validator(mode="after")
    def _into_needs_sync(self) -> Self:
        if self.into is not None and self.invocation == "async":
            raise ValueError("'into' needs invocation: sync (an async call has no result)")
        return self


class SetVariableAction(ActionBase):
    type: Literal["set_variable"]
    name: VariableName
    value: Text


class ExtractAction(ActionBase):
    type: Literal["extract"]
    extract: list[Extraction] = Field(min_length=1)


class IfAction(ActionBase):
    type: Literal["if"]
    condition: Conditions
    then: list[Action] = Field(default_factory=list)
    else_: list[Action] = Field(default_factory=list, alias="else")


class StopAction(ActionBase):
    type: Literal["stop"]


def _duration(text: str) -> str:
    if parse_duration(text) > MAX_WAIT_SECONDS:
        raise ValueError(f"{text!r} is longer than the longest wait, 30 days ('30d')")
    return text


Duration = Annotated[str, Field(description="A whole number and s, m, h or d: '30m', '2h'.")]
DEFAULT_WAIT_TIMEOUT = "24h"


class Reminder(Model):
    after: Duration = Field(description="Sent this long after the wait began, if no answer came.")
    text: Text = Field(min_length=1)

    _check_after = field_validator("after")(_duration)


class ExpectRegex(Model):
    regex: str = Field(description="A valid answer matches this (searched anywhere).")
    case_sensitive: bool = False

    @field_validator("regex")
    @classmethod
    def _safe_regex(cls, pattern: str, info: ValidationInfo) -> str:
        validate_pattern(pattern, info.context, stored_key=STORED_CONTEXT)
        return pattern


def _expect_entry_tag(value: Any) -> str | None:
    if isinstance(value, str):
        return "word"
    if isinstance(value, ExpectRegex) or (isinstance(value, dict) and "regex" in value):
        return "regex"
    return None


ExpectEntry = Annotated[
    Annotated[Text, Tag("word")] | Annotated[ExpectRegex, Tag("regex")],
    Discriminator(
        _expect_entry_tag,
        custom_error_type="invalid_expect_entry",
        custom_error_message="an expect entry is a word or {regex: PATTERN, case_sensitive: ...}",
    ),
]
Expect = Annotated[
    Annotated[list[ExpectEntry], Tag("list")] | Annotated[ExpectRegex, Tag("regex")],
    Discriminator(
        lambda value: "list" if isinstance(value, list) else _expect_entry_tag(value),
        custom_error_type="invalid_expect",
        custom_error_message="expect is a list of words and {regex: PATTERN} entries, "
        "or one {regex: PATTERN}",
    ),
]
"""Valid answers: words and patterns, mixed in a list; or a single pattern."""


def _check_literal_until(until: str) -> None:
    """A literal ``until`` (no variables) past the longest wait from now is refused here; one
    rendered from variables is checked when the wait starts (the engine skips it)."""
    parts = parse_template(until).parts
    literal = [part for part in parts if isinstance(part, str)]
    if len(literal) != len(parts):
        return  # rendered when the wait starts
    text = "".join(literal).strip()
    try:
        deadline = dt.datetime.fromisoformat(text)
    except ValueError:
        return  # not a time: the engine skips the wait and says so
    if beyond_longest_wait(deadline, dt.datetime.now(dt.UTC)):
        raise ValueError(longest_wait_refusal(text))


class WaitForReplyAction(ActionBase):
    """Send ``prompt`` (optional), then wait for the contact's reply; every outcome a branch.

    The actions after this one run once the chosen branch has run (see docs/conversations.md).
    """

    type: Literal["wait_for_reply"]
    to: Text = Field("%From%", description="The contact (default: the sender).")
    from_: Text | None = Field(
        None, alias="from", description="Our number (default: the one that received, %To%)."
    )
    prompt: Text | None = Field(None, description="Sent first; no prompt: just wait.")
    timeout: Duration | None = Field(
        None, description=f"How long to wait (default {DEFAULT_WAIT_TIMEOUT}; at most 30d)."
    )
    until: Text | None = Field(
        None,
        description="An absolute deadline (ISO 8601 after rendering) instead of timeout; at "
        "most 30 days after the wait starts.",
    )
    remind: list[Reminder] = Field(default_factory=list, max_length=5)
    into: VariableName = Field(
        "answer", description="Receives the reply: %answer.body%, %answer.from%, ..."
    )
    expect: Expect | None = Field(
        None,
        description="Valid answers: a list of words (any case) and {regex: ...} entries, a reply "
        "matching any of them is valid; or one {regex: ...}; absent: any reply.",
    )
    reprompt: Text | None = Field(None, description="Sent after an answer that is not valid.")
    max_attempts: int = Field(3, ge=1, le=10, description="Answers allowed before giving up.")
    also_run_triggers: bool = Field(
        False, description="Also run the reply through the triggers (default: consumed)."
    )
    on_reply: list[Action] = Field(default_factory=list)
    on_timeout: list[Action] = Field(default_factory=list)
    on_delivery_failure: list[Action] = Field(default_factory=list)
    on_no_valid_answer: list[Action] = Field(default_factory=list)

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: str | None) -> str | None:
        return None if value is None else _duration(value)

    @field_validator("expect")
    @classmethod
    def _words(
        cls, expect: list[str | ExpectRegex] | ExpectRegex | None
    ) -> list[str | ExpectRegex] | ExpectRegex | None:
        if isinstance(expect, list) and (
            not expect or any(isinstance(w, str) and not w.strip() for w in expect)
        ):
            raise ValueError("expect needs at least one entry, and no empty words")
        return expect

    @property
    def expected_words(self) -> tuple[str, ...]:
        entries = self.expect if isinstance(self.expect, list) else []
        return tuple(entry for entry in entries if isinstance(entry, str))

    @property
    def expected_patterns(self) -> tuple[ExpectRegex, ...]:
        if isinstance(self.expect, ExpectRegex):
            return (self.expect,)
        entries = self.expect or []
        return tuple(entry for entry in entries if isinstance(entry, ExpectRegex))

    @model_validator(mode="after")
    def _deadline_and_answers(self, info: ValidationInfo) -> Self:
        if self.timeout is not None and self.until is not None:
            raise ValueError("set 'timeout' or 'until', not both")
        if self.until is not None and not (info.context or {}).get(STORED_CONTEXT):
            _check_literal_until(self.until)
        if self.reprompt is not None and self.expect is None:
            raise ValueError("'reprompt' needs 'expect': without it every reply is valid")
        limit = parse_duration(self.timeout or DEFAULT_WAIT_TIMEOUT) if self.until is None else None
        for reminder in self.remind:
            if limit is not None and parse_duration(reminder.after) >= limit:
                raise ValueError(
                    f"the reminder after {reminder.after} comes at or after the timeout"
                )
        return self

    @property
    def branches(self) -> dict[str, list[Action]]:
        return {
            "on_reply": self.on_reply,
            "on_timeout": self.on_timeout,
            "on_delivery_failure": self.on_delivery_failure,
            "on_no_valid_answer": self.on_no_valid_answer,
        }


Action = Annotated[
    SendSmsAction
    | MakeCallAction
    | RecordAction
    | HttpRequestAction
    | SendEmailAction
    | PublishEventAction
    | InvokeLambdaAction
    | SetVariableAction
    | ExtractAction
    | IfAction
    | StopAction
    | WaitForReplyAction,
    Field(discriminator="type"),
]

ACTION_TYPES = (
    "send_sms",
    "make_call",
    "record",
    "http_request",
    "send_email",
    "publish_event",
    "invoke_lambda",
    "set_variable",
    "extract",
    "if",
    "stop",
    "wait_for_reply",
)


# ---------------------------------------------------------------------------------------------
# Triggers
# ---------------------------------------------------------------------------------------------


class Trigger(Model):
    name: TriggerName
    description: str = ""
    enabled: bool = True
    when: Conditions | None = Field(None, description="Absent: the trigger matches every message.")
    extract: list[Extraction] = Field(
        default_factory=list, description="Runs before 'when', so conditions can test the result."
    )
    actions: list[Action] = Field(default_factory=list)
    continue_: bool = Field(
        False,
        alias="continue",
        description="After this trigger runs, go on to the next ones (default: stop here).",
    )
    on_opt_out: bool = Field(
        False,
        description="Also consider this trigger for an opt-out keyword (STOP, UNSUBSCRIBE, ...);"
        " by default an opt-out runs no trigger (docs/triggers.md, Opt-out).",
    )

    @model_validator(mode="after")
    def _unique_step_ids(self) -> Self:
        _unique_step_ids(self.actions)
        return self


def _walk_actions(actions: list[Action]) -> list[Action]:
    found: list[Action] = []
    for action in actions:
        found.append(action)
        if isinstance(action, IfAction):
            found.extend(_walk_actions(action.then))
            found.extend(_walk_actions(action.else_))
        elif isinstance(action, WaitForReplyAction):
            for branch in action.branches.values():
                found.extend(_walk_actions(branch))
    return found


def _unique_step_ids(actions: list[Action]) -> None:
    seen: set[str] = set()
    for action in _walk_actions(actions):
        if action.id is None:
            continue
        if action.id in seen:
            raise ValueError(f"two actions have the id {action.id!r}; step ids must be unique")
        seen.add(action.id)


# ---------------------------------------------------------------------------------------------
# Automations: named action lists started from outside an SMS (API, EventBridge, schedule, CLI)
# ---------------------------------------------------------------------------------------------

InputType = Literal["text", "number", "integer", "boolean", "phone", "email", "date", "datetime"]
RESERVED_INPUT_NAMES = frozenset(
    name.casefold()
    for name in (
        *("From", "To", "contact", "our_number", "run_id", "automation"),
        *("now", "date", "time", "account", "trigger"),
    )
)
# A contact or one of our numbers (the same check as a ``phone`` input).
Address = Annotated[str, Field(pattern=ADDRESS_PATTERN, description="E.164, e.g. +15005550006")]
_SCHEDULE_EXPRESSION = re.compile(
    r"^(rate\([1-9][0-9]{0,5} (minute|minutes|hour|hours|day|days)\)"
    r"|cron\(\S+( \S+){5}\)"
    r"|at\(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\))$"
)


def _schedule_expression(expression: str) -> str:
    if not _SCHEDULE_EXPRESSION.fullmatch(expression):
        raise ValueError(
            f"{expression[:60]!r} is not an EventBridge Scheduler expression: use "
            "'rate(1 day)', 'cron(0 8 * * ? *)' (six fields) or 'at(2026-12-24T09:00:00)'"
        )
    return expression


ScheduleExpression = Annotated[
    str,
    AfterValidator(_schedule_expression),
    Field(
        description="EventBridge Scheduler: 'rate(1 day)', 'cron(0 8 * * ? *)' or "
        "'at(2026-12-24T09:00:00)'."
    ),
]


class AutomationInput(Model):
    """A variable the caller supplies when starting the automation (``%name%`` in templates)."""

    name: VariableName
    type: InputType = "text"
    required: bool = False
    default: Text | None = Field(None, description="The value when the caller gives none.")
    description: str = ""

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, name: str) -> str:
        if name.casefold() in RESERVED_INPUT_NAMES:
            raise ValueError(f"{name!r} is a built-in variable of every run; choose another name")
        return name

    @model_validator(mode="after")
    def _default_or_required(self) -> Self:
        if self.required and self.default is not None:
            raise ValueError(f"input {self.name!r} is required, so a 'default' is never used")
        if self.default is not None:
            try:
                coerce_input(self.type, self.default)
            except InvalidInput as error:
                raise ValueError(f"the default of {self.name!r}: {error}") from None
        return self


def _broadcast_key(key: str) -> str:
    problem = uploads.key_problem(key)
    if problem is not None:
        raise ValueError(f"{key[:80]!r} is not a broadcast file: {problem}")
    return key


BroadcastKey = Annotated[
    str,
    Field(
        pattern=uploads.UPLOAD_KEY_PATTERN.pattern,
        description="A CSV or JSON Lines file in the broadcasts bucket, under the account's "
        "uploads/{account}/ (docs/broadcasts.md).",
    ),
    AfterValidator(_broadcast_key),
]


class Schedule(Model):
    """Start the automation on a schedule (EventBridge Scheduler): for one contact (``to``), or
    for every row of a file (``broadcast``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": ["to"], "not": {"required": ["broadcast"]}},
                {
                    "required": ["broadcast"],
                    "not": {
                        "anyOf": [
                            {"required": ["to"]},
                            {"required": ["from"]},
                            {"required": ["variables"]},
                        ]
                    },
                },
            ]
        }
    )

    expression: ScheduleExpression
    timezone: str | None = Field(
        None, description="IANA zone for cron/at (default: the account's, else UTC)."
    )
    to: Address | None = Field(None, description="The contact (or give 'broadcast').")
    broadcast: BroadcastKey | None = Field(
        None, description="Start a broadcast of this file instead of one contact's run."
    )
    from_: Address | None = Field(None, alias="from", description="Default: the automation's.")
    variables: dict[VariableName, Text] = Field(default_factory=dict)
    enabled: bool = True

    _check_zone = field_validator("timezone")(_check_timezone)

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.to is None) == (self.broadcast is None):
            raise ValueError(
                "give exactly one of 'to' (one contact) and 'broadcast' (a file of contacts)"
            )
        if self.broadcast is not None and (self.from_ is not None or self.variables):
            raise ValueError(
                "a broadcast's 'from' and variables come from its file (its columns): "
                "remove 'from' and 'variables' from this schedule"
            )
        return self

    @property
    def audience(self) -> str:
        """Whom it starts the automation for: the contact, or every row of the file."""
        return self.to if self.to is not None else f"every row of {self.broadcast}"


class Automation(Model):
    """A named list of actions started for one contact; ``%From%`` is the contact and ``%To%``
    our number, as if the contact had written to us, so every action's defaults still fit."""

    name: TriggerName
    description: str = ""
    enabled: bool = True
    from_: Address | None = Field(
        None, alias="from", description="Our number (default for every start; a start may set it)."
    )
    inputs: list[AutomationInput] = Field(default_factory=list, max_length=50)
    actions: list[Action] = Field(min_length=1)
    schedules: list[Schedule] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _unique_step_ids(self.actions)
        names: set[str] = set()
        for item in self.inputs:
            if item.name.casefold() in names:
                raise ValueError(f"two inputs are named {item.name!r}")
            names.add(item.name.casefold())
        for position, schedule in enumerate(self.schedules, start=1):
            if schedule.broadcast is not None:
                continue  # each row is checked as a start when the broadcast validates its file
            if schedule.from_ is None and self.from_ is None:
                raise ValueError(
                    f"schedule {position} has no 'from' and the automation has none: "
                    "set one of them to our number"
                )
            for name, value in schedule.variables.items():
                declared = self.input(name)
                if declared is None:
                    raise ValueError(f"schedule {position} sets {name!r}, which is not an input")
                try:
                    coerce_input(declared.type, value)
                except InvalidInput as error:
                    raise ValueError(f"schedule {position}, {name!r}: {error}") from None
            given = {name.casefold() for name in schedule.variables}
            for item in self.inputs:
                if item.required and item.name.casefold() not in given:
                    raise ValueError(f"schedule {position} does not set the required {item.name!r}")
        return self

    def input(self, name: str) -> AutomationInput | None:
        folded = name.casefold()
        return next((item for item in self.inputs if item.name.casefold() == folded), None)


class TriggerSet(Model):
    """One account's trigger file: its triggers and its automations."""

    model_config = ConfigDict(title="Trigger file")

    version: Literal[1]
    triggers: list[Trigger] = Field(default_factory=list)
    automations: list[Automation] = Field(default_factory=list)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_validated_patterns(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        """The patterns validation compiled live as long as the parsed file: an engine built
        from it shares them instead of compiling them again (``patterns.keep_alive``)."""
        with collecting_patterns() as held:
            trigger_set = handler(data)
        keep_alive(trigger_set, held)
        return trigger_set

    @model_validator(mode="after")
    def _unique_names(self) -> Self:
        names: dict[str, list[str]] = {
            "trigger": [trigger.name for trigger in self.triggers],
            "automation": [automation.name for automation in self.automations],
        }
        for kind, named in names.items():
            seen: dict[str, int] = {}
            for position, name in enumerate(named, start=1):
                folded = name.casefold()
                if folded in seen:
                    raise ValueError(
                        f"{kind}s {seen[folded]} and {position} are both named {name!r}; "
                        f"{kind} names must be unique"
                    )
                seen[folded] = position
        return self

    def automation(self, name: str) -> Automation | None:
        """The automation called ``name`` (names compare without case)."""
        folded = name.casefold()
        return next((a for a in self.automations if a.name.casefold() == folded), None)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a trigger file (a fresh copy each call; generating it is slow)."""
    return copy.deepcopy(_json_schema())


@functools.cache
def _json_schema() -> dict[str, Any]:
    schema = TriggerSet.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
