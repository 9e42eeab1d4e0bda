"""ISC collection filters: a real grammar, a version-aware checker, an evaluator and a SQL translation.

Public use (the collection's unit tests rely on it)::

    tree = parse('completionStatus isnull and type in ("IDENTITY_REFRESH")', "v2025")
    evaluate(tree, task_status_dict) -> bool
    quote('say "hi"') -> '"say \\"hi\\""'
"""

from __future__ import annotations

import dataclasses
import functools

from lark import Lark, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from isc_emulator import versions

GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr | or_expr "or" and_expr -> or_
?and_expr: not_expr | and_expr "and" not_expr -> and_
?not_expr: atom | "not" not_expr -> not_
?atom: comparison | "(" or_expr ")"
comparison: FIELD BINOP value -> binary
          | FIELD "in" "(" value ("," value)* ")" -> in_
          | FIELD UNOP -> unary
?value: STRING | BARE
BINOP: "eq" | "ne" | "gt" | "ge" | "lt" | "le" | "co" | "sw"
UNOP: "isnull" | "pr"
FIELD: /[A-Za-z_][A-Za-z0-9_.]*/
STRING: /"(?:[^"\\]|\\.)*"/
BARE: /[^\s(),"]+/
%import common.WS
%ignore WS
"""

TOO_DEEP = "Invalid filter expression: nested too deeply"
OPERATOR_WORDS = ("eq", "ne", "gt", "ge", "lt", "le", "co", "sw", "in", "isnull", "pr", "and", "or", "not")


class FilterError(ValueError):
    """A filter the service would refuse with 400; the message names the problem."""


@dataclasses.dataclass(frozen=True)
class Comparison:
    field: str
    op: str
    values: tuple = ()


@dataclasses.dataclass(frozen=True)
class And:
    operands: tuple


@dataclasses.dataclass(frozen=True)
class Or:
    operands: tuple


@dataclasses.dataclass(frozen=True)
class Not:
    operand: object


def quote(value):
    """Quote a string the way the grammar reads it back unchanged."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(token):
    if token.type != "STRING":
        raise FilterError("Invalid filter value %s at position %d: string values must be in double quotes" % (token, token.start_pos + 1))
    body = token[1:-1]
    out = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\":
            escaped = body[index + 1]
            if escaped not in '"\\':
                raise FilterError('Invalid escape \\%s at position %d: only \\" and \\\\ are allowed' % (escaped, token.start_pos + index + 2))
            out.append(escaped)
            index += 2
        else:
            out.append(char)
            index += 1
    return "".join(out)


def _flatten(kind, left, right):
    operands = []
    for item in (left, right):
        operands.extend(item.operands if isinstance(item, kind) else (item,))
    return kind(tuple(operands))


@v_args(inline=True)
class _ToAst(Transformer):
    def binary(self, field, op, value):
        return Comparison(str(field), str(op), (_unquote(value),))

    def in_(self, field, *values):
        return Comparison(str(field), "in", tuple(_unquote(value) for value in values))

    def unary(self, field, op):
        return Comparison(str(field), str(op))

    def and_(self, left, right):
        return _flatten(And, left, right)

    def or_(self, left, right):
        return _flatten(Or, left, right)

    def not_(self, operand):
        return Not(operand)


@functools.lru_cache(maxsize=1)
def _parser():
    return Lark(GRAMMAR, parser="lalr", lexer="contextual", propagate_positions=False)


def _describe(error, expression):
    position = getattr(error, "column", None)
    if isinstance(error, UnexpectedEOF) or (isinstance(error, UnexpectedToken) and error.token.type == "$END"):
        return "Invalid filter expression: unexpected end of %r" % (expression,)
    offset = getattr(error, "pos_in_stream", None)
    word = ""
    if offset is not None:
        word = expression[offset:].split(None, 1)[0] if expression[offset:].strip() else ""
        word = word.split("(")[0] or word[:1]
    hint = ""
    if word.lower() in OPERATOR_WORDS and word != word.lower():
        hint = "; operators are lower case (%r, not %r)" % (word.lower(), word)
    return "Invalid filter expression at position %s: unexpected %r%s" % (position, word, hint)


def _check(node, version):
    if isinstance(node, Comparison):
        operators = version.operators(node.field)
        if operators is None:
            raise FilterError("Unsupported filter field %r; %s supports %s" % (node.field, version.name, ", ".join(version.filter_fields)))
        if node.op not in operators:
            raise FilterError("Operator %r is not supported for field %r in %s; supported: %s" % (node.op, node.field, version.name, ", ".join(operators)))
    elif isinstance(node, Not):
        _check(node.operand, version)
    else:
        for operand in node.operands:
            _check(operand, version)


def parse(expression, version="v2026"):
    """Parse and check a filter expression for an API version; FilterError names what is wrong."""
    api_version = versions.get(version)
    if not expression or not expression.strip():
        raise FilterError("Invalid filter expression: empty")
    try:
        tree = _parser().parse(expression)
        ast = _ToAst().transform(tree)
        _check(ast, api_version)
    except VisitError as error:
        if isinstance(error.orig_exc, FilterError):
            raise error.orig_exc from None
        if isinstance(error.orig_exc, RecursionError):
            raise FilterError(TOO_DEEP) from None
        raise
    except (UnexpectedCharacters, UnexpectedToken, UnexpectedEOF, UnexpectedInput) as error:
        raise FilterError(_describe(error, expression)) from None
    except RecursionError:
        raise FilterError(TOO_DEEP) from None
    return ast


def _task_value(task, field):
    if field == "sourceId":
        return (task.get("target") or {}).get("id")
    if field == "type":
        return (task.get("attributes") or {}).get("taskDefinitionName")
    return task.get(field)


def evaluate(node, task):
    """Whether a TaskStatus dict matches; string comparisons ignore case, as ISC's do."""
    if isinstance(node, And):
        return all(evaluate(operand, task) for operand in node.operands)
    if isinstance(node, Or):
        return any(evaluate(operand, task) for operand in node.operands)
    if isinstance(node, Not):
        return not evaluate(node.operand, task)
    value = _task_value(task, node.field)
    if node.op == "isnull":
        return value is None
    if value is None:
        return False
    return str(value).lower() in {candidate.lower() for candidate in node.values}


def values_of(node, field):
    """Every value a filter compares ``field`` with, anywhere in it."""
    if isinstance(node, (And, Or)):
        return [value for operand in node.operands for value in values_of(operand, field)]
    if isinstance(node, Not):
        return values_of(node.operand, field)
    return list(node.values) if node.field == field else []


def unparse(node):
    """The canonical text of an AST; parse(unparse(ast)) == ast."""
    if isinstance(node, (And, Or)):
        joiner = " and " if isinstance(node, And) else " or "
        return "(" + joiner.join(unparse(operand) for operand in node.operands) + ")"
    if isinstance(node, Not):
        return "not " + unparse(node.operand)
    if node.op == "isnull":
        return "%s isnull" % node.field
    if node.op == "in":
        return "%s in (%s)" % (node.field, ", ".join(quote(value) for value in node.values))
    return "%s %s %s" % (node.field, node.op, quote(node.values[0]))


SQL_COLUMNS = {"id": "id_lc", "sourceId": "source_id", "completionStatus": "status", "type": "type_name", "launcher": "launcher"}


def to_sql(node):
    """A WHERE fragment over the store's lower-cased index columns, and its parameters."""
    if isinstance(node, (And, Or)):
        parts = [to_sql(operand) for operand in node.operands]
        joiner = " AND " if isinstance(node, And) else " OR "
        return "(" + joiner.join(part[0] for part in parts) + ")", [param for part in parts for param in part[1]]
    if isinstance(node, Not):
        sql, params = to_sql(node.operand)
        return "(NOT %s)" % sql, params
    column = SQL_COLUMNS[node.field]
    if node.op == "isnull":
        return "(%s IS NULL)" % column, []
    # IS NOT NULL keeps SQL's three-valued logic from turning "not x eq" into unknown for missing values.
    placeholders = ",".join("?" * len(node.values))
    return "(%s IS NOT NULL AND %s IN (%s))" % (column, column, placeholders), [value.lower() for value in node.values]
