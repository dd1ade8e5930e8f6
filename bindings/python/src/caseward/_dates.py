"""How a date crosses the binding from Python: a ``datetime.date`` becomes ``YYYY-MM-DD`` text,
which the Rust core parses (the generated module calls :func:`to_text`; see
``bindings/uniffi.toml``)."""

import datetime


def to_text(value: object) -> str:
    """``value`` as ``YYYY-MM-DD``.

    Only a ``datetime.date`` is taken. Text is refused rather than parsed here (use
    :func:`caseward.parse_date`, which gives the core's ``InvalidInput`` for a bad date), and so
    is a ``datetime.datetime``: its day depends on its time zone, so pass ``.date()`` of the
    right one. The error names the type, never the value.
    """
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        raise TypeError(f"expected a datetime.date, got {type(value).__name__}")
    return value.isoformat()
