"""Hidden suite for a12_rasp (Thinking Like Transformers, Tracr). Every test names the student bug it rejects.

Python functions cannot be sent to the student's process, so programs travel as node lists (see
`probe_rasp_eval` in worker.py, which builds them from the student's own primitives, with functions and
predicates named from a fixed table that this suite repeats) and are compared with this suite's own RASP
interpreter (`ref_eval`), computed after the student's results came back.

Each bug, then (indented) the tests that reject it.

tokens, indices, Map, SequenceMap
- tokens/indices wrong on some length, not a list (a tuple, a tensor), or [] fails
    test_tokens_and_indices, test_sops_small_example
- Map not elementwise, f applied to the list, Map of a Map wrong
    test_map
- SequenceMap's arguments swapped (f(b, a)), or an s-op zipped with itself wrong
    test_sequence_map
Select
- predicate called as predicate(query, key); matrix transposed (M[k][q]); keys and queries exchanged
    test_select_keys_and_queries_order (keys != queries, asymmetric predicates), test_select_small_example
- not an n x n list of lists of bools (a numpy array, a tensor, other values)
    test_select_matrix
Aggregate
- divides by n (or the row's length) instead of the number selected; sums; the first/last/max selected value
    test_aggregate_mean_of_selected
- NaN, None or an error where nothing is selected
    test_aggregate_empty_rows
- ints (0 for an empty row, statistics.mean of ints), not Python floats
    test_aggregate_returns_floats
- averages the selector's columns instead of its rows (query positions)
    test_aggregate_rows_are_queries
SelectorWidth
- counts down the columns (per key) instead of along the rows, counts every key, fails on empty rows
    test_selector_width_counts
The primitives together
- composition wrong somewhere (random programs of every primitive, integer and float values, many inputs)
    test_random_programs
- an s-op used twice in one program evaluated inconsistently
    test_shared_subprograms
- .eval caches its first result, or its matrix by length, or keeps the first input's length
    test_eval_has_no_state, test_random_programs
- the empty input [] raises or returns something other than []
    test_empty_input
Programs. Each also has test_make_*_is_rasp: the object returned is of a class that one of the student's
primitives returns, evaluating it runs lines of the student's cells that only Select/Aggregate/SelectorWidth run
(traced with sys.settrace in the probe; so a closure-style cheat `SOp(lambda xs: sorted(xs))` is caught too), it
composes with Map and SequenceMap, works on [] and gives the same result twice.
- make_length / make_reverse computed by a class of their own with len() / reversed()
    test_make_length_is_rasp, test_make_reverse_is_rasp
- make_length with == instead of TRUE (a histogram), or indices + 1
    test_make_length_values
- make_reverse off by one (n - i), or reversing the indices instead of the tokens
    test_make_reverse_values
- make_histogram counting distinct values, <= instead of ==, tokens against indices
    test_make_histogram_values
- make_sort descending (> instead of <), wrong target positions, x * (i + 1) as keys
    test_make_sort_distinct
- make_sort without a tie-break (equal tokens share a place: a mean and a 0.0 appear)
    test_make_sort_repeated
- make_sort with a tie-break that needs a maximum length (x + i / 100, Tracr's x + eps * i)
    test_make_sort_negative_and_long (an input of length 150)
- make_frac_prevs with < instead of <=, counting from the end (>=), over the whole list, or ignoring `token`
    test_make_frac_prevs_values
reverse_attention_weights (the head is evaluated here in float64: softmax((X W_Q)(X W_K)^T)(X W_V) W_O)
- not a dict of W_Q, W_K, W_V, W_O; shapes that do not chain; W_O narrower than the vocabulary; inf/NaN;
  widths hard-coded for one vocabulary size
    test_reverse_weights_shapes
- attends to n - i (off by one) or to i (identity); a score gap with e^c = n - 1 (an exact tie)
    test_reverse_weights_all_inputs, test_reverse_weights_small_example
- scores too soft: a token repeated at the n - 1 other positions outweighs the target
    test_reverse_weights_repeated_tokens
- works for one vocabulary size or length only (a fixed gap that stops being enough as n grows)
    test_reverse_weights_many_sizes
Grader integrity (no built-in is forbidden in this assignment): eval/exec/compile and the other escape hatches are
refused by the static scan in every test whose code reaches them.
"""

import itertools
import math
import random

import torch

from autograder.remote import Remote, StudentError, unwrap
from autograder.testing import points

SOPS_CELL = "test_sops"
SELECT_CELL = "test_select"
AGGREGATE_CELL = "test_aggregate"
WIDTH_CELL = "test_selector_width"
INTERPRETER_CELL = "test_interpreter"
REVERSE_WEIGHTS_CELL = "test_reverse_attention_weights"
TOL = 1e-6  # values are compared within TOL * max(1, |expected|) (the notebook says so)
MARGIN = 1e-9  # the strict argmax: the winner beats the runner-up by more than MARGIN * max(1, |winner|)

# The same tables as worker.py's probe: name -> (function, its source for messages, keeps integers integral,
# continuous). Predicates take (key, query).
UNARY = {
    "id": (lambda x: x, "x", True, True), "add1": (lambda x: x + 1, "x + 1", True, True),
    "neg": (lambda x: -x, "-x", True, True), "double": (lambda x: 2 * x, "2 * x", True, True),
    "half": (lambda x: x / 2, "x / 2", False, True), "square": (lambda x: x * x, "x * x", True, True),
    "mod3": (lambda x: x % 3, "x % 3", True, False), "is_pos": (lambda x: 1 if x > 0 else 0, "1 if x > 0 else 0",
                                                                 True, False),
    "const2": (lambda x: 2, "2", True, True), "clip": (lambda x: max(-3, min(3, x)), "max(-3, min(3, x))", True, True),
}
BINARY = {
    "add": (lambda a, b: a + b, "a + b", True), "sub": (lambda a, b: a - b, "a - b", True),
    "mul": (lambda a, b: a * b, "a * b", True), "max": (max, "max(a, b)", True), "min": (min, "min(a, b)", True),
    "first": (lambda a, b: a, "a", True), "second": (lambda a, b: b, "b", True),
    "same": (lambda a, b: 1 if a == b else 0, "1 if a == b else 0", False), "lin": (lambda a, b: 2 * a - b + 1,
                                                                                  "2 * a - b + 1", True),
}
PREDICATES = {
    "true": (lambda k, q: True, "True"), "false": (lambda k, q: False, "False"), "eq": (lambda k, q: k == q, "k == q"),
    "neq": (lambda k, q: k != q, "k != q"), "lt": (lambda k, q: k < q, "k < q"), "leq": (lambda k, q: k <= q, "k <= q"),
    "gt": (lambda k, q: k > q, "k > q"), "geq": (lambda k, q: k >= q, "k >= q"),
    "key_even": (lambda k, q: k % 2 == 0, "k % 2 == 0"), "query_even": (lambda k, q: q % 2 == 0, "q % 2 == 0"),
    "key_below_query_minus1": (lambda k, q: k < q - 1, "k < q - 1"),
    "sum_odd": (lambda k, q: (k + q) % 2 == 1, "(k + q) % 2 == 1"),
    "key_above_twice_query": (lambda k, q: k > 2 * q, "k > 2 * q"),
}
ASYMMETRIC = ("lt", "gt", "leq", "key_even", "query_even", "key_below_query_minus1", "key_above_twice_query")
PRIMITIVES = ("tokens", "indices", "Map", "SequenceMap", "Select", "Aggregate", "SelectorWidth")


# ----------------------------------------------------------------------------- the trusted interpreter
def ref_program(name, args, xs):
    """What each program must compute, straight from its definition."""
    n = len(xs)
    if name == "make_length":
        return [n] * n
    if name == "make_reverse":
        return list(reversed(xs))
    if name == "make_histogram":
        return [xs.count(x) for x in xs]
    if name == "make_sort":
        return sorted(xs)
    if name == "make_frac_prevs":
        (token,) = args
        return [sum(1 for x in xs[: i + 1] if x == token) / (i + 1) for i in range(n)]
    raise KeyError(name)


def ref_eval(nodes, i, xs, memo=None):
    """RASP semantics: node i of `nodes` evaluated on the list xs."""
    memo = {} if memo is None else memo
    if i in memo:
        return memo[i]
    kind, args = nodes[i][0], nodes[i][1:]
    if kind == "tokens":
        out = list(xs)
    elif kind == "indices":
        out = list(range(len(xs)))
    elif kind == "Map":
        f = UNARY[args[0]][0]
        out = [f(x) for x in ref_eval(nodes, args[1], xs, memo)]
    elif kind == "SequenceMap":
        f = BINARY[args[0]][0]
        out = [f(a, b) for a, b in zip(ref_eval(nodes, args[1], xs, memo), ref_eval(nodes, args[2], xs, memo))]
    elif kind == "Select":
        keys, queries = ref_eval(nodes, args[0], xs, memo), ref_eval(nodes, args[1], xs, memo)
        p = PREDICATES[args[2]][0]
        out = [[bool(p(k, q)) for k in keys] for q in queries]
    elif kind == "Aggregate":
        matrix, values = ref_eval(nodes, args[0], xs, memo), ref_eval(nodes, args[1], xs, memo)
        out = []
        for row in matrix:
            chosen = [float(v) for v, s in zip(values, row) if s]
            out.append(sum(chosen) / len(chosen) if chosen else 0.0)
    elif kind == "SelectorWidth":
        out = [sum(row) for row in ref_eval(nodes, args[0], xs, memo)]
    elif kind == "make":
        out = ref_program(args[0], args[1], list(xs))
    else:
        raise ValueError(kind)
    memo[i] = out
    return out


def describe(nodes, i):
    """Node i as the RASP expression a student would write."""
    kind, args = nodes[i][0], nodes[i][1:]
    if kind in ("tokens", "indices"):
        return kind
    if kind == "Map":
        return f"Map(lambda x: {UNARY[args[0]][1]}, {describe(nodes, args[1])})"
    if kind == "SequenceMap":
        return f"SequenceMap(lambda a, b: {BINARY[args[0]][1]}, {describe(nodes, args[1])}, {describe(nodes, args[2])})"
    if kind == "Select":
        return f"Select({describe(nodes, args[0])}, {describe(nodes, args[1])}, lambda k, q: {PREDICATES[args[2]][1]})"
    if kind in ("Aggregate", "SelectorWidth"):
        return f"{kind}({', '.join(describe(nodes, a) for a in args)})"
    return f"{args[0]}({', '.join(map(repr, args[1]))})"


# ----------------------------------------------------------------------------- calling the student's code
def run(student, nodes, outputs, inputs, origin, structure=()):
    """The student's primitives build `nodes`; returns the probe's results (one list per output node)."""
    needed = {"tokens", "indices"} | {n[0] for n in nodes if n[0] in PRIMITIVES} | {n[1] for n in nodes
                                                                                    if n[0] == "make"}
    if structure:
        needed |= set(PRIMITIVES)
    names = {name: student.ref(name) for name in sorted(needed)}
    res = student.probe("rasp_eval", names, nodes, list(outputs), [list(x) for x in inputs], list(structure),
                        origin=origin)
    if "build_error" in res:
        i = res["build_error"]
        what = describe(nodes, i) if i >= 0 else ("evaluating tokens, indices, Map, SequenceMap, Select, Aggregate "
                                                  "and SelectorWidth on [3, 1, 2, 1] (to see which code they run)")
        raise StudentError(f"{what} raised {res['error']}")
    return res


def close(got, expected):
    return abs(got - expected) <= TOL * max(1.0, abs(expected))


def check_value(entry, expected, what, xs, floats=False, hints=()):
    """One probe result against the reference: errors, bad types, NaN, then the values."""
    if "error" in entry:
        raise StudentError(f"{what}.eval({xs}) raised {entry['error']}")
    if "bad" in entry:
        raise StudentError(f"{what}.eval({xs}) {entry['bad']}")
    got = entry["value"]
    for j, (g, e) in enumerate(zip(got, expected)):
        if isinstance(g, float) and math.isnan(g):
            raise StudentError(f"{what}.eval({xs}) is NaN at position {j}; expected {e!r}")
        if not close(g, e):
            hint = next((h for alt, h in hints if len(alt) == len(got) and all(map(close, got, alt))), "")
            raise StudentError(f"{what}.eval({xs}) = {fmt(got)}; expected {fmt(expected)} "
                               f"(first difference at position {j}){hint}")
    if floats:
        for j, kind in enumerate(entry["kinds"]):
            if kind != "float":
                raise StudentError(f"{what}.eval({xs}) returned {fmt(got)}: element {j} is a Python {kind}; "
                                   "Aggregate returns floats (e.g. 3.0 and 0.0, not 3 and 0)")


def check_matrix(entry, expected, what, xs, hints=()):
    if "error" in entry:
        raise StudentError(f"{what}.eval({xs}) raised {entry['error']}")
    if "bad" in entry:
        raise StudentError(f"{what}.eval({xs}) {entry['bad']}")
    got = entry["value"]
    if got != expected:
        q, k = next((q, k) for q in range(len(expected)) for k in range(len(expected)) if got[q][k] != expected[q][k])
        hint = next((h for alt, h in hints if got == alt), "")
        raise StudentError(f"{what}.eval({xs}): entry [{q}][{k}] (query position {q}, key position {k}) is "
                           f"{got[q][k]}, expected {expected[q][k]}{hint}")


def fmt(values):
    """[3.0, 0.6667, 2]: floats stay recognisable as floats, ints as ints."""
    def one(v):
        if not isinstance(v, float) or not math.isfinite(v):
            return repr(v)
        text = f"{v:.4g}"
        return text if any(c in text for c in ".e") else text + ".0"
    return "[" + ", ".join(one(v) for v in values) + "]"


def same(a, b):
    """Two probe results are the same (NaN equal to NaN, 1 to 1.0 not)."""
    return repr(a) == repr(b)


def random_inputs(rng, count, lo=-3, hi=6, min_len=1, max_len=12):
    return [[rng.randint(lo, hi) for _ in range(rng.randint(min_len, max_len))] for _ in range(count)]


def check_nodes(student, nodes, outputs, inputs, origin, floats_for=(), hints=None):
    """Evaluate the output nodes on every input and compare each with the reference."""
    res = run(student, nodes, outputs, inputs, origin)["results"]
    for out, row in zip(outputs, res):
        what = describe(nodes, out)
        for xs, entry in zip(inputs, row):
            expected = ref_eval(nodes, out, xs)
            extra = hints(nodes, out, xs) if hints else ()
            if nodes[out][0] == "Select":
                check_matrix(entry, expected, what, xs, extra)
            else:
                check_value(entry, expected, what, xs, floats=nodes[out][0] in floats_for, hints=extra)


# ----------------------------------------------------------------------------- tokens, indices, Map, SequenceMap
@points(1, cell=SOPS_CELL, visibility="visible")
def test_sops_small_example(student):
    """the notebook's examples: tokens, indices, Map(x + 1), SequenceMap(a + b), (a - b) on [3, 1, 2], and []"""
    nodes = [["tokens"], ["indices"], ["Map", "add1", 0], ["SequenceMap", "add", 0, 1], ["SequenceMap", "sub", 0, 1]]
    check_nodes(student, nodes, [0, 1, 2, 3, 4], [[3, 1, 2], []], "Map")


@points(1, cell=SOPS_CELL)
def test_tokens_and_indices(student):
    """tokens and indices are lists of the input's values and of 0..n-1, for lengths 0 to 12"""
    inputs = [[], [7], *random_inputs(random.Random(1201), 6), list(range(12, 0, -1))]
    check_nodes(student, [["tokens"], ["indices"]], [0, 1], inputs, "tokens")


@points(1, cell=SOPS_CELL)
def test_map(student):
    """Map applies f to each value (every function of the table), to tokens, indices and to another Map"""
    nodes = [["tokens"], ["indices"]]
    for name in UNARY:
        nodes.append(["Map", name, 0])
    nodes += [["Map", "square", 1], ["Map", "add1", 2 + list(UNARY).index("double")],
              ["Map", "neg", len(nodes) + 1]]
    check_nodes(student, nodes, list(range(2, len(nodes))), random_inputs(random.Random(1202), 5), "Map")


@points(1, cell=SOPS_CELL)
def test_sequence_map(student):
    """SequenceMap(f, a, b) gives f(a[i], b[i]): argument order (a - b, first, second), and a with itself"""
    nodes = [["tokens"], ["indices"], ["Map", "square", 0]]
    for name in ("sub", "first", "second", "lin", "mul"):
        nodes.append(["SequenceMap", name, 0, 1])
    nodes += [["SequenceMap", "sub", 1, 2], ["SequenceMap", "add", 0, 0], ["SequenceMap", "lin", 2, 2]]
    check_nodes(student, nodes, list(range(3, len(nodes))), random_inputs(random.Random(1203), 5), "SequenceMap")


# ----------------------------------------------------------------------------- Select
def select_hints(nodes, out, xs):
    """What a swapped Select would give: transposed, predicate(query, key), keys and queries exchanged."""
    if nodes[out][0] != "Select":
        return ()
    keys_i, queries_i, pred = nodes[out][1:]
    keys, queries = ref_eval(nodes, keys_i, xs), ref_eval(nodes, queries_i, xs)
    p = PREDICATES[pred][0]
    transposed = [[bool(p(k, q)) for q in queries] for k in keys]
    swapped = [[bool(p(q, k)) for k in keys] for q in queries]
    return [
        *([(swapped, " (your matrix is transposed, or your Select calls predicate(query, key): rows are queries, "
                     "M[q][k] = predicate(keys[k], queries[q]))")] if swapped == transposed else []),
        (swapped, " (your Select calls predicate(query, key); RASP calls predicate(key, query))"),
        (transposed, " (your matrix is transposed: rows must be queries, M[q][k] = predicate(keys[k], queries[q]))"),
        ([[bool(p(q, k)) for q in queries] for k in keys], " (keys and queries are exchanged: the first argument "
                                                            "of Select is the keys)"),
    ]


@points(1, cell=SELECT_CELL, visibility="visible")
def test_select_small_example(student):
    """the notebook's example: Select(indices, tokens, k < q) on [3, 1, 2] is [[T, T, T], [T, F, F], [T, T, F]]"""
    nodes = [["tokens"], ["indices"], ["Select", 1, 0, "lt"], ["Select", 0, 0, "true"]]
    check_nodes(student, nodes, [2], [[3, 1, 2]], "Select", hints=select_hints)
    check_nodes(student, nodes, [3], [[]], "Select")


@points(1, cell=SELECT_CELL)
def test_select_matrix(student):
    """Select(tokens, tokens, p).eval(xs) is an n x n list of lists of bools, for every predicate of the table"""
    nodes = [["tokens"], ["indices"]]
    for name in PREDICATES:
        nodes.append(["Select", 0, 0, name])
    check_nodes(student, nodes, list(range(2, len(nodes))), random_inputs(random.Random(1204), 4), "Select",
                hints=select_hints)


@points(2, cell=SELECT_CELL)
def test_select_keys_and_queries_order(student):
    """keys differ from queries and predicates are asymmetric: M[q][k] = predicate(keys[k], queries[q])"""
    nodes = [["tokens"], ["indices"]]
    for name in ASYMMETRIC:
        nodes += [["Select", 1, 0, name], ["Select", 0, 1, name]]
    check_nodes(student, nodes, list(range(2, len(nodes))), random_inputs(random.Random(1205), 5, min_len=3),
                "Select", hints=select_hints)


# ----------------------------------------------------------------------------- Aggregate
def aggregate_hints(nodes, out, xs):
    """What common wrong Aggregates give: divided by n, summed, the first selected value, columns for rows."""
    if nodes[out][0] != "Aggregate":
        return ()
    matrix, values = ref_eval(nodes, nodes[out][1], xs), ref_eval(nodes, nodes[out][2], xs)
    n = len(xs)
    chosen = [[v for v, s in zip(values, row) if s] for row in matrix]
    columns = [[values[q] for q in range(n) if matrix[q][k]] for k in range(n)]
    return [
        ([sum(c) / n for c in chosen], " (it looks like the sum of the selected values divided by the length n; "
                                       "divide by the number of selected keys)"),
        ([float(sum(c)) for c in chosen], " (it looks like the sum of the selected values, not their mean)"),
        ([float(c[0]) if c else 0.0 for c in chosen], " (it looks like the first selected value, not the mean)"),
        ([sum(c) / len(c) if c else 0.0 for c in columns], " (it looks like the mean over the selector's columns: "
                                                           "each *row* M[q] says which keys query q averages)"),
    ]


@points(1, cell=AGGREGATE_CELL, visibility="visible")
def test_aggregate_small_example(student):
    """the notebook's examples: Aggregate(Select(indices, indices, k <= q), tokens) on [3, 1, 2] is [3.0, 2.0, 2.0],
    with k < q it is [0.0, 3.0, 2.0]"""
    nodes = [["tokens"], ["indices"], ["Select", 1, 1, "leq"], ["Aggregate", 2, 0], ["Select", 1, 1, "lt"],
             ["Aggregate", 4, 0]]
    check_nodes(student, nodes, [3, 5], [[3, 1, 2]], "Aggregate", floats_for=("Aggregate",), hints=aggregate_hints)


@points(2, cell=AGGREGATE_CELL)
def test_aggregate_mean_of_selected(student):
    """the mean of the values at the selected keys (several per row, a different number in each row)"""
    nodes = [["tokens"], ["indices"]]
    for pred in ("leq", "geq", "neq", "true", "key_even"):
        nodes += [["Select", 1, 1, pred], ["Aggregate", len(nodes), 0], ["Aggregate", len(nodes), 1]]
    nodes += [["Select", 0, 0, "leq"], ["Aggregate", len(nodes), 1]]
    outputs = [i for i, n in enumerate(nodes) if n[0] == "Aggregate"]
    check_nodes(student, nodes, outputs, random_inputs(random.Random(1206), 5, min_len=4), "Aggregate",
                hints=aggregate_hints)


@points(1, cell=AGGREGATE_CELL)
def test_aggregate_empty_rows(student):
    """0.0 (never NaN, None or an error) at query positions where nothing is selected, and everywhere for False"""
    nodes = [["tokens"], ["indices"], ["Select", 1, 1, "lt"], ["Aggregate", 2, 0], ["Select", 0, 0, "false"],
             ["Aggregate", 4, 0], ["Select", 0, 1, "key_above_twice_query"], ["Aggregate", 6, 1]]
    check_nodes(student, nodes, [3, 5, 7], [[4], [2, 5, 1], [9, 9, 0, 1, 3, 8]], "Aggregate")


@points(1, cell=AGGREGATE_CELL)
def test_aggregate_returns_floats(student):
    """every value is a Python float (3.0 for one selected 3, 0.0 for none), from int inputs"""
    nodes = [["tokens"], ["indices"], ["Select", 1, 1, "eq"], ["Aggregate", 2, 0], ["Select", 1, 1, "lt"],
             ["Aggregate", 4, 1], ["Select", 0, 0, "true"], ["Aggregate", 6, 0]]
    check_nodes(student, nodes, [3, 5, 7], [[3, 1, 2], [4, 4, 4, 4]], "Aggregate", floats_for=("Aggregate",))


@points(1, cell=AGGREGATE_CELL)
def test_aggregate_rows_are_queries(student):
    """with an asymmetric selector, query position q averages the keys of row q (not column q)"""
    nodes = [["tokens"], ["indices"]]
    for pred in ("lt", "key_even", "key_above_twice_query"):
        nodes += [["Select", 0, 1, pred], ["Aggregate", len(nodes), 0]]
    outputs = [i for i, n in enumerate(nodes) if n[0] == "Aggregate"]
    check_nodes(student, nodes, outputs, random_inputs(random.Random(1207), 5, min_len=4), "Aggregate",
                hints=aggregate_hints)


# ----------------------------------------------------------------------------- SelectorWidth
def width_hints(nodes, out, xs):
    if nodes[out][0] != "SelectorWidth":
        return ()
    matrix = ref_eval(nodes, nodes[out][1], xs)
    return [([sum(matrix[q][k] for q in range(len(xs))) for k in range(len(xs))],
             " (it looks like you counted per key, down the columns; count per query, along each row)")]


@points(1, cell=WIDTH_CELL, visibility="visible")
def test_selector_width_small_example(student):
    """the notebook's example: SelectorWidth(Select(tokens, tokens, k < q)) on [3, 1, 2] is [2, 0, 1]"""
    nodes = [["tokens"], ["Select", 0, 0, "lt"], ["SelectorWidth", 1], ["Select", 0, 0, "false"], ["SelectorWidth", 3]]
    check_nodes(student, nodes, [2], [[3, 1, 2]], "SelectorWidth", hints=width_hints)
    check_nodes(student, nodes, [4], [[1, 2]], "SelectorWidth")


@points(2, cell=WIDTH_CELL)
def test_selector_width_counts(student):
    """the number of selected keys per query, asymmetric selectors, keys != queries, rows with none"""
    nodes = [["tokens"], ["indices"]]
    for keys, queries, pred in [(0, 0, "eq"), (0, 1, "lt"), (1, 0, "key_even"), (0, 1, "query_even"),
                                (1, 0, "key_below_query_minus1"), (0, 0, "false"), (0, 0, "true"), (1, 1, "gt")]:
        nodes += [["Select", keys, queries, pred], ["SelectorWidth", len(nodes)]]
    outputs = [i for i, n in enumerate(nodes) if n[0] == "SelectorWidth"]
    check_nodes(student, nodes, outputs, random_inputs(random.Random(1208), 5), "SelectorWidth", hints=width_hints)


# ----------------------------------------------------------------------------- the primitives together
@points(1, cell=INTERPRETER_CELL, visibility="visible")
def test_interpreter_small_example(student):
    """the notebook's example: the previous token, Aggregate(Select(indices + 1, indices, ==), tokens)"""
    nodes = [["tokens"], ["indices"], ["Map", "add1", 1], ["Select", 2, 1, "eq"], ["Aggregate", 3, 0]]
    check_nodes(student, nodes, [4], [[3, 1, 2], [5, 5, 7, 1], [3, 1, 2]], "Aggregate")


def random_program(rng, nodes):
    """Append a random program to `nodes` (reusing earlier s-ops); return the indices of its s-op nodes.
    Selects compare only integer-valued s-ops and discontinuous functions never see a mean, so float round-off in
    a correct Aggregate cannot change a selection."""
    start = len(nodes)
    nodes += [["tokens"], ["indices"]]
    integral = {start: True, start + 1: True}
    for _ in range(rng.randint(2, 6)):
        sops = list(integral)
        whole = [s for s in sops if integral[s]]
        r = rng.random()
        if r < 0.25:
            child = rng.choice(sops)
            names = [n for n, v in UNARY.items() if integral[child] or v[3]]
            f = rng.choice(names)
            nodes.append(["Map", f, child])
            integral[len(nodes) - 1] = integral[child] and UNARY[f][2]
        elif r < 0.45:
            a, b = rng.choice(sops), rng.choice(sops)
            names = [n for n, v in BINARY.items() if (integral[a] and integral[b]) or v[2]]
            f = rng.choice(names)
            nodes.append(["SequenceMap", f, a, b])
            integral[len(nodes) - 1] = integral[a] and integral[b]
        else:
            nodes.append(["Select", rng.choice(whole), rng.choice(whole), rng.choice(list(PREDICATES))])
            if r < 0.75:
                nodes.append(["Aggregate", len(nodes) - 1, rng.choice(whole)])
                integral[len(nodes) - 1] = False
            else:
                nodes.append(["SelectorWidth", len(nodes) - 1])
                integral[len(nodes) - 1] = True
    return [i for i in integral if i >= start + 2]


@points(3, cell=INTERPRETER_CELL)
def test_random_programs(student):
    """120 random programs of every primitive (shared s-ops, integer and float values) on random inputs"""
    rng = random.Random(1209)
    nodes, outputs = [], []
    for _ in range(120):
        sops = random_program(rng, nodes)
        outputs += [sops[-1]] + rng.sample(sops[:-1], min(1, len(sops) - 1))
    check_nodes(student, nodes, outputs, random_inputs(rng, 6, lo=-3, hi=5), "Aggregate")


@points(1, cell=INTERPRETER_CELL)
def test_shared_subprograms(student):
    """one s-op object used in several places: SequenceMap(f, a, a), Select(a, a, p), Aggregate(Select(a, .), a)"""
    nodes = [["tokens"], ["indices"], ["Map", "mod3", 0], ["SequenceMap", "mul", 2, 2], ["Select", 2, 2, "leq"],
             ["Aggregate", 4, 2], ["SelectorWidth", 4], ["SequenceMap", "add", 5, 6], ["Select", 6, 1, "eq"],
             ["Aggregate", 8, 6], ["SequenceMap", "sub", 9, 7]]
    check_nodes(student, nodes, [3, 5, 6, 7, 9, 10], random_inputs(random.Random(1210), 6), "Aggregate")


@points(1, cell=INTERPRETER_CELL)
def test_eval_has_no_state(student):
    """one program evaluated on several inputs in turn (lengths change, the first input comes back)"""
    nodes = [["tokens"], ["indices"], ["Select", 0, 1, "lt"], ["Aggregate", 2, 0], ["SelectorWidth", 2],
             ["Map", "add1", 0], ["SequenceMap", "add", 3, 4]]
    inputs = [[1, 2, 3], [4], [2, 2, 5, 1, 1], [1, 2, 3], [7, 7], [0, 6, 1, 2, 9, 3, 3, 8]]
    res = run(student, nodes, [2, 3, 4, 5, 6], inputs, "Aggregate")["results"]
    for out, row in zip([2, 3, 4, 5, 6], res):
        if not same(row[0], row[3]) and "value" in row[0]:
            raise StudentError(f"{describe(nodes, out)} gave {row[0].get('value')} on [1, 2, 3], then "
                               f"{row[3].get('value', row[3])} on [1, 2, 3] again: does .eval keep state between "
                               "calls? (a RASP program is a pure function of its input)")
    check_nodes(student, nodes, [2, 3, 4, 5, 6], inputs, "Aggregate")


@points(1, cell=INTERPRETER_CELL)
def test_empty_input(student):
    """every primitive on the empty input [] returns [] (a selector: [])"""
    nodes = [["tokens"], ["indices"], ["Map", "add1", 0], ["SequenceMap", "add", 0, 1], ["Select", 0, 1, "lt"],
             ["Aggregate", 4, 0], ["SelectorWidth", 4]]
    check_nodes(student, nodes, list(range(len(nodes))), [[]], "Aggregate")


# ----------------------------------------------------------------------------- programs
def check_program(student, name, inputs, args=(), hints=None):
    nodes = [["tokens"], ["make", name, list(args)]]
    res = run(student, nodes, [1], inputs, name)["results"][0]
    what = f"{name}({', '.join(map(repr, args))})"
    for xs, entry in zip(inputs, res):
        expected = ref_program(name, list(args), list(xs))
        check_value(entry, expected, what, xs, hints=hints(xs) if hints else ())


def check_is_rasp(student, name, args=()):
    """The program is an object of the student's primitive classes whose eval runs their selection code;
    it composes with Map and SequenceMap, works on [] and gives the same values twice."""
    what = f"{name}({', '.join(map(repr, args))})"
    nodes = [["tokens"], ["indices"], ["make", name, list(args)], ["Map", "double", 2], ["SequenceMap", "add", 2, 1]]
    inputs = [[], [2], [3, 1, 2], [5, 5, 1, 0, 5], [3, 1, 2]]
    res = run(student, nodes, [2, 3, 4], inputs, name, structure=[2])
    info = res["structure"]["2"]
    if not info["primitive"]:
        raise StudentError(f"{what} returned a {info['cls']}, which none of your primitives returns: a program must "
                           "be built from tokens, indices, Map, SequenceMap, Select, Aggregate and SelectorWidth "
                           "(the object it returns is one your primitives made)")
    if info["selects"] is False:
        raise StudentError(f"{what}.eval(xs) never runs the code of your Select, Aggregate or SelectorWidth: the "
                           "answer must come from a RASP program (a Select and an Aggregate or SelectorWidth), "
                           "not from Python code that looks at the whole list")
    first, again = res["results"][0][2], res["results"][0][4]
    if "value" in first and not same(first, again):
        raise StudentError(f"{what} gave {first['value']} on [3, 1, 2], then {again.get('value', again)} on "
                           "[3, 1, 2] again: does .eval keep state between calls?")
    for out, row in zip([2, 3, 4], res["results"]):
        for xs, entry in zip(inputs, row):
            expected = ref_eval(nodes, out, xs)
            check_value(entry, expected, describe(nodes, out), xs)


@points(1, cell="test_make_length", visibility="visible")
def test_make_length_small_example(student):
    """the notebook's examples: make_length() on [3, 1, 2] is [3, 3, 3], on [5] [1], on [] []"""
    check_program(student, "make_length", [[3, 1, 2], [5], []])


@points(1, cell="test_make_length")
def test_make_length_values(student):
    """the length at every position, lengths 1 to 16, repeated values"""
    check_program(student, "make_length", random_inputs(random.Random(1211), 12, lo=0, hi=3, max_len=16))


@points(1, cell="test_make_length")
def test_make_length_is_rasp(student):
    """make_length() is a RASP program of your primitives (type, Select/SelectorWidth code runs, composes, [])"""
    check_is_rasp(student, "make_length")


def reverse_hints(xs):
    n = len(xs)
    return [([xs[n - i] if 0 < n - i < n else 0.0 for i in range(n)], " (off by one: position i must fetch position "
                                                                      "n-1-i; it looks like you fetched n-i)"),
            ([n - 1 - i for i in range(n)], " (it looks like the reversed indices, not the reversed tokens)")]


@points(1, cell="test_make_reverse", visibility="visible")
def test_make_reverse_small_example(student):
    """the notebook's examples: make_reverse() on [3, 1, 2] is [2, 1, 3], on [4, 4, 7, 1, 0] [0, 1, 7, 4, 4]"""
    check_program(student, "make_reverse", [[3, 1, 2], [4, 4, 7, 1, 0]], hints=reverse_hints)


@points(2, cell="test_make_reverse")
def test_make_reverse_values(student):
    """the input backwards, lengths 1 to 16, repeated and negative values"""
    check_program(student, "make_reverse", random_inputs(random.Random(1212), 12, lo=-5, hi=5, max_len=16),
                  hints=reverse_hints)


@points(1, cell="test_make_reverse")
def test_make_reverse_is_rasp(student):
    """make_reverse() is a RASP program of your primitives (type, Select/Aggregate code runs, composes, [])"""
    check_is_rasp(student, "make_reverse")


@points(1, cell="test_make_histogram", visibility="visible")
def test_make_histogram_small_example(student):
    """the notebook's example: make_histogram() on [3, 1, 3, 3, 1, 2] is [3, 2, 3, 3, 2, 1]"""
    check_program(student, "make_histogram", [[3, 1, 3, 3, 1, 2]])


@points(1, cell="test_make_histogram")
def test_make_histogram_values(student):
    """how often each position's token occurs, lengths 1 to 16, few distinct values"""
    check_program(student, "make_histogram", random_inputs(random.Random(1213), 12, lo=-2, hi=3, max_len=16),
                  hints=lambda xs: [([len(set(xs))] * len(xs), " (it looks like the number of distinct values)")])


@points(1, cell="test_make_histogram")
def test_make_histogram_is_rasp(student):
    """make_histogram() is a RASP program of your primitives (type, Select/SelectorWidth code runs, composes, [])"""
    check_is_rasp(student, "make_histogram")


def sort_hints(xs):
    places = [sum(1 for k in xs if k < q) for q in xs]  # no tie-break: equal tokens share a place
    untied = []
    for i in range(len(xs)):
        there = [x for x, p in zip(xs, places) if p == i]
        untied.append(sum(there) / len(there) if there else 0.0)
    return [(sorted(xs, reverse=True), " (descending: sort in ascending order)"),
            (untied, " (equal tokens get the same place, so one position is fetched twice and the next never: "
                     "break the ties)")]


@points(1, cell="test_make_sort", visibility="visible")
def test_make_sort_small_example(student):
    """the notebook's examples: make_sort() on [3, 1, 2] is [1, 2, 3] and on [2, 1, 2, 1] is [1, 1, 2, 2]"""
    check_program(student, "make_sort", [[3, 1, 2], [2, 1, 2, 1]], hints=sort_hints)


@points(1, cell="test_make_sort")
def test_make_sort_distinct(student):
    """ascending order of distinct integers, lengths 1 to 12"""
    rng = random.Random(1214)
    inputs = [rng.sample(range(-30, 30), rng.randint(1, 12)) for _ in range(12)]
    check_program(student, "make_sort", inputs, hints=sort_hints)


@points(2, cell="test_make_sort")
def test_make_sort_repeated(student):
    """ascending order with repeated values (many ties, all equal, pairs)"""
    rng = random.Random(1215)
    inputs = [[4, 4, 4], [2, 1, 2, 1, 2], [0, 0], *random_inputs(rng, 10, lo=0, hi=3, min_len=3)]
    check_program(student, "make_sort", inputs, hints=sort_hints)


@points(1, cell="test_make_sort")
def test_make_sort_negative_and_long(student):
    """ascending order of negative and positive integers up to +-1000, repeated, lengths up to 16 and one of 150"""
    rng = random.Random(1216)
    inputs = [[-3, -1, -3, 0, -1], [-1000, 1000, -999, 999, 0, 0], *random_inputs(rng, 6, lo=-8, hi=8, min_len=10,
                                                                                     max_len=16),
              *random_inputs(rng, 4, lo=-1000, hi=1000, min_len=8, max_len=16),
              [rng.randint(-3, 3) for _ in range(150)]]
    check_program(student, "make_sort", inputs, hints=sort_hints)


@points(1, cell="test_make_sort")
def test_make_sort_is_rasp(student):
    """make_sort() is a RASP program of your primitives (type, Select/Aggregate code runs, composes, [])"""
    check_is_rasp(student, "make_sort")


def frac_hints(token):
    def hints(xs):
        n = len(xs)
        before = [sum(1 for x in xs[:i] if x == token) for i in range(n)]
        return [([b / i if i else 0.0 for i, b in enumerate(before)], " (it looks like you selected the positions "
                                                                      "before i only: < instead of <=)"),
                ([b / (i + 1) for i, b in enumerate(before)], " (position i itself must count: <=)"),
                ([sum(1 for x in xs[i:] if x == token) / (n - i) for i in range(n)], " (it looks like you counted "
                                                                                     "from the end: positions i..n-1)")]
    return hints


@points(1, cell="test_make_frac_prevs", visibility="visible")
def test_make_frac_prevs_small_example(student):
    """the notebook's example: make_frac_prevs(1) on [1, 0, 1, 1] is [1.0, 0.5, 0.667, 0.75]"""
    check_program(student, "make_frac_prevs", [[1, 0, 1, 1]], args=(1,), hints=frac_hints(1))


@points(2, cell="test_make_frac_prevs")
def test_make_frac_prevs_values(student):
    """fractions of positions 0..i holding the token, for several tokens (one absent, one at position 0)"""
    rng = random.Random(1217)
    for token in (0, 2, -1, 7):
        inputs = [[token, 1, token], [5, token], *random_inputs(rng, 6, lo=-1, hi=2, max_len=14)]
        check_program(student, "make_frac_prevs", inputs, args=(token,), hints=frac_hints(token))


@points(1, cell="test_make_frac_prevs")
def test_make_frac_prevs_is_rasp(student):
    """make_frac_prevs(2) is a RASP program of your primitives (type, Select/Aggregate code runs, composes, [])"""
    check_is_rasp(student, "make_frac_prevs", (2,))


# ----------------------------------------------------------------------------- reverse_attention_weights
def reverse_weights(student, n, vocab_size):
    """The student's weights as float64 tensors, shapes checked."""
    what = f"reverse_attention_weights({n}, {vocab_size})"
    raw = student.reverse_attention_weights.raw(n, vocab_size)
    if not isinstance(raw, dict):
        kind = raw.cls if isinstance(raw, Remote) else type(raw).__name__
        raise StudentError(f"{what} should return a dict with keys 'W_Q', 'W_K', 'W_V', 'W_O', got a {kind}")
    missing = [k for k in ("W_Q", "W_K", "W_V", "W_O") if k not in raw]
    if missing:
        raise StudentError(f"{what} returned a dict without {missing} (it has {sorted(raw)})")
    weights = {}
    for key in ("W_Q", "W_K", "W_V", "W_O"):
        value = unwrap(raw[key], what, strict=False)
        if isinstance(value, Remote):
            raise StudentError(f"{what}['{key}'] is a {value.cls}; expected a torch.Tensor or a nested list of numbers")
        try:
            w = torch.as_tensor(value, dtype=torch.float64).clone()
        except (TypeError, ValueError, RuntimeError) as exc:
            raise StudentError(f"{what}['{key}'] cannot be read with torch.as_tensor ({str(exc)[:120]}); return a "
                               "tensor or a nested list of numbers") from None
        if w.dim() != 2:
            raise StudentError(f"{what}['{key}'] has shape {tuple(w.shape)}; expected a 2-D matrix")
        if w.numel() > 4_000_000:
            raise StudentError(f"{what}['{key}'] has shape {tuple(w.shape)}: far larger than one head needs")
        if not torch.isfinite(w).all():
            raise StudentError(f"{what}['{key}'] holds inf or NaN")
        weights[key] = w
    d = vocab_size + n
    q, k, v, o = (weights[key] for key in ("W_Q", "W_K", "W_V", "W_O"))
    for key, w in (("W_Q", q), ("W_K", k), ("W_V", v)):
        if w.shape[0] != d:
            raise StudentError(f"{what}['{key}'] has shape {tuple(w.shape)}; its rows must match the input width "
                               f"vocab_size + n = {d}")
    if q.shape[1] != k.shape[1]:
        raise StudentError(f"{what}: W_Q {tuple(q.shape)} and W_K {tuple(k.shape)} must have the same number of "
                           "columns (queries and keys are compared by a dot product)")
    if o.shape[0] != v.shape[1] or o.shape[1] < vocab_size:
        raise StudentError(f"{what}: W_O has shape {tuple(o.shape)}; expected [{v.shape[1]}, at least {vocab_size}] "
                           f"(W_V is {tuple(v.shape)}; the first vocab_size output columns are read)")
    return weights


def one_hot_inputs(seqs, n, vocab_size):
    """[B, n] token ids -> X [B, n, vocab_size + n]: one-hot token, then one-hot position."""
    tok = torch.nn.functional.one_hot(seqs, vocab_size).to(torch.float64)  # (B, n, V)
    pos = torch.eye(n, dtype=torch.float64).expand(len(seqs), n, n)  # (B, n, n)
    return torch.cat([tok, pos], dim=-1)


def check_reverses(weights, seqs, n, vocab_size, what):
    """The head reverses every sequence of `seqs` [B, n], with a strict argmax."""
    X = one_hot_inputs(seqs, n, vocab_size)
    scores = (X @ weights["W_Q"]) @ (X @ weights["W_K"]).transpose(-2, -1)  # (B, n, n)
    out = torch.softmax(scores, dim=-1) @ (X @ weights["W_V"]) @ weights["W_O"]  # (B, n, d_out)
    out = out[..., :vocab_size]  # (B, n, V)
    if not torch.isfinite(out).all():
        b = int((~torch.isfinite(out)).flatten(1).any(1).nonzero()[0])
        raise StudentError(f"{what}: the head's output on tokens {seqs[b].tolist()} is not finite (inf or NaN)")
    target = seqs.flip(1)  # (B, n): position i should give token n-1-i
    best = out.argmax(-1)
    if vocab_size > 1:
        top2 = out.topk(2, dim=-1).values  # (B, n, 2)
        margin_ok = (top2[..., 0] - top2[..., 1]) > MARGIN * top2[..., 0].abs().clamp(min=1.0)
    else:
        margin_ok = torch.ones_like(best, dtype=torch.bool)
    bad = (best != target) | ~margin_ok
    if bad.any():
        b, i = (int(t) for t in bad.nonzero()[0])
        row = ", ".join(f"{x:.4g}" for x in out[b, i].tolist())
        if not margin_ok[b, i]:
            why = "its largest entry is not strictly larger than the next one (a tie or a near-tie)"
        else:
            why = f"its largest entry is at column {int(best[b, i])}"
        raise StudentError(f"{what}: on tokens {seqs[b].tolist()}, the output at position {i} over the first "
                           f"{vocab_size} columns is [{row}]: {why}; expected column {int(target[b, i])}, the token "
                           f"at position n-1-i = {n - 1 - i}")


def all_sequences(n, vocab_size):
    return torch.tensor(list(itertools.product(range(vocab_size), repeat=n)), dtype=torch.long).reshape(-1, n)


@points(1, cell=REVERSE_WEIGHTS_CELL, visibility="visible")
def test_reverse_weights_small_example(student):
    """the notebook's test: n = 4, vocab_size = 3, every one of the 81 inputs"""
    check_reverses(reverse_weights(student, 4, 3), all_sequences(4, 3), 4, 3, "reverse_attention_weights(4, 3)")


@points(1, cell=REVERSE_WEIGHTS_CELL)
def test_reverse_weights_shapes(student):
    """a dict of four finite 2-D matrices that chain: W_Q, W_K, W_V [V+n, .], W_O [d_v, >= V]"""
    for n, vocab_size in [(1, 1), (3, 5), (6, 2), (2, 9)]:
        reverse_weights(student, n, vocab_size)


@points(2, cell=REVERSE_WEIGHTS_CELL)
def test_reverse_weights_all_inputs(student):
    """every input for small sizes: (n, vocab_size) in (1, 1), (1, 4), (2, 2), (3, 3), (5, 2), (2, 6), (6, 3)"""
    for n, vocab_size in [(1, 1), (1, 4), (2, 2), (3, 3), (5, 2), (2, 6), (6, 3)]:
        check_reverses(reverse_weights(student, n, vocab_size), all_sequences(n, vocab_size), n, vocab_size,
                       f"reverse_attention_weights({n}, {vocab_size})")


@points(1, cell=REVERSE_WEIGHTS_CELL)
def test_reverse_weights_repeated_tokens(student):
    """one token at one position and another token at all n-1 others, n up to 24"""
    for n, vocab_size in [(8, 2), (16, 3), (24, 5)]:
        seqs = []
        for a, b in [(0, 1), (1, 0), (vocab_size - 1, 0)]:
            for j in range(n):
                s = [b] * n
                s[j] = a
                seqs.append(s)
        check_reverses(reverse_weights(student, n, vocab_size), torch.tensor(seqs), n, vocab_size,
                       f"reverse_attention_weights({n}, {vocab_size})")


@points(2, cell=REVERSE_WEIGHTS_CELL)
def test_reverse_weights_many_sizes(student):
    """random inputs for n in 1..32 and vocab sizes 1..40 (vocab larger and smaller than n)"""
    g = torch.Generator().manual_seed(1218)
    for n, vocab_size in [(1, 7), (7, 1), (9, 4), (12, 12), (20, 3), (13, 40), (32, 6)]:
        seqs = torch.randint(0, vocab_size, (300, n), generator=g)
        check_reverses(reverse_weights(student, n, vocab_size), seqs, n, vocab_size,
                       f"reverse_attention_weights({n}, {vocab_size})")
