"""Pure trigger logic: does a state meet a rule's condition, and does it clear a firing alert."""

from __future__ import annotations

from hub.config.models.alerts import AlertRule
from hub.core import STATE_UNAVAILABLE, State

__all__ = ["clears", "describe", "is_met"]


def _number(state: State | None) -> float | None:
    if state is None:
        return None
    try:
        return float(state.state)
    except ValueError:
        return None


def is_met(rule: AlertRule, state: State | None) -> bool | None:
    """True or False, or None when the state says nothing (a numeric rule over `unavailable`)."""
    if rule.above is not None or rule.below is not None:
        value = _number(state)
        if value is None:
            return None
        return (rule.above is not None and value > rule.above) or (rule.below is not None and value < rule.below)
    if state is None:
        return None
    if rule.state is not None:
        return state.state == rule.state
    if rule.not_state is not None:
        return state.state != rule.not_state
    if rule.unavailable:
        return state.state == STATE_UNAVAILABLE
    return None


def clears(rule: AlertRule, state: State | None) -> bool:
    """Whether a firing alert clears on this state; numeric rules clear only past their hysteresis bound."""
    value = _number(state)
    if rule.above is not None:
        if value is None:
            return False
        return value < rule.clear_below if rule.clear_below is not None else value <= rule.above
    if rule.below is not None:
        if value is None:
            return False
        return value > rule.clear_above if rule.clear_above is not None else value >= rule.below
    return is_met(rule, state) is False


def describe(rule: AlertRule) -> str:
    """A short human description of the trigger, for the alert entity's attributes."""
    if rule.above is not None:
        return f"above {rule.above:g}"
    if rule.below is not None:
        return f"below {rule.below:g}"
    if rule.state is not None:
        return f"state is {rule.state}"
    if rule.not_state is not None:
        return f"state is not {rule.not_state}"
    if rule.unavailable:
        return "unavailable"
    assert rule.no_update_for is not None
    return f"no update for {rule.no_update_for.total_seconds():g}s"
