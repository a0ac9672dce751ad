"""The sandbox: hostile student code is contained and every failure has a one-line reason."""

from __future__ import annotations

import pytest
import torch

from autograder.assignments import Forbid
from autograder.limits import Limits
from autograder.remote import StudentError, Submission
from autograder.sandbox import Sandbox
from autograder.testing import assert_close

HOSTILE = r'''
import os, sys, torch
import torch.nn.functional as F
cd = torch.cdist
def ok(x, y):
    return ((x[:, None] - y[None]) ** 2).sum(-1)
def alias(x, y):
    return cd(x, y)
def via_ops(x, y):
    return torch.ops.aten._cdist_forward(x, y, 2.0, None)
def hang():
    while True:
        pass
def die():
    os._exit(3)
def leave():
    sys.exit(0)
def flood():
    sys.stdout.write("x" * 5_000_000)
    return 1
def hog():
    return torch.empty(10**11).sum()
def read_suite(path):
    return open(path).read()
def spawn():
    import subprocess
    return subprocess.run(["true"]).returncode
def connect():
    import socket
    return socket.create_connection(("127.0.0.1", 9))
def sub_tensor(x):
    class Fake(torch.Tensor):
        def __eq__(self, other):
            return True
    return x.as_subclass(Fake)
def numpy_out(x):
    return x.numpy()
def patch_torch():
    torch.allclose = lambda *a, **k: True
    return True
def main_is_mine():
    import __main__
    return hasattr(__main__, "PROBES"), hasattr(__main__, "main_is_mine")
class Scale(torch.nn.Module):
    def __init__(self, n):
        super().__init__()
        self.w = torch.nn.Parameter(torch.full((n,), 2.0))
    def forward(self, x):
        return x * self.w
'''


@pytest.fixture(scope="module")
def sub(course):
    box = Sandbox([{"id": "c", "source": HOSTILE, "kind": "answer"}],
                  [Forbid("torch.cdist", aten=("_cdist_forward",))],
                  Limits(call_seconds=3, total_seconds=120), denied=[str(course)], allowed=[])
    box.start()
    yield Submission(box)
    box.close()


def test_correct_call_returns_fresh_plain_tensor(sub):
    x, y = torch.randn(3, 2), torch.randn(4, 2)
    out = sub.ok(x, y)
    assert type(out) is torch.Tensor
    assert_close(out, ((x[:, None] - y[None]) ** 2).sum(-1), "ok")


@pytest.mark.parametrize("name", ["alias", "via_ops"])
def test_forbidden_builtin_trapped_through_aliases_and_aten(sub, name):
    with pytest.raises(StudentError, match="torch.cdist"):
        getattr(sub, name)(torch.randn(3, 2), torch.randn(4, 2))


@pytest.mark.parametrize("name, reason", [
    ("hang", "timed out"),
    ("die", "exit status 3"),
    ("leave", "SystemExit"),
    ("hog", "allocate memory"),
    ("spawn", "not allowed"),
    ("connect", "not allowed"),
])
def test_bad_behaviour_becomes_a_reason_and_the_next_call_works(sub, name, reason):
    with pytest.raises(StudentError, match=reason):
        getattr(sub, name)()
    assert sub.ok(torch.ones(1, 1), torch.zeros(1, 1)).item() == 1.0  # restarted if it died


def test_reading_the_hidden_suite_is_refused(sub, course):
    with pytest.raises(StudentError, match="not allowed"):
        sub.read_suite(str(course / "autograder" / "suites" / "a01_tensors.py"))


def test_output_flood_is_capped(sub):
    assert sub.flood() == 1
    out = sub.box.student_output()
    assert len(out) < 100_000 and "dropped" in out


def test_tensor_subclass_and_lookalikes_are_refused(sub):
    with pytest.raises(StudentError, match="expected exactly a torch.Tensor"):
        sub.sub_tensor(torch.ones(2))
    with pytest.raises(StudentError):
        assert_close(sub.numpy_out(torch.ones(2)), torch.ones(2), "numpy_out")


def test_monkeypatching_torch_in_the_worker_does_not_reach_the_grader(sub):
    assert sub.patch_torch() is True
    assert not torch.allclose(torch.zeros(1), torch.ones(1))


def test_modules_stay_remote_and_gradients_come_back(sub):
    m = sub.Scale(3)
    assert m.is_module
    state = m.probe("module_state")
    assert set(state["params"]) == {"w"}
    got = m.probe("forward_backward", (torch.ones(3, requires_grad=True),), {}, torch.ones(3))
    assert torch.equal(got["out"], torch.full((3,), 2.0))
    assert torch.equal(got["param_grads"]["w"], torch.ones(3))
    assert torch.equal(got["grads"]["arg0"], torch.full((3,), 2.0))


def test_import_main_reaches_the_students_namespace_not_the_worker(sub):
    assert sub.main_is_mine() == (False, True)


def test_missing_name_has_a_reason(sub):
    with pytest.raises(StudentError, match="does not define `nope`"):
        sub.nope(1)


PLAIN_PYTHON = r'''
import torch
from torch.nn.utils import clip_grad_norm_ as captured
from torch.nn.utils import clip_grad
def params():
    p = torch.nn.Parameter(torch.ones(3))
    p.grad = torch.ones(3)
    return [p]
def by_alias():
    return captured(params(), 1.0)
def by_getattr():
    return getattr(torch.nn.utils, "clip_grad" + "_norm_")(params(), 1.0)
def by_module():
    return clip_grad.clip_grad_norm_(params(), 1.0)
def by_inner():
    return getattr(clip_grad, "_get_total_norm")([torch.ones(3)])
def allowed():
    return torch.nn.utils.clip_grad_value_(params(), 0.5) is None
'''


@pytest.mark.parametrize("name", ["by_alias", "by_getattr", "by_module", "by_inner"])
def test_plain_python_forbidden_function_is_trapped_however_reached(course, name):
    """torch.nn.utils.clip_grad_norm_ calls no handle_torch_function, so no TorchFunctionMode sees it: a
    `python=True` forbid has the worker swap every torch reference to it (and to get_total_norm, which it
    calls) for a checking wrapper before answer code runs."""
    forbids = [Forbid("torch.nn.utils.clip_grad_norm_", python=True), Forbid("torch.nn.utils.get_total_norm",
                                                                             python=True)]
    box = Sandbox([{"id": "c", "source": PLAIN_PYTHON, "kind": "answer"}], forbids,
                  Limits(call_seconds=10, total_seconds=120), denied=[str(course)], allowed=[])
    box.start()
    try:
        sub = Submission(box)
        with pytest.raises(StudentError, match=r"called torch\.nn\.utils\.(clip_grad_norm_|get_total_norm).*forbids"):
            getattr(sub, name)()
        assert sub.allowed() is True
    finally:
        box.close()
