"""A parser for the subset of DQDL (AWS Glue's Data Quality Definition Language) that the local
runtime evaluates, written from DQDL's published grammar (awslabs/dqdl).

    Rules = [
        RowCount > 0,
        ColumnExists "email",
        Completeness "email" >= 0.95,
        IsUnique "email",
        RowCount between avg(last(3)) * 0.5 and avg(last(3)) * 2,
        (IsComplete "user") and (IsComplete "timestamp")
    ]

A rule is a rule type (case-sensitive), its column names (double-quoted, or bare), and a
condition for the rule types that measure a number: ``= != > >= < <=`` with a number expression,
``[not] between A and B`` (between excludes its ends, not between includes them), or ``[not] in
[...]``; the rule types that answer yes or no take none. Number expressions are numbers (``12``,
``0.5``, ``- 1``), ``+ - * /``, parentheses, ``abs(x)`` and the dynamic functions over the
metric's earlier values: ``last(k)``, the k most recent, aggregated by ``avg``, ``median``,
``min``, ``max``, ``sum`` or ``std``, or one of them, ``index(last(k), i)`` (i from 0). Composite
rules join parenthesised rules with ``and`` (binding tighter) or ``or``. ``#`` starts a comment.
A rule type the local runtime does not know is an error, never a pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Rule type -> (columns it takes, whether it takes a condition). The local runtime evaluates
# these; DQDL has more (ColumnValues, CustomSql, ...), which are refused by name.
# (-1: one or more.)
RULE_TYPES: dict[str, tuple[int, bool]] = {
    "RowCount": (0, True),
    "ColumnCount": (0, True),
    "ColumnExists": (1, False),
    "IsComplete": (1, False),
    "Completeness": (1, True),
    "IsUnique": (-1, False),
    "Uniqueness": (-1, True),
    "IsPrimaryKey": (-1, False),
}
AGGREGATIONS = ("avg", "median", "min", "max", "sum", "std")
KEYWORDS = frozenset({"between", "in", "not", "and", "or", "AND", "OR"})
COMPARISONS = ("=", "!=", ">=", "<=", ">", "<")

TOKEN = re.compile(r"""
    (?P<space>\s+|\#[^\n]*)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<number>\d+(?:\.\d+)?(?![A-Za-z_.]))
  | (?P<operator>!=|>=|<=|=|>|<|\+|-|\*|/)
  | (?P<punct>[\[\](),])
  | (?P<word>[A-Za-z0-9_.]+)
""", re.VERBOSE)


class DqdlError(ValueError):
    """A ruleset the local runtime cannot evaluate: a syntax error, or a rule type it does not
    know (which would otherwise pass silently)."""


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    at: int


@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class Last:
    """The metric's values in the ``count`` most recent earlier evaluations."""

    count: int


@dataclass(frozen=True)
class Call:
    function: str  # an aggregation of ``values``; index, with ``position``; abs, of ``argument``
    values: Last | None = None
    position: int | None = None
    argument: Expression | None = None


@dataclass(frozen=True)
class Arithmetic:
    operator: str
    left: Expression
    right: Expression


Expression = Number | Call | Arithmetic


@dataclass(frozen=True)
class Condition:
    """``operator`` is a comparison, "between", "not between", "in" or "not in"."""

    operator: str
    operands: tuple[Expression, ...]

    @property
    def is_dynamic(self) -> bool:
        return any(_is_dynamic(operand) for operand in self.operands)


@dataclass(frozen=True)
class Rule:
    rule_type: str
    columns: tuple[str, ...]
    condition: Condition | None
    text: str  # as written, whitespace collapsed: the result's "Rule"


@dataclass(frozen=True)
class Composite:
    operator: str  # "and" or "or"
    parts: tuple[Rule | Composite, ...]
    text: str


@dataclass
class Ruleset:
    rules: list[Rule | Composite] = field(default_factory=list)


def _is_dynamic(expression: Expression) -> bool:
    if isinstance(expression, Call):
        return True
    if isinstance(expression, Arithmetic):
        return _is_dynamic(expression.left) or _is_dynamic(expression.right)
    return False


def tokens(text: str) -> list[Token]:
    found, position = [], 0
    while position < len(text):
        match = TOKEN.match(text, position)
        if match is None:
            raise DqdlError(f"unexpected {text[position]!r} at character {position + 1}")
        if match.lastgroup != "space":
            found.append(Token(match.lastgroup, match.group(), position))
        position = match.end()
    return found


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokens(text)
        self.position = 0

    # --- reading tokens --------------------------------------------------------------------------

    def peek(self, offset: int = 0) -> Token | None:
        index = self.position + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def next(self) -> Token:
        token = self.peek()
        if token is None:
            raise DqdlError("the ruleset ends too early")
        self.position += 1
        return token

    def at(self, text: str) -> bool:
        token = self.peek()
        return token is not None and token.kind != "string" and token.text == text

    def expect(self, text: str) -> Token:
        if self.peek() is None:
            raise DqdlError(f"expected {text!r}, but the ruleset ends")
        token = self.next()
        if token.kind == "string" or token.text != text:
            raise DqdlError(f"expected {text!r} at character {token.at + 1}, found "
                            f"{token.text!r}")
        return token

    def source(self, start: Token, end: Token) -> str:
        return " ".join(self.text[start.at:end.at + len(end.text)].split())

    # --- the grammar -----------------------------------------------------------------------------

    def ruleset(self) -> Ruleset:
        self.expect("Rules")
        self.expect("=")
        self.expect("[")
        rules = [self.rule()]
        while self.at(","):
            self.next()
            rules.append(self.rule())
        self.expect("]")
        extra = self.peek()
        if extra is not None:
            raise DqdlError(f"unexpected {extra.text!r} at character {extra.at + 1} after the "
                            "rules (the local runtime reads the Rules section only)")
        return Ruleset(rules)

    def rule(self) -> Rule | Composite:
        """A rule, or parenthesised rules joined by or; each side of an or may be an and."""
        if not self.at("("):
            return self.simple_rule()
        alternatives = [self.conjunction()]
        while self.at("or") or self.at("OR"):
            self.next()
            alternatives.append(self.conjunction())
        return alternatives[0] if len(alternatives) == 1 else _composite("or", alternatives)

    def conjunction(self) -> Rule | Composite:
        parts = [self.parenthesised()]
        while self.at("and") or self.at("AND"):
            self.next()
            parts.append(self.parenthesised())
        return parts[0] if len(parts) == 1 else _composite("and", parts)

    def parenthesised(self) -> Rule | Composite:
        self.expect("(")
        inner = self.rule()
        self.expect(")")
        return inner


    def simple_rule(self) -> Rule:
        start = self.next()
        if start.kind != "word":
            raise DqdlError(f"expected a rule type at character {start.at + 1}, found "
                            f"{start.text!r}")
        if start.text not in RULE_TYPES:
            raise DqdlError(f"rule type {start.text!r} is not one the local runtime evaluates "
                            f"({', '.join(RULE_TYPES)}); on AWS, Glue Data Quality knows more")
        columns_taken, has_condition = RULE_TYPES[start.text]
        columns = []
        while self.peek() is not None and (
                self.peek().kind == "string"
                or (self.peek().kind == "word" and self.peek().text not in KEYWORDS)):
            token = self.next()
            columns.append(_unquote(token.text) if token.kind == "string" else token.text)
        if columns_taken >= 0 and len(columns) != columns_taken:
            raise DqdlError(f"{start.text} takes {columns_taken} quoted column name(s), "
                            f"not {len(columns)}")
        if columns_taken < 0 and not columns:
            raise DqdlError(f"{start.text} takes one or more quoted column names")
        if has_condition:
            condition = self.condition()
        elif self.peek() is not None and self.peek().text in (*COMPARISONS, "between", "in",
                                                               "not"):
            raise DqdlError(f"{start.text} answers yes or no and takes no condition")
        else:
            condition = None
        return Rule(start.text, tuple(columns), condition,
                    self.source(start, self.tokens[self.position - 1]))

    def condition(self) -> Condition:
        token = self.peek()
        if token is None:
            raise DqdlError("the ruleset ends where a condition should be")
        negated = False
        if self.at("not"):
            self.next()
            negated = True
        if self.at("between"):
            self.next()
            low = self.expression()
            self.expect("and")
            return Condition("not between" if negated else "between",
                             (low, self.expression()))
        if self.at("in"):
            self.next()
            self.expect("[")
            values = [self.expression()]
            while self.at(","):
                self.next()
                values.append(self.expression())
            self.expect("]")
            return Condition("not in" if negated else "in", tuple(values))
        if negated or token.text not in COMPARISONS:
            raise DqdlError(f"expected a condition (= != > >= < <= between in) at character "
                            f"{token.at + 1}, found {token.text!r}")
        return Condition(self.next().text, (self.expression(),))

    def expression(self) -> Expression:
        left = self.term()
        while self.at("+") or self.at("-"):
            left = Arithmetic(self.next().text, left, self.term())
        return left

    def term(self) -> Expression:
        left = self.factor()
        while self.at("*") or self.at("/"):
            left = Arithmetic(self.next().text, left, self.factor())
        return left

    def factor(self) -> Expression:
        token = self.next()
        if token.kind == "number":
            return Number(float(token.text))
        if token.text == "-":  # a negative number, or minus an expression
            return Arithmetic("-", Number(0.0), self.factor())
        if token.text == "(":
            inner = self.expression()
            self.expect(")")
            return inner
        if token.text in AGGREGATIONS:
            self.expect("(")
            values = self.last()
            self.expect(")")
            return Call(token.text, values)
        if token.text == "abs":
            self.expect("(")
            argument = self.expression()
            self.expect(")")
            return Call("abs", argument=argument)
        if token.text == "last":
            raise DqdlError("last(k) is a list of values: aggregate it (avg(last(k)), ...) or "
                            "take one of them (index(last(k), i))")
        if token.text == "index":
            self.expect("(")
            values = self.last()
            self.expect(",")
            position = self.next()
            if position.kind != "number" or not position.text.isdigit():
                raise DqdlError(f"index(last(k), i) takes a whole number i, not "
                                f"{position.text!r}")
            self.expect(")")
            return Call("index", values, int(position.text))
        raise DqdlError(f"expected a number or a dynamic function at character {token.at + 1}, "
                        f"found {token.text!r}")

    def last(self) -> Last:
        self.expect("last")
        self.expect("(")
        count = self.next()
        if count.kind != "number" or not count.text.isdigit() or int(count.text) < 1:
            raise DqdlError(f"last(k) takes a whole number k of at least 1, not {count.text!r}")
        self.expect(")")
        return Last(int(count.text))


def _composite(operator: str, parts: list[Rule | Composite]) -> Composite:
    """As Glue prints one: (A) AND (B)."""
    return Composite(operator, tuple(parts),
                     f" {operator.upper()} ".join(f"({part.text})" for part in parts))


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def parse(text: str) -> Ruleset:
    """The ruleset, or DqdlError naming what is wrong and where."""
    return _Parser(text).ruleset()
