import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isc_emulator import filters, seed
from isc_emulator.clock import now_ms
from isc_emulator.filters import And, Comparison, FilterError, Not, Or
from isc_emulator.store import Store

FIELDS_V2026 = ("id", "sourceId", "completionStatus", "type", "launcher")


def test_precedence_not_and_or():
    tree = filters.parse('id eq "a" or not id eq "b" and type eq "c"', "beta")
    assert tree == Or((Comparison("id", "eq", ("a",)), And((Not(Comparison("id", "eq", ("b",))), Comparison("type", "eq", ("c",))))))


def test_parentheses_group():
    tree = filters.parse('(id eq "a" or id eq "b") and type in ("X", "Y")', "beta")
    assert tree == And((Or((Comparison("id", "eq", ("a",)), Comparison("id", "eq", ("b",)))), Comparison("type", "in", ("X", "Y"))))


def test_escapes():
    assert filters.parse(r'id eq "a\"b\\c"', "beta") == Comparison("id", "eq", ('a"b\\c',))


@pytest.mark.parametrize(
    "expression, version, tree",
    (
        ("completionStatus isnull", "v2025", Comparison("completionStatus", "isnull")),
        ("completionStatus isnull", "v2026", Comparison("completionStatus", "isnull")),
        ('launcher eq "sweep"', "v2026", Comparison("launcher", "eq", ("sweep",))),
        ('launcher in ("sweep")', "v1", Comparison("launcher", "in", ("sweep",))),
        ('sourceId in ("a","b")', "beta", Comparison("sourceId", "in", ("a", "b"))),
        ('  id   eq   "a"  ', "v2024", Comparison("id", "eq", ("a",))),
    ),
)
def test_supported(expression, version, tree):
    assert filters.parse(expression, version) == tree


def test_values_of_a_field_anywhere_in_a_filter():
    tree = filters.parse('(type eq "A" or not type in ("B", "C")) and sourceId eq "s"', "v2026")
    assert filters.values_of(tree, "type") == ["A", "B", "C"] and filters.values_of(tree, "launcher") == []


@pytest.mark.parametrize(
    "expression, version, words",
    (
        ("completionStatus isnull", "beta", ("isnull", "completionStatus")),
        ("completionStatus isnull", "v2024", ("isnull",)),
        ('launcher eq "sweep"', "v2025", ("launcher",)),
        ('name eq "x"', "v2026", ("name",)),
        ('id ne "x"', "v2026", ("ne",)),
        ('id co "x"', "v2026", ("co",)),
        ('id EQ "x"', "v2026", ("EQ", "lower case")),
        ('id eq "x" AND id eq "y"', "v2026", ("AND",)),
        ("id eq x", "v2026", ("double quotes",)),
        ('id eq "x', "v2026", ()),
        ('(id eq "x"', "v2026", ("end",)),
        ('id eq "x")', "v2026", (")",)),
        ("id in ()", "v2026", (")",)),
        ('id eq "a\\n"', "v2026", ("escape",)),
        ("", "v2026", ("empty",)),
        ('id eq "x" or', "v2026", ("end",)),
        ("id isnull", "v2026", ("isnull", "id")),
    ),
)
def test_rejected_with_a_message_naming_the_problem(expression, version, words):
    with pytest.raises(FilterError) as caught:
        filters.parse(expression, version)
    for word in words:
        assert word in str(caught.value)


@given(st.text())
def test_quote_round_trip(value):
    assert filters.parse("id eq " + filters.quote(value), "beta") == Comparison("id", "eq", (value,))


@given(st.lists(st.text(max_size=20), min_size=1, max_size=5))
def test_in_list_round_trip(values):
    expression = "type in (%s)" % ", ".join(filters.quote(value) for value in values)
    assert filters.parse(expression, "beta").values == tuple(values)


VALUES = st.sampled_from(["success", "ERROR", "sweep", "IDENTITY_REFRESH", "cloud_account_aggregation", 'q"uote', "back\\slash", ""])


def comparisons(values):
    eq_or_in = st.builds(
        lambda field, op, chosen: Comparison(field, op, tuple(chosen[:1]) if op == "eq" else tuple(chosen)),
        st.sampled_from(FIELDS_V2026),
        st.sampled_from(("eq", "in")),
        st.lists(values, min_size=1, max_size=3),
    )
    return st.one_of(eq_or_in, st.just(Comparison("completionStatus", "isnull")))


def trees(values=VALUES):
    return st.recursive(
        comparisons(values),
        lambda inner: st.one_of(
            st.builds(lambda items: And(tuple(items)), st.lists(inner, min_size=2, max_size=3)),
            st.builds(lambda items: Or(tuple(items)), st.lists(inner, min_size=2, max_size=3)),
            st.builds(Not, inner),
        ),
        max_leaves=8,
    )


def normalised(tree):
    """What parsing yields: nested and/or of the same kind are flattened."""
    if isinstance(tree, (And, Or)):
        items = []
        for item in (normalised(operand) for operand in tree.operands):
            items.extend(item.operands if type(item) is type(tree) else (item,))
        return type(tree)(tuple(items))
    if isinstance(tree, Not):
        return Not(normalised(tree.operand))
    return tree


@given(trees())
def test_unparse_parse_round_trip(tree):
    assert filters.parse(filters.unparse(tree), "v2026") == normalised(tree)


@pytest.fixture(scope="module")
def seeded_store():
    store = Store()
    rows = seed.generate_rows(7, 300, 10, 10, now_ms())
    store.replace_all("acme", rows)
    tasks = [json.loads(row[-1]) for row in rows]
    yield store, tasks
    store.close()


def sample_values(tasks):
    rng = random.Random(3)
    picked = rng.sample(tasks, 5)
    return st.sampled_from(
        [task["id"] for task in picked]
        + [task["target"]["id"] for task in picked if task["target"]]
        + ["success", "Error", "WARNING", "sweep", "JANE.DOE", "identity_refresh", "CLOUD_ACCOUNT_AGGREGATION"]
    )


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_sql_translation_matches_the_evaluator(seeded_store, data):
    store, tasks = seeded_store
    tree = data.draw(trees(sample_values(tasks)))
    sql, params = filters.to_sql(tree)
    found = {row[0] for row in store.db.execute("SELECT id FROM tasks WHERE tenant = 'acme' AND " + sql, params)}
    assert found == {task["id"] for task in tasks if filters.evaluate(tree, task)}


def test_evaluate_is_case_insensitive():
    task = {"id": "ABC", "completionStatus": "SUCCESS", "launcher": "Sweep", "target": None, "attributes": {"taskDefinitionName": "IDENTITY_REFRESH"}}
    assert filters.evaluate(filters.parse('completionStatus eq "success" and launcher eq "SWEEP" and type eq "identity_refresh"', "v2026"), task)
    assert not filters.evaluate(filters.parse('sourceId eq "x"', "v2026"), task)
    assert filters.evaluate(filters.parse('not sourceId eq "x"', "v2026"), task)


def test_unknown_version_is_an_error():
    with pytest.raises(ValueError):
        filters.parse('id eq "x"', "v3")


def test_filters_over_http(admin):
    everything = admin.all("v2026")
    source = next(task["target"]["id"] for task in everything if task["target"])
    assert {task["id"] for task in admin.all("v2026", filters='sourceId eq "%s"' % source.upper())} == {
        task["id"] for task in everything if task["target"] and task["target"]["id"] == source
    }
    refreshes = admin.all("v2025", filters='type eq "identity_refresh"')
    assert refreshes and all(task["uniqueName"] == "Identity Refresh" for task in refreshes)
    errors = admin.all("beta", filters='completionStatus in ("error", "Terminated")')
    assert all(task["completionStatus"] in ("ERROR", "TERMINATED") for task in errors)
    stuck = admin.all("v2026", filters="completionStatus isnull", sorters="created")
    assert len(stuck) == 8


@pytest.mark.parametrize(
    "version, expression, word",
    (
        ("beta", "completionStatus isnull", "isnull"),
        ("v2025", 'launcher eq "sweep"', "launcher"),
        ("v1", 'id EQ "x"', "EQ"),
    ),
)
def test_filter_errors_over_http(admin, version, expression, word):
    reply = admin.get(version, filters=expression)
    assert reply.status_code == 400 and word in reply.json()["messages"][0]["text"]
