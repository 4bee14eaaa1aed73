"""The ``calculate`` tool: arithmetic on a restricted alphabet, printed as ``str(round(float(x), 2))``.

The real tool ``eval``s the expression; this walks its syntax tree instead, with the same operators, so
results and error texts (``Error: division by zero``, ``Error: invalid syntax (<string>, line 1)``) match
without executing anything. One deliberate difference: a power whose result would exceed ``MAX_DIGITS``
digits is refused rather than computed.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

ALLOWED = frozenset("0123456789+-*/(). ")
MAX_DIGITS = 10_000

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}


def calculate(expression: str) -> str:
    if not all(char in ALLOWED for char in expression):
        return "Error: invalid characters in expression"
    try:
        # eval() ignores leading blanks; the parser does not.
        tree = ast.parse(expression.lstrip(" \t"), filename="<string>", mode="eval")
        return str(round(float(_evaluate(tree.body)), 2))
    except Exception as error:
        return f"Error: {error}"


def _evaluate(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Tuple):
        return tuple(_evaluate(element) for element in node.elts)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.Call):
        raise TypeError(f"'{type(_evaluate(node.func)).__name__}' object is not callable")
    raise ValueError(f"unsupported expression: {ast.dump(node)}")


def _check_power(base: Any, exponent: Any) -> None:
    if not isinstance(base, int | float) or not isinstance(exponent, int | float):
        return
    if abs(base) > 1 and exponent > 0 and exponent * math.log10(abs(base)) > MAX_DIGITS:
        raise OverflowError("result too large")
