"""Wrong submissions for a12_rasp, as edits of the reference, and correct ones in other styles."""

from . import Sample, edit

SAMPLES = {
    "select_predicate_swapped": Sample(
        why="Select calls predicate(query, key): every asymmetric selector is mirrored (sort descends, frac_prevs "
            "counts from the end)",
        patches={"select": edit(("bool(self.predicate(k, q))", "bool(self.predicate(q, k))"))},
        fails=frozenset({"test_select_small_example", "test_select_keys_and_queries_order",
                         "test_aggregate_small_example", "test_random_programs", "test_make_sort_distinct",
                         "test_make_frac_prevs_values"}),
    ),
    "aggregate_divides_by_n": Sample(
        why="Aggregate divides the sum of the selected values by the length n, not by how many are selected",
        patches={"aggregate": edit(("sum(chosen) / len(chosen) if chosen else 0.0", "sum(chosen) / len(row)"))},
        fails=frozenset({"test_aggregate_small_example", "test_aggregate_mean_of_selected",
                         "test_interpreter_small_example", "test_random_programs", "test_make_reverse_values",
                         "test_make_sort_distinct", "test_make_frac_prevs_values"}),
    ),
    "aggregate_first_selected_nan": Sample(
        why="Aggregate returns the first selected value (Tracr's categorical aggregate) and NaN where nothing is "
            "selected: look-ups work, means and empty rows do not",
        patches={"aggregate": edit(("sum(chosen) / len(chosen) if chosen else 0.0",
                                    "chosen[0] if chosen else float(\"nan\")"))},
        fails=frozenset({"test_aggregate_small_example", "test_aggregate_mean_of_selected",
                         "test_aggregate_empty_rows", "test_interpreter_small_example", "test_make_frac_prevs_values"}),
    ),
    "aggregate_statistics_mean": Sample(
        why="Aggregate with statistics.mean of the raw values and 0 for empty rows: a mean of ints can be an int "
            "(mean([1, 3]) is 2), and 0 is an int",
        patches={"aggregate": edit(
            ("chosen = [float(v) for v, selected in zip(values, row) if selected]",
             "chosen = [v for v, selected in zip(values, row) if selected]"),
            ("sum(chosen) / len(chosen) if chosen else 0.0", "statistics.mean(chosen) if chosen else 0"),
            ("        matrix, values =", "        import statistics\n\n        matrix, values ="))},
        fails=frozenset({"test_aggregate_small_example", "test_aggregate_returns_floats"}),
    ),
    "selector_width_counts_columns": Sample(
        why="SelectorWidth counts down the columns (per key) instead of along the rows (per query)",
        patches={"selector_width": edit((
            "return [sum(1 for selected in row if selected) for row in self.selector.eval(xs)]",
            "matrix = self.selector.eval(xs)\n"
            "        return [sum(1 for row in matrix if row[k]) for k in range(len(matrix))]"))},
        fails=frozenset({"test_selector_width_small_example", "test_selector_width_counts", "test_random_programs",
                         "test_make_sort_distinct"}),
    ),
    "eval_caches_first_result": Sample(
        why="Aggregate and SelectorWidth remember their first result (a cache with no key), so a program gives its "
            "first answer again on every later input",
        patches={
            "aggregate": edit(
                ("        matrix, values = self.selector.eval(xs), self.sop.eval(xs)\n",
                 "        if getattr(self, \"_cache\", None) is not None:\n            return self._cache\n"
                 "        matrix, values = self.selector.eval(xs), self.sop.eval(xs)\n"),
                ("        return out\n", "        self._cache = out\n        return out\n")),
            "selector_width": edit((
                "return [sum(1 for selected in row if selected) for row in self.selector.eval(xs)]",
                "if not hasattr(self, \"_cache\"):\n"
                "            self._cache = [sum(1 for s in row if s) for row in self.selector.eval(xs)]\n"
                "        return self._cache")),
        },
        fails=frozenset({"test_interpreter_small_example", "test_eval_has_no_state", "test_random_programs",
                         "test_make_length_values", "test_make_reverse_values", "test_make_sort_repeated",
                         "test_make_reverse_is_rasp"}),
    ),
    "sort_no_tie_break_frac_prevs_strict": Sample(
        why="make_sort compares the raw tokens (no tie-break: repeated values collide), make_frac_prevs selects "
            "k < q (position i itself not counted)",
        patches={
            "make_sort": edit(("keys = SequenceMap(lambda x, i: x + i / (i + 1), tokens, indices)", "keys = tokens")),
            "make_frac_prevs": edit(("lambda k, q: k <= q", "lambda k, q: k < q")),
        },
        fails=frozenset({"test_make_sort_small_example", "test_make_sort_repeated", "test_make_sort_negative_and_long",
                         "test_make_frac_prevs_small_example", "test_make_frac_prevs_values"}),
    ),
    "reverse_off_by_one_histogram_leq": Sample(
        why="make_reverse fetches position n - i (off by one), make_histogram selects k <= q",
        patches={
            "make_reverse": edit(("lambda n, i: n - 1 - i", "lambda n, i: n - i")),
            "make_histogram": edit(("lambda k, q: k == q", "lambda k, q: k <= q")),
        },
        fails=frozenset({"test_make_reverse_small_example", "test_make_reverse_values", "test_make_reverse_is_rasp",
                         "test_make_histogram_small_example", "test_make_histogram_values",
                         "test_make_histogram_is_rasp"}),
    ),
    "programs_in_plain_python": Sample(
        why="make_length and make_reverse return s-op classes of their own that compute the answer with len() and "
            "reversed(): right values, but not RASP programs",
        patches={
            "make_length": '''
class _Length(SOp):
    def eval(self, xs):
        return [len(xs)] * len(xs)


def make_length() -> SOp:
    """The length n of the input, at every position."""
    return _Length()
''',
            "make_reverse": '''
class _Reversed(SOp):
    def eval(self, xs):
        return [float(x) for x in reversed(xs)]


def make_reverse() -> SOp:
    """The input backwards: position i holds the token at position n-1-i."""
    return _Reversed()
''',
        },
        fails=frozenset({"test_make_length_is_rasp", "test_make_reverse_is_rasp"}),
    ),
    "soft_reverse_head": Sample(
        why="the reverse head's score gap is 1: the softmax is too soft, and a token repeated at the other "
            "positions outweighs the target",
        patches={"reverse_attention_weights": edit(("c = math.log(n) + 10.0", "c = 1.0"))},
        fails=frozenset({"test_reverse_weights_small_example", "test_reverse_weights_all_inputs",
                         "test_reverse_weights_repeated_tokens", "test_reverse_weights_many_sizes"}),
    ),
    "predicates_from_strings": Sample(
        # a12 forbids no built-in; what every assignment refuses is code that reaches around the grader, and
        # eval() of strings is one of those (grader integrity)
        forbidden_call="grader integrity: eval",
        why="make_sort builds its predicates with eval() from strings, which the grader refuses in answer code",
        patches={"make_sort": '''
COMPARE = {op: eval(f"lambda k, q: k {op} q") for op in ("<", "==")}


def make_sort() -> SOp:
    """The input sorted in ascending order (integer tokens, which may repeat)."""
    keys = SequenceMap(lambda x, i: x + i / (i + 1), tokens, indices)
    target = SelectorWidth(Select(keys, keys, COMPARE["<"]))
    return Aggregate(Select(target, indices, COMPARE["=="]), tokens)
'''},
        fails=frozenset({"test_make_sort_small_example", "test_make_sort_distinct", "test_make_sort_repeated",
                         "test_make_sort_is_rasp"}),
    ),
}

# Right answers in other styles than the reference's: they must keep full marks.
CORRECT = {
    "closures_tuple_keys_quadratic_head": Sample(
        why="every primitive a function returning one generic SOp/Selector class that wraps a closure; make_sort "
            "breaks ties with (token, index) tuples; make_reverse selects with keys and queries the other way round; "
            "the head scores -c (i + j - (n-1))^2 through 3-dimensional queries and keys [1, i, i^2], returned as "
            "nested Python lists with a W_O wider than the vocabulary",
        patches={
            "sops": '''
class SOp:
    def __init__(self, fn):
        self.fn = fn

    def eval(self, xs: list) -> list:
        return list(self.fn(list(xs)))


tokens = SOp(lambda xs: xs)
indices = SOp(lambda xs: range(len(xs)))


def Map(f, sop):
    return SOp(lambda xs: [f(x) for x in sop.eval(xs)])


def SequenceMap(f, a, b):
    return SOp(lambda xs: [f(x, y) for x, y in zip(a.eval(xs), b.eval(xs))])
''',
            "select": '''
class Selector:
    def __init__(self, fn):
        self.fn = fn

    def eval(self, xs: list) -> list:
        return self.fn(list(xs))


def Select(keys, queries, predicate):
    def matrix(xs):
        ks, qs = keys.eval(xs), queries.eval(xs)
        return [[bool(predicate(k, q)) for k in ks] for q in qs]
    return Selector(matrix)
''',
            "aggregate": '''
def Aggregate(selector, sop):
    def run(xs):
        values = sop.eval(xs)
        out = []
        for row in selector.eval(xs):
            picked = [values[k] for k, s in enumerate(row) if s]
            out.append(float(sum(picked)) / len(picked) if picked else 0.0)
        return out
    return SOp(run)
''',
            "selector_width": '''
def SelectorWidth(selector):
    return SOp(lambda xs: [row.count(True) for row in selector.eval(xs)])
''',
            "make_length": '''
def make_length():
    return SelectorWidth(Select(indices, indices, lambda k, q: k == k))
''',
            "make_reverse": '''
def make_reverse():
    n_minus_1_minus_i = SequenceMap(lambda i, n: n - 1 - i, indices, make_length())
    # query q selects the key k whose mirror image n-1-k equals q
    return Aggregate(Select(n_minus_1_minus_i, indices, lambda k, q: k == q), tokens)
''',
            "make_histogram": '''
def make_histogram():
    return SelectorWidth(Select(tokens, tokens, lambda k, q: q == k))
''',
            "make_sort": '''
def make_sort():
    pairs = SequenceMap(lambda x, i: (x, i), tokens, indices)  # tuples compare by token, then by position
    place = SelectorWidth(Select(pairs, pairs, lambda k, q: k < q))
    return Aggregate(Select(place, indices, lambda k, q: k == q), tokens)
''',
            "make_frac_prevs": '''
def make_frac_prevs(token):
    hits = SequenceMap(lambda x, i: float(x == token), tokens, indices)
    return Aggregate(Select(indices, indices, lambda k, q: not k > q), hits)
''',
            "reverse_attention_weights": '''
def reverse_attention_weights(n, vocab_size):
    V, m = vocab_size, n - 1
    c = 3.0 + 2.0 * math.log(n + 1)  # neighbours of the target score -c, the target 0
    rows = V + n
    W_Q = [[0.0] * 3 for _ in range(rows)]
    W_K = [[0.0] * 3 for _ in range(rows)]
    for p in range(n):
        W_Q[V + p] = [1.0, float(p), float(p * p)]  # query of position i: [1, i, i^2]
        W_K[V + p] = [-c * (p - m) ** 2, -2.0 * c * (p - m), -c]  # q.k = -c (i + j - m)^2
    W_V = [[1.0 if r == t else 0.0 for t in range(V)] for r in range(rows)]
    W_O = [[1.0 if r == t else 0.0 for t in range(V + 2)] for r in range(V)]  # two spare output columns
    return {"W_Q": W_Q, "W_K": W_K, "W_V": W_V, "W_O": W_O}
''',
        },
        fails=frozenset(),
    ),
    "torch_internals_length_by_aggregate": Sample(
        why="Select and Aggregate computed with torch tensors (float64) and returned with .tolist(); make_length "
            "without SelectorWidth (1/n from a mean, inverted by a Map); make_sort breaks ties with i/n; the head "
            "puts the mirror permutation in W_Q, carries the whole input as its value and reads it with a wider W_O",
        patches={
            "select": edit((
                "        keys, queries = self.keys.eval(xs), self.queries.eval(xs)\n"
                "        return [[bool(self.predicate(k, q)) for k in keys] for q in queries]"
                "  # rows: queries, columns: keys\n",
                "        keys, queries = self.keys.eval(xs), self.queries.eval(xs)\n"
                "        m = torch.zeros(len(queries), len(keys), dtype=torch.bool)\n"
                "        for q, query in enumerate(queries):\n"
                "            for k, key in enumerate(keys):\n"
                "                m[q, k] = bool(self.predicate(key, query))\n"
                "        return m.tolist()\n")),
            "aggregate": edit((
                "        matrix, values = self.selector.eval(xs), self.sop.eval(xs)\n"
                "        out = []\n"
                "        for row in matrix:\n"
                "            chosen = [float(v) for v, selected in zip(values, row) if selected]\n"
                "            out.append(sum(chosen) / len(chosen) if chosen else 0.0)\n"
                "        return out\n",
                "        if not xs:\n"
                "            return []\n"
                "        m = torch.tensor(self.selector.eval(xs), dtype=torch.float64)  # (n, n)\n"
                "        v = torch.tensor([float(x) for x in self.sop.eval(xs)], dtype=torch.float64)  # (n,)\n"
                "        return ((m @ v) / m.sum(dim=1).clamp(min=1.0)).tolist()\n")),
            "make_length": '''
def make_length() -> SOp:
    first = Map(lambda i: 1 if i == 0 else 0, indices)
    one_over_n = Aggregate(Select(indices, indices, lambda k, q: True), first)  # one position in n is the first
    return Map(lambda f: round(1.0 / f), one_over_n)
''',
            "make_sort": '''
def make_sort() -> SOp:
    fraction = SequenceMap(lambda i, n: i / n, indices, make_length())  # in [0, 1): keeps the integer order
    keys = SequenceMap(lambda x, f: x + f, tokens, fraction)
    smaller = Select(keys, keys, lambda k, q: k < q)
    return Aggregate(Select(SelectorWidth(smaller), indices, lambda k, q: k == q), tokens)
''',
            "reverse_attention_weights": '''
def reverse_attention_weights(n: int, vocab_size: int) -> dict:
    V, d = vocab_size, vocab_size + n
    c = 2 * math.log(n + 1) + 8
    W_Q = torch.zeros(d, n)
    W_Q[V:, :] = c * torch.eye(n).flip(1)  # position i asks for n-1-i
    W_K = torch.cat([torch.zeros(V, n), torch.eye(n)])  # position j answers to j
    W_V = torch.eye(d)  # the whole input row: token and position
    W_O = torch.cat([torch.eye(V, V + 1), torch.zeros(n, V + 1)])  # read the token part; one spare column
    return {"W_Q": W_Q, "W_K": W_K, "W_V": W_V, "W_O": W_O}
''',
        },
        fails=frozenset(),
    ),
    "central_evaluator": Sample(
        why="Tracr's layout: primitives are plain records with children, and one evaluator dispatches on the "
            "record's type (the .eval methods call it); make_sort breaks ties with 1 - 1/(i + 2); float32 weights "
            "scaled by 40",
        patches={
            "sops": '''
class RASPExpr:
    def eval(self, xs: list) -> list:
        return evaluate(self, list(xs))


class SOp(RASPExpr):
    pass


class Tokens(SOp):
    pass


class Indices(SOp):
    pass


class Map(SOp):
    def __init__(self, f, sop):
        self.f, self.children = f, (sop,)


class SequenceMap(SOp):
    def __init__(self, f, a, b):
        self.f, self.children = f, (a, b)


tokens, indices = Tokens(), Indices()
EVALUATORS = {}


def evaluate(expr, xs):
    return EVALUATORS[type(expr)](expr, xs)


def _eval_map(expr, xs):
    return [expr.f(x) for x in evaluate(expr.children[0], xs)]


def _eval_sequence_map(expr, xs):
    a, b = (evaluate(c, xs) for c in expr.children)
    return [expr.f(x, y) for x, y in zip(a, b)]


EVALUATORS.update({Tokens: lambda e, xs: list(xs), Indices: lambda e, xs: list(range(len(xs))),
                   Map: _eval_map, SequenceMap: _eval_sequence_map})
''',
            "select": '''
class Select(RASPExpr):
    def __init__(self, keys, queries, predicate):
        self.predicate, self.children = predicate, (keys, queries)


def _eval_select(expr, xs):
    keys, queries = (evaluate(c, xs) for c in expr.children)
    return [[bool(expr.predicate(k, q)) for k in keys] for q in queries]


EVALUATORS[Select] = _eval_select
''',
            "aggregate": '''
class Aggregate(SOp):
    def __init__(self, selector, sop):
        self.children = (selector, sop)


def _eval_aggregate(expr, xs):
    matrix, values = (evaluate(c, xs) for c in expr.children)
    sums = [sum(float(v) for v, s in zip(values, row) if s) for row in matrix]
    counts = [sum(row) for row in matrix]
    return [total / count if count else 0.0 for total, count in zip(sums, counts)]


EVALUATORS[Aggregate] = _eval_aggregate
''',
            "selector_width": '''
class SelectorWidth(SOp):
    def __init__(self, selector):
        self.children = (selector,)


EVALUATORS[SelectorWidth] = lambda expr, xs: [int(sum(row)) for row in evaluate(expr.children[0], xs)]
''',
            "make_sort": '''
def make_sort() -> SOp:
    keys = SequenceMap(lambda x, i: x + 1 - 1 / (i + 2), tokens, indices)
    target = SelectorWidth(Select(keys, keys, lambda k, q: k < q))
    return Aggregate(Select(target, indices, lambda k, q: k == q), tokens)
''',
            "reverse_attention_weights": edit(
                ("return {\"W_Q\": W_Q, \"W_K\": W_K, \"W_V\": W_V, \"W_O\": W_O}",
                 "return {\"W_Q\": 40 * W_Q.float(), \"W_K\": W_K.float(), \"W_V\": W_V.float(), "
                 "\"W_O\": W_O.float()}")),
        },
        fails=frozenset(),
    ),
}
