from __future__ import annotations
import __future__

import pdplan


def test_all_lists_exactly_the_public_names() -> None:
    public = {
        name
        for name in dir(pdplan)
        if not name.startswith("_")
        and not isinstance(getattr(pdplan, name), (type(pdplan), __future__._Feature))
    }
    assert set(pdplan.__all__) == public
    assert pdplan.__all__ == sorted(pdplan.__all__, key=lambda n: (not n.isupper(), n))
