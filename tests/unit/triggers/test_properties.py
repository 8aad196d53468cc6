"""Properties that hold for any input: rendering never raises, the engine never crashes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sms_automation.triggers import Engine
from sms_automation.triggers.variables import render_text
from tests.unit.triggers.builders import ACCOUNT, NOW, message, trigger_set

values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


@given(
    source=st.text(),
    variables=st.dictionaries(st.from_regex(r"[A-Za-z_]\w{0,8}", fullmatch=True), values),
)
def test_render_never_raises_for_any_text(source: str, variables: dict[str, object]) -> None:
    text, unknown = render_text(source, variables)  # type: ignore[arg-type]
    assert isinstance(text, str)
    assert all(isinstance(name, str) for name in unknown)


@given(source=st.text(alphabet=st.characters(blacklist_characters="%")))
def test_render_without_percent_is_the_identity(source: str) -> None:
    assert render_text(source, {}) == (source, [])


ENGINE = Engine(
    trigger_set(
        {
            "name": "numbers",
            "extract": [{"json_path": "$.a[0].b", "into": "b"}, {"regex": r"(?P<n>\d+)"}],
            "when": {
                "any": [
                    {"field": "n", "greater_than": 5},
                    {"field": "Body", "is_valid_email": True},
                ]
            },
            "actions": [{"type": "make_call", "to": "+1555", "say": {"text": "%Body% %b%"}}],
            "continue": True,
        },
        {
            "name": "echo",
            "when": {"field": "Body", "is_after_date": "2020-01-01"},
            "actions": [{"type": "send_sms", "body": "%Body%"}],
        },
    )
)


@settings(max_examples=200)
@given(body=st.text(max_size=500))
def test_engine_never_crashes_on_any_body(body: str) -> None:
    evaluation = ENGINE.dry_run(message(Body=body), now=NOW, account=ACCOUNT)
    assert set(evaluation.matched) <= {"numbers", "echo"}
