"""The public facts about each assignment: id, LBDL sections, forbidden built-ins, limits.

This is not hidden: students read the same list in their notebook. The hidden part (the tests)
lives in `autograder/suites/<id>.py`, which never ships in a release or a wheel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .limits import Limits


@dataclass(frozen=True)
class Forbid:
    """A built-in the student must not call.

    name:     dotted Python name, resolved in the worker and trapped whatever alias reaches it
    aten:     aten ops behind it, trapped by a TorchDispatchMode (catches torch.ops.aten, _C)
    static:   extra patterns for the AST scan (a pattern matches a dotted chain's tail);
              the last component of `name` is always one
    scope:    student names it applies to; empty = all of the assignment's code
    python:   a plain Python function that no TorchFunctionMode sees (it calls no `handle_torch_function`,
              e.g. `torch.nn.utils.clip_grad_norm_`): the worker replaces it in torch's modules by a
              wrapper that checks, so aliases and `from ... import` still reach the trap
    """

    name: str
    aten: tuple[str, ...] = ()
    static: tuple[str, ...] = ()
    scope: tuple[str, ...] = ()
    python: bool = False

    @property
    def patterns(self) -> tuple[str, ...]:
        """What the AST scan matches: `static` if given, else the last component of `name`."""
        return self.static or (self.name.split(".")[-1],)

    def applies_to(self, name: str) -> bool:
        """The one scope rule: does this forbid count against code reached from student name `name`?
        (The sandbox asks it of each call's origin, the static scan of each name a test used.)"""
        return not self.scope or name in self.scope

    def wire(self) -> dict:
        """What the worker needs: scoped forbids are recorded there, and judged here by scope."""
        return {"name": self.name, "aten": list(self.aten), "raise": not self.scope, "scope": list(self.scope),
                "python": self.python}


# Not built-ins of any assignment, but ways to reach around the grader: never in answer code.
INTEGRITY: tuple[Forbid, ...] = tuple(
    Forbid(f"grader integrity: {p.lstrip('=')}", static=(p,))
    for p in ("=exec", "=eval", "=compile", "__import__", "importlib", "ctypes", "gc.get_objects", "builtins",
              "__builtins__", "__subclasses__", "__globals__", "__code__", "__closure__", "torch._C", "torch.ops",
              "torch.overrides", "_python_dispatch", "sys.modules", "__main__", "inspect", "sys._getframe",
              ".f_back", ".f_globals", ".f_locals", ".tb_frame", ".gi_frame")
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
        # attribute-only static pattern: a student's own `cross_entropy(...)` (the answer above) is not F's
        Forbid("torch.nn.functional.cross_entropy", aten=("nll_loss_forward", "nll_loss", "cross_entropy_loss"),
               static=(".cross_entropy",)),
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



def _fn(name: str, aten: tuple[str, ...] = (), *aliases: str) -> tuple[Forbid, ...]:
    """A functional built-in and its aliases, matched statically as attribute access only
    (`F.relu`, `x.relu()`, `torch.relu`), so the student's own `relu` is never flagged."""
    leaf = "." + name.split(".")[-1]
    return tuple(Forbid(n, aten=aten, static=(leaf,)) for n in (name, *aliases))


def _cls(*names: str) -> tuple[Forbid, ...]:
    """Module classes, matched as `nn.X` (never the student's own class `X`)."""
    return tuple(Forbid(n, static=("nn." + n.split(".")[-1],)) for n in names)


_CALL = Limits(call_seconds=10.0)

A03 = Assignment(
    "a03_linear", "Linear and convolutional layers, activations, softmax", "4.1–4.3",
    forbidden=(
        *_cls("torch.nn.Linear", "torch.nn.Conv2d", "torch.nn.ReLU", "torch.nn.GELU", "torch.nn.Softmax"),
        *_fn("torch.nn.functional.linear", ("linear",)),
        *_fn("torch.nn.functional.conv2d", ("convolution", "_convolution", "conv2d", "mkldnn_convolution"),
             "torch.conv2d"),
        *_fn("torch.nn.functional.relu", ("relu", "relu_"), "torch.relu", "torch.Tensor.relu", "torch.relu_",
             "torch.nn.functional.relu_"),
        *_fn("torch.nn.functional.gelu", ("gelu",)),
        *_fn("torch.nn.functional.softmax", ("_softmax", "softmax"), "torch.softmax", "torch.Tensor.softmax",
             "torch.special.softmax"),
        # loopholes that compute the same thing: exp(log_softmax) and threshold(x, 0, 0)
        *_cls("torch.nn.LogSoftmax", "torch.nn.Threshold"),
        *_fn("torch.nn.functional.log_softmax", ("_log_softmax", "log_softmax"), "torch.log_softmax",
             "torch.Tensor.log_softmax", "torch.special.log_softmax"),
        *_fn("torch.nn.functional.threshold", ("threshold", "threshold_"), "torch.threshold",
             "torch.nn.functional.threshold_"),
    ),
    limits=_CALL,
)

A04 = Assignment(
    "a04_pooling_dropout", "Pooling and dropout", "4.4–4.5",
    forbidden=(
        *_cls("torch.nn.MaxPool2d", "torch.nn.AvgPool2d", "torch.nn.Dropout"),
        *_fn("torch.nn.functional.max_pool2d", ("max_pool2d_with_indices", "max_pool2d", "mkldnn_max_pool2d"),
             "torch.max_pool2d", "torch.nn.functional.max_pool2d_with_indices"),
        *_fn("torch.nn.functional.avg_pool2d", ("avg_pool2d",)),
        *_fn("torch.nn.functional.dropout", ("dropout", "native_dropout", "dropout_"), "torch.dropout",
             "torch.dropout_", "torch.nn.functional.dropout1d", "torch.nn.functional.dropout2d"),
        # every other built-in pool or dropout reproduces the answer (max_pool1d twice = max_pool2d,
        # dropout3d on x.reshape(1, -1, 1, 1, 1) = dropout): forbidden too
        *_cls(*(f"torch.nn.{c}" for c in ("MaxPool1d", "MaxPool3d", "AvgPool1d", "AvgPool3d", "AdaptiveMaxPool1d",
                                           "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "AdaptiveAvgPool1d",
                                           "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "FractionalMaxPool2d",
                                           "FractionalMaxPool3d", "LPPool1d", "LPPool2d", "MaxUnpool2d", "Dropout1d",
                                           "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"))),
        *(f for name, aten in (
            ("max_pool1d", ("max_pool1d", "max_pool1d_with_indices")), ("max_pool3d", ("max_pool3d_with_indices",)),
            ("avg_pool1d", ("avg_pool1d",)), ("avg_pool3d", ("avg_pool3d",)),
            ("adaptive_max_pool1d", ("adaptive_max_pool1d",)), ("adaptive_max_pool2d", ("adaptive_max_pool2d",)),
            ("adaptive_max_pool3d", ("adaptive_max_pool3d",)), ("adaptive_avg_pool1d", ("adaptive_avg_pool1d",)),
            ("adaptive_avg_pool2d", ("adaptive_avg_pool2d", "_adaptive_avg_pool2d")),
            ("adaptive_avg_pool3d", ("adaptive_avg_pool3d", "_adaptive_avg_pool3d")),
            ("fractional_max_pool2d", ("fractional_max_pool2d",)),
            ("fractional_max_pool3d", ("fractional_max_pool3d",)), ("lp_pool1d", ()), ("lp_pool2d", ()),
            ("max_unpool2d", ("max_unpool2d",)), ("dropout3d", ("feature_dropout",)),
            ("alpha_dropout", ("alpha_dropout",)), ("feature_alpha_dropout", ("feature_alpha_dropout",)))
          for f in _fn(f"torch.nn.functional.{name}", aten)),
    ),
    limits=_CALL,
)

A05 = Assignment(
    "a05_normalization", "Batch, layer and RMS normalisation; residual blocks", "4.6–4.7",
    forbidden=(
        *_cls("torch.nn.BatchNorm1d", "torch.nn.BatchNorm2d", "torch.nn.BatchNorm3d", "torch.nn.LayerNorm",
              "torch.nn.RMSNorm"),
        *_fn("torch.nn.functional.batch_norm", ("native_batch_norm", "_native_batch_norm_legit",
                                                "_native_batch_norm_legit_no_training", "batch_norm",
                                                "_batch_norm_impl_index", "_batch_norm_with_update"),
             "torch.batch_norm"),
        *_fn("torch.nn.functional.layer_norm", ("native_layer_norm", "layer_norm"), "torch.layer_norm"),
        *_fn("torch.nn.functional.rms_norm", ("rms_norm", "_fused_rms_norm"), "torch.rms_norm"),
        # group norm with one group is layer norm; instance norm is batch norm per sample
        *_cls("torch.nn.GroupNorm", "torch.nn.InstanceNorm1d", "torch.nn.InstanceNorm2d", "torch.nn.InstanceNorm3d"),
        *_fn("torch.nn.functional.group_norm", ("native_group_norm", "group_norm"), "torch.group_norm"),
        *_fn("torch.nn.functional.instance_norm", ("instance_norm",), "torch.instance_norm"),
    ),
    limits=_CALL,
)

A06 = Assignment(
    "a06_attention", "Scaled dot-product and multi-head attention", "4.8",
    forbidden=(
        *_cls("torch.nn.MultiheadAttention"),
        *_fn("torch.nn.functional.scaled_dot_product_attention",
             ("scaled_dot_product_attention", "_scaled_dot_product_attention_math",
              "_scaled_dot_product_flash_attention", "_scaled_dot_product_efficient_attention",
              "_scaled_dot_product_flash_attention_for_cpu", "_scaled_dot_product_fused_attention_overrideable",
              "_scaled_dot_product_cudnn_attention")),
        *_fn("torch.nn.functional.multi_head_attention_forward", ("_native_multi_head_attention",)),
        *_fn("torch.nn.attention.flex_attention.flex_attention", ("flex_attention",)),
    ),
    limits=_CALL,
)

A07 = Assignment(
    "a07_embeddings", "Token embeddings and positional encodings (sinusoidal, RoPE)", "4.9–4.10",
    forbidden=(
        *_cls("torch.nn.Embedding", "torch.nn.EmbeddingBag"),
        *_fn("torch.nn.functional.embedding", ("embedding", "embedding_renorm_"), "torch.embedding"),
        *_fn("torch.nn.functional.embedding_bag", ("embedding_bag", "_embedding_bag", "_embedding_bag_forward_only"),
             "torch.embedding_bag"),
    ),
    limits=_CALL,
)

# One thread: on a shared 2-core box two OpenMP threads spin against each other (a ResNet epoch took
# 20-26 s with 2 threads, 0.8 s with 1), and one thread makes grading time predictable.
_TRAIN = Limits(call_seconds=240.0, exec_seconds=120.0, total_seconds=900.0, threads=1, memory_bytes=6 << 30)

A08 = Assignment("a08_mlp_cnn", "MLP, ConvNet and ResNet on digits", "5.1–5.2", limits=_TRAIN)


def _module(module: str, classes: tuple[str, ...], functions: tuple[str, ...] = ()) -> tuple[Forbid, ...]:
    """Everything in a torch module: the module itself (matched as an attribute or an import:
    `optim.lr_scheduler`, `from torch.optim import lr_scheduler`; a student's own variable `lr_scheduler` is
    not), each class (its `__init__` trapped; matched statically as `lr_scheduler.LambdaLR`, which
    `from torch.optim.lr_scheduler import LambdaLR` also names) and each plain Python function (wrapped in
    the worker)."""
    leaf = module.split(".")[-1]
    return (Forbid(module, static=("." + leaf,)),
            *(Forbid(f"{module}.{c}", static=(f"{leaf}.{c}",)) for c in classes),
            *(Forbid(f"{module}.{f}", static=(f"{leaf}.{f}",), python=True) for f in functions))


# torch 2.13's public contents (tests/test_static.py checks each resolves, and that none is missing)
LR_SCHEDULERS = ("LRScheduler", "_LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR",
                 "LinearLR", "ExponentialLR", "SequentialLR", "PolynomialLR", "CosineAnnealingLR", "ChainedScheduler",
                 "ReduceLROnPlateau", "CyclicLR", "CosineAnnealingWarmRestarts", "OneCycleLR")
SWA_CLASSES = ("AveragedModel", "SWALR")
CLIP_FUNCTIONS = ("clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_")
SWA_FUNCTIONS = ("update_bn", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn", "get_ema_avg_fn", "get_swa_avg_fn")

A09 = Assignment(
    "a09_gpt", "A GPT from scratch: tokenizer, model, training, sampling", "5.3, 7.1",
    forbidden=(
        *_cls("torch.nn.MultiheadAttention", "torch.nn.Transformer", "torch.nn.TransformerEncoder",
              "torch.nn.TransformerEncoderLayer", "torch.nn.TransformerDecoder", "torch.nn.TransformerDecoderLayer"),
        *_fn("torch.nn.functional.multi_head_attention_forward", ("_native_multi_head_attention",)),
        # the student writes clip_grad_norm and get_lr: torch's clipping helpers and schedulers are forbidden.
        # Attribute-only patterns (`.clip_grad_norm`, never the bare name): the student's own function is
        # called clip_grad_norm too. Plain Python functions, so the worker wraps them (python=True).
        *(Forbid(f"torch.nn.utils.{n}", static=(f".{n}",), python=True) for n in CLIP_FUNCTIONS),
        Forbid("torch.nn.utils.clip_grad", static=(".clip_grad",)),  # their module (the wrappers replace its
        # `_get_total_norm` and `_clip_grads_with_norm_` too: the worker swaps every torch reference to them)
        *_module("torch.optim.lr_scheduler", LR_SCHEDULERS),
        *_module("torch.optim.swa_utils", SWA_CLASSES, SWA_FUNCTIONS),
    ),
    limits=_TRAIN,
)

# a10: every recurrent built-in of torch.nn and its kernels. The dispatch trap sees only kernels: nn.LSTM on CPU reaches
# `mkldnn_rnn_layer` (float32) or decomposes into mm/sigmoid/tanh (float64), and `lstm_cell` is composite, so
# the function trap (which sees torch.lstm_cell, torch._VF.lstm_cell and torch.ops.aten.lstm_cell alike) and the
# classes' patched __init__ (subclasses too: nn.LSTM calls RNNBase.__init__) do most of the work here.
# torch function -> the aten kernels behind it (what a TorchDispatchMode sees if one is reached another way)
_RNN_FUNCTIONS = {
    "lstm": ("lstm", "mkldnn_rnn", "_thnn_fused_lstm_cell", "_thnn_fused_lstm_cell_backward_impl"),
    "lstm_cell": ("lstm_cell",), "gru": ("gru", "_thnn_fused_gru_cell"), "gru_cell": ("gru_cell",),
    "rnn_tanh": ("rnn_tanh",), "rnn_tanh_cell": ("rnn_tanh_cell",), "rnn_relu": ("rnn_relu",),
    "rnn_relu_cell": ("rnn_relu_cell",), "mkldnn_rnn_layer": ("mkldnn_rnn_layer", "mkldnn_rnn_layer_backward"),
    "_cudnn_rnn": ("_cudnn_rnn",), "miopen_rnn": ("miopen_rnn",), "_lstm_mps": ("_lstm_mps", "lstm_mps_backward"),
    "quantized_lstm": ("quantized_lstm",), "quantized_gru": ("quantized_gru",),
    "quantized_lstm_cell": ("quantized_lstm_cell",), "quantized_gru_cell": ("quantized_gru_cell",),
    "quantized_rnn_tanh_cell": ("quantized_rnn_tanh_cell",), "quantized_rnn_relu_cell": ("quantized_rnn_relu_cell",),
}

A10 = Assignment(
    "a10_lstm", "LSTM cells and layers; LSTM vs transformer", "The missing bits (RNNs)",
    forbidden=(
        *_cls("torch.nn.LSTM", "torch.nn.LSTMCell", "torch.nn.RNN", "torch.nn.RNNCell", "torch.nn.GRU",
              "torch.nn.GRUCell", "torch.nn.RNNBase", "torch.nn.RNNCellBase"),
        # torch's other LSTMs: quantizable (plain Python over nn.Linear) and dynamically quantized ones
        Forbid("torch.ao.nn.quantizable.LSTM", static=("quantizable.LSTM",)),
        Forbid("torch.ao.nn.quantizable.LSTMCell", static=("quantizable.LSTMCell",)),
        Forbid("torch.ao.nn.quantized.dynamic.modules.rnn.RNNBase", static=("dynamic.LSTM", "dynamic.GRU",
                                                                            "dynamic.modules.rnn")),
        Forbid("torch.ao.nn.quantized.dynamic.modules.rnn.RNNCellBase", static=("dynamic.LSTMCell",
                                                                                "dynamic.GRUCell", "dynamic.RNNCell")),
        *(f for name, aten in _RNN_FUNCTIONS.items() for f in _fn(f"torch.{name}", aten)),
        Forbid("torch._VF", static=("_VF",)),  # the module behind nn.LSTM: torch._VF.lstm is torch.lstm
    ),
    limits=_CALL,
)

# SDPA and every aten kernel behind it (the CPU flash kernel included): the student writes the tiling
SDPA_KERNELS = ("scaled_dot_product_attention", "_scaled_dot_product_attention_math",
                "_scaled_dot_product_attention_math_for_mps", "_scaled_dot_product_flash_attention",
                "_scaled_dot_product_flash_attention_backward", "_scaled_dot_product_flash_attention_for_cpu",
                "_scaled_dot_product_flash_attention_for_cpu_backward", "_scaled_dot_product_efficient_attention",
                "_scaled_dot_product_efficient_attention_backward", "_scaled_dot_product_cudnn_attention",
                "_scaled_dot_product_cudnn_attention_backward", "_scaled_dot_product_fused_attention_overrideable",
                "_scaled_dot_product_fused_attention_overrideable_backward", "_flash_attention_forward",
                "_flash_attention_backward", "_efficient_attention_forward", "_efficient_attention_backward")

A11 = Assignment(
    "a11_flash_attention", "FlashAttention: tiled attention with an online softmax",
    "4.8; FlashAttention (reading list)",
    forbidden=(
        *_fn("torch.nn.functional.scaled_dot_product_attention", SDPA_KERNELS),
        # the whole torch.nn.attention package (sdpa_kernel, flex attention, varlen attention, causal biases)
        Forbid("torch.nn.attention", static=("nn.attention",)),
        *_fn("torch.nn.attention.flex_attention.flex_attention", ("flex_attention",)),
        *_fn("torch.nn.attention.varlen.varlen_attn"),
        *_cls("torch.nn.MultiheadAttention", "torch.nn.Softmax"),
        *_fn("torch.nn.functional.multi_head_attention_forward", ("_native_multi_head_attention",)),
        # the student writes the online softmax: no softmax kernel, forward or backward
        *_fn("torch.nn.functional.softmax", ("_softmax", "softmax", "_safe_softmax", "_softmax_backward_data"),
             "torch.softmax", "torch.Tensor.softmax", "torch.special.softmax"),
    ),
    limits=Limits(),  # 20 CPU seconds a call: a Python loop over small blocks, watched op by op
)

# a12 forbids no built-in (pure Python and torch): only the grader-integrity rules apply to its answers.
A12 = Assignment("a12_rasp", "RASP: thinking like a transformer, and a head set by hand",
                 "Thinking Like Transformers, Tracr (reading list)", limits=_CALL)

ASSIGNMENTS: dict[str, Assignment] = {
    a.id: a for a in (A01, A02, A03, A04, A05, A06, A07, A08, A09, A10, A11, A12)
}


def get(assignment_id: str) -> Assignment:
    """The assignment, or a ValueError that lists the known ids."""
    try:
        return ASSIGNMENTS[assignment_id]
    except KeyError:
        known = ", ".join(sorted(ASSIGNMENTS))
        raise ValueError(f"unknown assignment {assignment_id!r}; known: {known}") from None
