"""The AST scan: forbidden references found through aliases and helpers, scoped, loops."""

from autograder.assignments import A01, A02
from autograder.notebook import CodeCell
from autograder.static import StaticReport


def report(src: str, spec=A01) -> StaticReport:
    return StaticReport([CodeCell("c", src, "answer")], spec.forbidden)


def labels(findings):
    return sorted({f.label for f in findings})


def test_direct_alias_and_import_forms_are_found():
    r = report(
        "import torch\nfrom torch import cdist as cd\n_keep = torch.cdist\n"
        "def a(x, y):\n    return torch.cdist(x, y)\n"
        "def b(x, y):\n    return cd(x, y)\n"
        "def c(x, y):\n    return _keep(x, y)\n"
        "def d(x, y):\n    return ((x[:, None] - y[None]) ** 2).sum(-1)\n"
    )
    assert labels(r.violations_for({"a"})) == ["torch.cdist"]
    assert labels(r.violations_for({"b"})) == ["torch.cdist"]
    assert labels(r.violations_for({"c"})) == ["torch.cdist"]
    assert r.violations_for({"d"}) == []


def test_helpers_are_followed_transitively_but_stray_top_level_calls_are_not():
    r = report("def helper(x, y):\n    return torch.cdist(x, y)\n"
               "def f(x, y):\n    return helper(x, y)\n"
               "print(torch.cdist(a, b))\n")
    assert labels(r.violations_for({"f"})) == ["torch.cdist"]
    assert r.violations_for({"other"}) == []


def test_scoped_forbids_only_count_for_their_names():
    src = ("def mlp_backward(x):\n    loss.backward()\n"
           "def train(x):\n    loss.backward()\n")
    r = report(src, A02)
    assert "torch.Tensor.backward" in labels(r.violations_for({"mlp_backward"}))
    assert r.violations_for({"train"}) == []
    # one rule for static and runtime: a scoped forbid counts for the code reached from a name in its
    # scope, not for everything a test happened to use alongside it
    clean = report("def mlp_backward(x):\n    return helper(x)\ndef helper(x):\n    return x\n"
                   "def train(x):\n    loss.backward()\n", A02)
    assert clean.violations_for({"train", "mlp_backward"}) == []
    dirty = report("def mlp_backward(x):\n    return helper(x)\ndef helper(x):\n    loss.backward()\n", A02)
    assert "torch.Tensor.backward" in labels(dirty.violations_for({"mlp_backward"}))


def test_integrity_rules_catch_escape_hatches():
    r = report("def f(x):\n    return eval('torch.cd' + 'ist')(x, x)\n"
               "def g(x):\n    return torch._C._nn.gelu(x)\n")
    assert any("eval" in f.label for f in r.violations_for({"f"}))
    assert any("torch._C" in f.label for f in r.violations_for({"g"}))


def test_method_calls_named_like_builtins_are_not_flagged():
    r = report("import re\ndef acc(model, s):\n    model.eval()\n    return re.compile(s), torch.compile\n"
               "def bad(s):\n    return eval(s)\n")
    assert r.violations_for({"acc"}) == []
    assert [f.label for f in r.violations_for({"bad"})] == ["grader integrity: eval"]


def test_own_names_and_self_attributes_are_not_flagged():
    r = report("class Softmaxer:\n    def cdist(self, x):\n        return self.cdist\n"
               "def cdist_like(x):\n    return x\n")
    assert r.violations_for({"Softmaxer", "cdist_like"}) == []


def test_loops_found_in_closure_only():
    r = report("def h(x):\n    return [v for v in x]\n"
               "def f(x):\n    return h(x)\n"
               "def g(x):\n    return x.sum()\n"
               "for i in range(3):\n    pass\n")
    assert r.loops_in("f") and r.loops_in("h")
    assert r.loops_in("g") == []


def test_syntax_errors_are_reported_not_raised():
    r = report("def f(:\n    pass\n")
    assert r.syntax_errors and "SyntaxError" in r.syntax_errors[0]


def test_every_forbidden_name_resolves_in_the_worker():
    """A typo in a forbidden name would silently trap nothing."""
    import runpy
    from pathlib import Path

    from autograder.assignments import ASSIGNMENTS

    worker = runpy.run_path(str(Path(__file__).parent.parent / "autograder" / "worker.py"))
    for a in ASSIGNMENTS.values():
        for f in a.forbidden:
            assert worker["_resolve"](f.name) is not None, (a.id, f.name)


def test_a09_clipping_and_schedulers_are_found_but_the_students_own_clip_grad_norm_is_not():
    from autograder.assignments import A09

    r = report("import torch\nfrom torch.nn.utils import clip_grad_norm as old\n"
               "from torch.optim.lr_scheduler import LambdaLR\nfrom torch.optim import swa_utils\n"
               "def clip_grad_norm(parameters, max_norm):\n    return 0.0\n"
               "def mine(model):\n    return clip_grad_norm(model.parameters(), 1.0)\n"
               "def a(model):\n    return torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)\n"
               "def b(model):\n    return old(model.parameters(), 1.0)\n"
               "def c(opt):\n    return LambdaLR(opt, lambda s: 1.0)\n"
               "def d(opt):\n    return torch.optim.lr_scheduler.CosineAnnealingLR(opt, 10)\n"
               "def e(model):\n    return swa_utils.AveragedModel(model)\n", A09)
    assert r.violations_for({"mine", "clip_grad_norm"}) == []
    assert labels(r.violations_for({"a"})) == ["torch.nn.utils.clip_grad_norm_"]
    assert labels(r.violations_for({"b"})) == ["torch.nn.utils.clip_grad_norm"]
    assert "torch.optim.lr_scheduler.LambdaLR" in labels(r.violations_for({"c"}))
    assert "torch.optim.lr_scheduler" in labels(r.violations_for({"d"}))
    assert "torch.optim.swa_utils" in labels(r.violations_for({"e"}))


def test_a09_forbids_everything_public_in_lr_scheduler_and_swa_utils():
    """SPEC: everything in torch.optim.lr_scheduler and torch.optim.swa_utils; a torch upgrade that adds a
    scheduler must not let it through unnoticed."""
    import inspect

    import torch.optim.lr_scheduler as lr_scheduler
    import torch.optim.swa_utils as swa_utils

    from autograder.assignments import A09

    names = {f.name for f in A09.forbidden}
    for module in (lr_scheduler, swa_utils):
        public = {k for k, v in vars(module).items()
                  if getattr(v, "__module__", "") == module.__name__ and (inspect.isclass(v) or inspect.isfunction(v))
                  and (not k.startswith("_") or k == "_LRScheduler")}
        assert {f"{module.__name__}.{k}" for k in public} <= names, sorted(public)
