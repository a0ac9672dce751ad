"""The public facts about each assignment: id, LBDL sections, forbidden built-ins, limits.

This is not hidden: students read the same list in their notebook. The hidden part (the tests)
lives in `autograder/suites/<id>.py`, which never ships in a release or a wheel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .remote import Limits


@dataclass(frozen=True)
class Forbid:
    """A built-in the student must not call.

    name:     dotted Python name, resolved in the worker and trapped whatever alias reaches it
    aten:     aten ops behind it, trapped by a TorchDispatchMode (catches torch.ops.aten, _C)
    static:   extra patterns for the AST scan (a pattern matches a dotted chain's tail);
              the last component of `name` is always one
    scope:    student names it applies to; empty = all of the assignment's code
    """

    name: str
    aten: tuple[str, ...] = ()
    static: tuple[str, ...] = ()
    scope: tuple[str, ...] = ()

    @property
    def patterns(self) -> tuple[str, ...]:
        """What the AST scan matches: `static` if given, else the last component of `name`."""
        return self.static or (self.name.split(".")[-1],)

    def wire(self) -> dict:
        """What the worker needs: scoped forbids are recorded there, and judged here by scope."""
        return {"name": self.name, "aten": list(self.aten), "raise": not self.scope, "scope": list(self.scope)}


# Not built-ins of any assignment, but ways to reach around the grader: never in answer code.
INTEGRITY: tuple[Forbid, ...] = tuple(
    Forbid(f"grader integrity: {p}", static=(p,))
    for p in ("exec", "eval", "compile", "__import__", "importlib", "ctypes", "gc.get_objects", "builtins",
              "__builtins__", "__subclasses__", "__globals__", "__code__", "torch._C", "torch.ops",
              "torch.overrides", "_python_dispatch", "sys.modules")
)


@dataclass(frozen=True)
class Assignment:
    id: str
    title: str
    lbdl: str
    forbidden: tuple[Forbid, ...] = ()
    limits: Limits = field(default_factory=Limits)


A01 = Assignment(
    "a01_tensors", "Tensors, broadcasting and basis-function regression", "1, 2",
    forbidden=(Forbid("torch.cdist", aten=("_cdist_forward", "cdist", "_euclidean_dist")),),
    limits=Limits(call_seconds=10.0),
)

_AUTOGRAD_SCOPE = ("mlp_backward",)
A02 = Assignment(
    "a02_training", "Losses, backpropagation by hand, and optimizers", "3",
    forbidden=(
        Forbid("torch.nn.functional.cross_entropy", aten=("nll_loss_forward", "nll_loss", "cross_entropy_loss")),
        Forbid("torch.nn.functional.log_softmax", aten=("_log_softmax", "log_softmax")),
        Forbid("torch.Tensor.log_softmax", aten=("_log_softmax",)),
        Forbid("torch.log_softmax", aten=("_log_softmax",)),
        Forbid("torch.logsumexp", aten=("logsumexp",)),
        Forbid("torch.Tensor.logsumexp", aten=("logsumexp",)),
        Forbid("torch.nn.CrossEntropyLoss"),
        Forbid("torch.optim.SGD", static=("optim.SGD",)),
        Forbid("torch.optim.Adam", static=("optim.Adam",)),
        Forbid("torch.optim.AdamW", static=("optim.AdamW",)),
        Forbid("torch.optim.sgd.sgd", static=("optim.sgd", "_functional")),
        Forbid("torch.optim.adamw.adamw", static=("optim.adamw",)),
        Forbid("torch.optim.adam.adam", static=("optim.adam",)),
        Forbid("torch.autograd.grad", static=("autograd",), scope=_AUTOGRAD_SCOPE),
        Forbid("torch.autograd.backward", scope=_AUTOGRAD_SCOPE),
        Forbid("torch.Tensor.backward", scope=_AUTOGRAD_SCOPE),
        Forbid("torch.func.grad", static=("func.grad", "func.vjp", "jacrev", "vjp"), scope=_AUTOGRAD_SCOPE),
        Forbid("torch.func.vjp", static=("func.vjp",), scope=_AUTOGRAD_SCOPE),
        Forbid("torch.Tensor.requires_grad_", static=("requires_grad_", "requires_grad"), scope=_AUTOGRAD_SCOPE),
    ),
    limits=Limits(call_seconds=10.0),
)

ASSIGNMENTS: dict[str, Assignment] = {a.id: a for a in (A01, A02)}


def get(assignment_id: str) -> Assignment:
    """The assignment, or a ValueError that lists the known ids."""
    try:
        return ASSIGNMENTS[assignment_id]
    except KeyError:
        known = ", ".join(sorted(ASSIGNMENTS))
        raise ValueError(f"unknown assignment {assignment_id!r}; known: {known}") from None
