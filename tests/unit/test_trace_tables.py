"""How `size --trace` reads the analytic answer against the replay-checked one."""

from __future__ import annotations

from pdplan.report.trace_tables import _gap_text


def test_the_gap_is_read_for_the_user() -> None:
    assert _gap_text((0, 0)) == "agrees."
    one = _gap_text((-1, 0))
    assert one.startswith("is off by -1 prefill, +0 decode") and "one random draw" in one
    assert _gap_text((3, -1)) == "is off by +3 prefill, -1 decode."
