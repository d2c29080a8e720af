"""The interpolation rules, one by one: only `{name}` is replaced, `{{name}}` escapes, all else is literal."""

from __future__ import annotations

import pytest

from gravixlayer_notebook._interpolate import interpolate

NS = {"name": "Ada", "n": 3, "items": [1, 2], "_private": "p", "x1": "X"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello {name}", "Hello Ada"),
        ("{n}{n}", "33"),
        ("{items}", "[1, 2]"),
        ("{_private} {x1}", "p X"),
        ("{{name}}", "{name}"),  # the escape
        ("{{name}", "{Ada"),  # a lone {{ is literal; the {name} after it is a token
        ("{{{name}}}", "{{name}}"),
        ("{missing}", "{missing}"),  # unbound: left as written
        ("{ name }", "{ name }"),
        ("{1}", "{1}"),
        ("{name.upper}", "{name.upper}"),
        ("{In[3]}", "{In[3]}"),  # no In in this namespace: left as written
        ("{items[0]}", "{items[0]}"),  # only In/Out/Err are indexed
        ("{name!r}", "{name!r}"),
        ("{name:>10}", "{name:>10}"),
        ('{"a": {"b": 1}}', '{"a": {"b": 1}}'),
        ("f'{x + 1}'", "f'{x + 1}'"),
        ("function() { return {a: 1}; }", "function() { return {a: 1}; }"),
        ("{{ jinja }}", "{{ jinja }}"),
        ("}} {{", "}} {{"),
        ("unbalanced { and }", "unbalanced { and }"),
        ("", ""),
    ],
)
def test_rules(text: str, expected: str) -> None:
    assert interpolate(text, NS)[0] == expected


def test_reports_the_names_used_once_each() -> None:
    assert interpolate("{name} {n} {name} {{n}} {missing}", NS)[1] == ["name", "n"]


def test_values_are_not_interpolated_again() -> None:
    assert interpolate("{a}", {"a": "{b}", "b": "no"})[0] == "{b}"


def test_cell_history_tokens() -> None:
    ns = {"In": ["", "x = 1", "1 / 0", "x + 1"], "Out": {3: 2}, "Err": {2: "ZeroDivisionError: division by zero"}}
    text = "{In[2]} | {Out[3]} | {Err[2]} | {In[-1]} | {Out[1]} | {Err[9]} | {{In[2]}}"
    assert interpolate(text, ns)[0] == (
        "1 / 0 | 2 | ZeroDivisionError: division by zero | x + 1 | {Out[1]} | {Err[9]} | {In[2]}"
    )
    assert interpolate("{Out[-1]}", ns)[0] == "2"
