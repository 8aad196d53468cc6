"""Fixtures shared by the integration tests."""

from tests.support.conversation_world import world

__all__ = ["world"]
