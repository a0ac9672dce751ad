"""Wrong (and right) a10_lstm submissions, as edits of the reference answers."""

from autograder.samples import Sample, edit

CELL_VALUES = frozenset({"test_cell_small_example", "test_cell_forward", "test_cell_default_state",
                         "test_cell_unbatched", "test_cell_gradients", "test_cell_float64"})

SAMPLES = {
    "gate_order_i_f_o_g": Sample(
        why="the cell splits its gates as i, f, o, g (an order some papers use) instead of torch's i, f, g, o",
        patches={"lstm_cell": edit(("i, f, g, o = gates.chunk(4, dim=-1)", "i, f, o, g = gates.chunk(4, dim=-1)"))},
        fails=CELL_VALUES | {"test_cell_no_bias"},
    ),
    "cell_init_from_input_size_float32_zeros": Sample(
        why="the cell's init bound is 1/sqrt(input_size) (nn.Linear's habit), and hx=None gives float32 zeros",
        patches={"lstm_cell": edit(
            ("bound = 1 / math.sqrt(hidden_size)", "bound = 1 / math.sqrt(input_size)"),
            ("zeros = input.new_zeros(input.shape[0], self.hidden_size)",
             "zeros = torch.zeros(input.shape[0], self.hidden_size)"))},
        fails=frozenset({"test_cell_init", "test_cell_float64"}),
    ),
    "batch_first_transposes_hx": Sample(
        why="under batch_first the layer also transposes hx to [N, num_layers, H] (torch keeps it layer first)",
        patches={"lstm": edit((
            "            input = input.transpose(0, 1)  # (N, L, I) -> (L, N, I); hx is layer-first either way\n",
            "            input = input.transpose(0, 1)  # (N, L, I) -> (L, N, I)\n"
            "            if hx is not None:\n"
            "                hx = (hx[0].transpose(0, 1), hx[1].transpose(0, 1))  # batch first too (wrong)\n"))},
        fails=frozenset({"test_lstm_small_example", "test_lstm_batch_first_hx"}),
    ),
    "detached_state_fan_in_init": Sample(
        why="the state is detached after every step (truncated backprop: no gradient through time), and the "
            "init bound is 1/sqrt(input_size)",
        patches={"lstm": edit(
            ("                outs.append(h)\n",
             "                outs.append(h)\n                h, c = h.detach(), c.detach()\n"),
            ("H, bound = hidden_size, 1 / math.sqrt(hidden_size)",
             "H, bound = hidden_size, 1 / math.sqrt(input_size)"))},
        fails=frozenset({"test_lstm_gradients", "test_lstm_init"}),
    ),
    "first_layer_state_for_every_layer": Sample(
        why="every layer starts from h_0[0], c_0[0] instead of its own h_0[k], c_0[k]",
        patches={"lstm": edit(("h, c = h0[k], c0[k]", "h, c = h0[0], c0[0]"))},
        fails=frozenset({"test_lstm_small_example", "test_lstm_multilayer", "test_lstm_batch_first_hx",
                         "test_lstm_gradients"}),
    ),
    "unbatched_as_batch_under_batch_first": Sample(
        why="an unbatched [L, I] input under batch_first becomes [1, L, I] read as L sequences of length 1",
        patches={"lstm": edit(("            input = input.unsqueeze(1)  # (L, 1, I)",
                               "            input = input.unsqueeze(0 if self.batch_first else 1)"))},
        fails=frozenset({"test_lstm_unbatched", "test_lstm_float64"}),
    ),
    "cell_calls_torch_lstm_cell": Sample(
        forbidden_call="torch.lstm_cell",
        why="the cell's step is torch.lstm_cell (the kernel behind nn.LSTMCell)",
        patches={"lstm_cell": edit((
            "        gates = input @ self.weight_ih.T + h @ self.weight_hh.T  # (N, 4H)\n"
            "        if self.bias_ih is not None:\n"
            "            gates = gates + self.bias_ih + self.bias_hh\n"
            "        i, f, g, o = gates.chunk(4, dim=-1)  # (N, H) each, in torch's gate order\n"
            "        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)\n"
            "        h = torch.sigmoid(o) * torch.tanh(c)\n",
            "        h, c = torch.lstm_cell(input, (h, c), self.weight_ih, self.weight_hh,\n"
            "                               self.bias_ih, self.bias_hh)\n"))},
        fails=CELL_VALUES | {"test_cell_no_bias"},
    ),
    "layer_subclasses_nn_lstm": Sample(
        forbidden_call="torch.nn.LSTM",
        why="LSTM is torch's own: a subclass of nn.LSTM (same names and values, but forbidden)",
        patches={"lstm": "class LSTM(nn.LSTM):\n    \"\"\"torch's LSTM under another name.\"\"\"\n"},
        fails=frozenset({"test_lstm_small_example", "test_lstm_parameters", "test_lstm_multilayer",
                         "test_lstm_gradients"}),
    ),
}

# Right answers in other styles than the reference's: they must keep full marks.
CORRECT = {
    "four_gate_products_preallocated_output": Sample(
        why="the cell computes each gate with its own row block of the weights and recurses for unbatched input, "
            "init from torch.rand; the layer registers parameters with setattr, loops over layers then time with "
            "one product per step, writes each h into a preallocated output (out[t] = h), permutes for batch_first",
        patches={
            "lstm_cell": '''
class LSTMCell(nn.Module):
    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        self.hidden_size = hidden_size
        b = hidden_size ** -0.5
        self.weight_ih = nn.Parameter(torch.rand(4 * hidden_size, input_size) * 2 * b - b)
        self.weight_hh = nn.Parameter(torch.rand(4 * hidden_size, hidden_size) * 2 * b - b)
        if bias:
            self.bias_ih = nn.Parameter(torch.rand(4 * hidden_size) * 2 * b - b)
            self.bias_hh = nn.Parameter(torch.rand(4 * hidden_size) * 2 * b - b)
        else:
            self.bias_ih = self.bias_hh = None

    def forward(self, input, hx=None):
        if input.dim() == 1:
            h, c = self.forward(input[None], None if hx is None else (hx[0][None], hx[1][None]))
            return h[0], c[0]
        H = self.hidden_size
        if hx is None:
            zeros = torch.zeros(input.shape[0], H, dtype=input.dtype, device=input.device)
            hx = (zeros, zeros)
        h, c = hx

        def gate(k):  # rows k*H:(k+1)*H of every parameter belong to gate k
            rows = slice(k * H, (k + 1) * H)
            z = input @ self.weight_ih[rows].T + h @ self.weight_hh[rows].T
            if self.bias_ih is not None:
                z = z + self.bias_ih[rows] + self.bias_hh[rows]
            return z

        i, f, g, o = torch.sigmoid(gate(0)), torch.sigmoid(gate(1)), torch.tanh(gate(2)), torch.sigmoid(gate(3))
        c_new = f * c + i * g
        return o * torch.tanh(c_new), c_new
''',
            "lstm": '''
class LSTM(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False):
        super().__init__()
        self.hidden_size, self.num_layers, self.bias, self.batch_first = hidden_size, num_layers, bias, batch_first
        for k in range(num_layers):
            inputs = input_size if k == 0 else hidden_size
            setattr(self, f"weight_ih_l{k}", nn.Parameter(torch.empty(4 * hidden_size, inputs)))
            setattr(self, f"weight_hh_l{k}", nn.Parameter(torch.empty(4 * hidden_size, hidden_size)))
            if bias:
                setattr(self, f"bias_ih_l{k}", nn.Parameter(torch.empty(4 * hidden_size)))
                setattr(self, f"bias_hh_l{k}", nn.Parameter(torch.empty(4 * hidden_size)))
        for p in self.parameters():
            nn.init.uniform_(p, -1 / math.sqrt(hidden_size), 1 / math.sqrt(hidden_size))

    def forward(self, input, hx=None):
        batched = input.dim() == 3
        x = input if batched else input.unsqueeze(1)  # (L, N, I) or (N, L, I)
        if batched and self.batch_first:
            x = x.permute(1, 0, 2)  # (L, N, I)
        T, N, _ = x.shape
        H = self.hidden_size
        if hx is not None and not batched:
            hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1))  # (K, 1, H)
        hs, cs = [], []
        for k in range(self.num_layers):
            h = x.new_zeros(N, H) if hx is None else hx[0][k]
            c = x.new_zeros(N, H) if hx is None else hx[1][k]
            out = x.new_empty(T, N, H)
            for t in range(T):
                z = x[t] @ getattr(self, f"weight_ih_l{k}").T + h @ getattr(self, f"weight_hh_l{k}").T
                if self.bias:
                    z = z + getattr(self, f"bias_ih_l{k}") + getattr(self, f"bias_hh_l{k}")
                i, f, g, o = z.split(H, dim=1)
                c = f.sigmoid() * c + i.sigmoid() * g.tanh()
                h = o.sigmoid() * c.tanh()
                out[t] = h
            x = out
            hs.append(h)
            cs.append(c)
        h_n, c_n = torch.stack(hs), torch.stack(cs)  # (K, N, H)
        if not batched:
            return x.squeeze(1), (h_n.squeeze(1), c_n.squeeze(1))
        if self.batch_first:
            x = x.permute(1, 0, 2)  # (N, L, H)
        return x, (h_n, c_n)
''',
        },
        fails=frozenset(),
    ),
    "shared_step_function_time_outer_loop": Sample(
        why="one module-level step function on [x, h] @ [W_ih, W_hh]^T used by both classes; the layer loops over "
            "time outside and layers inside, handles unbatched input by calling itself, and unbinds/stacks along "
            "the batch_first axis",
        patches={
            "lstm_cell": '''
def _lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh):
    """One LSTM step on [N, I] inputs: returns (h', c')."""
    gates = torch.cat([x, h], dim=-1) @ torch.cat([w_ih, w_hh], dim=1).T  # (N, 4H)
    if b_ih is not None:
        gates = gates + (b_ih + b_hh)
    i, f, g, o = gates.chunk(4, -1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c.tanh(), c


class LSTMCell(nn.Module):
    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        self.hidden_size = hidden_size
        self.register_parameter("weight_ih", nn.Parameter(torch.empty(4 * hidden_size, input_size)))
        self.register_parameter("weight_hh", nn.Parameter(torch.empty(4 * hidden_size, hidden_size)))
        self.register_parameter("bias_ih", nn.Parameter(torch.empty(4 * hidden_size)) if bias else None)
        self.register_parameter("bias_hh", nn.Parameter(torch.empty(4 * hidden_size)) if bias else None)
        std = 1.0 / math.sqrt(hidden_size)
        with torch.no_grad():
            for w in self.parameters():
                w.uniform_(-std, std)

    def forward(self, input, hx=None):
        squeeze = input.ndim == 1
        x = input.reshape(-1, input.shape[-1])  # (N, I)
        if hx is None:
            h = c = torch.zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.device)
        else:
            h, c = (t.reshape(-1, self.hidden_size) for t in hx)
        h, c = _lstm_step(x, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        if squeeze:
            h, c = h[0], c[0]
        return (h, c)
''',
            "lstm": '''
class LSTM(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False):
        super().__init__()
        self.hidden_size, self.num_layers, self.batch_first = hidden_size, num_layers, batch_first
        self.has_bias = bias
        bound = 1.0 / math.sqrt(hidden_size)
        for layer in range(num_layers):
            for kind, cols in (("ih", input_size if layer == 0 else hidden_size), ("hh", hidden_size)):
                self.register_parameter(f"weight_{kind}_l{layer}", nn.Parameter(
                    torch.empty(4 * hidden_size, cols).uniform_(-bound, bound)))
                if bias:
                    self.register_parameter(f"bias_{kind}_l{layer}", nn.Parameter(
                        torch.empty(4 * hidden_size).uniform_(-bound, bound)))

    def _params(self, layer):
        b = (getattr(self, f"bias_ih_l{layer}"), getattr(self, f"bias_hh_l{layer}")) if self.has_bias else (None, None)
        return (getattr(self, f"weight_ih_l{layer}"), getattr(self, f"weight_hh_l{layer}"), *b)

    def forward(self, input, hx=None):
        if input.dim() == 2:  # unbatched: one sequence, sequence first whatever batch_first says
            hx1 = None if hx is None else (hx[0].unsqueeze(1), hx[1].unsqueeze(1))
            was_batch_first, self.batch_first = self.batch_first, False
            try:
                out, (h, c) = self.forward(input.unsqueeze(1), hx1)
            finally:
                self.batch_first = was_batch_first
            return out.squeeze(1), (h.squeeze(1), c.squeeze(1))
        time_dim = 1 if self.batch_first else 0
        seq = input.unbind(time_dim)  # L tensors (N, I)
        if hx is None:
            zero = seq[0].new_zeros(seq[0].shape[0], self.hidden_size)
            hs, cs = [zero] * self.num_layers, [zero] * self.num_layers
        else:
            hs, cs = list(hx[0].unbind(0)), list(hx[1].unbind(0))
        outs = []
        for x in seq:  # time outside, layers inside
            for layer in range(self.num_layers):
                hs[layer], cs[layer] = _lstm_step(x, hs[layer], cs[layer], *self._params(layer))
                x = hs[layer]
            outs.append(x)
        return torch.stack(outs, dim=time_dim), (torch.stack(hs), torch.stack(cs))
''',
        },
        fails=frozenset(),
    ),
    "addmm_split_explicit_sigmoid_lists": Sample(
        why="the layer's step with torch.addmm and torch.split, a hand-written sigmoid and tanh(x) = 2σ(2x) − 1 for "
            "the candidate, and lists instead of tuples for (output, [h_n, c_n])",
        patches={"lstm": edit(
            ("                i, f, g, o = (xw[t] + h @ w_hh.T).chunk(4, dim=-1)  # (N, H) each\n"
             "                c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)\n"
             "                h = torch.sigmoid(o) * torch.tanh(c)\n",
             "                z = torch.addmm(xw[t], h, w_hh.t())  # (N, 4H)\n"
             "                i, f, g, o = torch.split(z, self.hidden_size, dim=1)\n"
             "                c = _sigmoid(f) * c + _sigmoid(i) * (2 * _sigmoid(2 * g) - 1)\n"
             "                h = _sigmoid(o) * torch.tanh(c)\n"),
            ("class LSTM(nn.Module):\n",
             "def _sigmoid(v):\n    return 1 / (1 + torch.exp(-v))\n\n\nclass LSTM(nn.Module):\n"),
            ("        return x, (h_n, c_n)\n", "        return [x, [h_n, c_n]]\n"))},
        fails=frozenset(),
    ),
}
