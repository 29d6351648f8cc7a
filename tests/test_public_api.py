"""The package's lazy re-exports: every name in `__all__` resolves, and nothing is listed twice or missed."""

from __future__ import annotations

import rlvr_eval


def test_all_matches_the_lazy_exports() -> None:
    assert set(rlvr_eval.__all__) - {"__version__"} == set(rlvr_eval._EXPORTS)
    for name in rlvr_eval.__all__:
        assert getattr(rlvr_eval, name) is not None


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        rlvr_eval.no_such_name  # noqa: B018
    except AttributeError as err:
        assert "no_such_name" in str(err)
    else:
        raise AssertionError("expected AttributeError")
