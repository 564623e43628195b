"""Neuroformer benchmarks (#29): one training step with fused attention (ours, scaled_dot_product_attention)
against the same network with every attention map materialised and dropped out as the reference does
(baseline), one CPU thread.

bench_training_step: the spikes-only step (current and past blocks of 100 tokens); the V1AL sizes (18 + 6
blocks of width 256, 8 heads, batch 8) with --full, a 2 + 2 + 2-block network otherwise. Peak memory is
reported on CUDA only (torch's CPU allocations are not visible to tracemalloc).
"""
import time


def _materialised(self, x, kv, mask=None):
    """The reference's attention: softmax map kept, dropout on the map, then the weighted sum."""
    import torch

    q, k, v = self._heads(self.query, x), self._heads(self.key, kv), self._heads(self.value, kv)
    att = q @ k.transpose(-2, -1) / (q.shape[-1] ** 0.5)
    if mask is not None:
        att = att.masked_fill(~mask, float("-inf"))
    att = torch.nn.functional.dropout(att.softmax(-1), self.dropout, self.training)
    y = att @ v
    b, _, t, _ = y.shape
    return self.resid_drop(self.proj(y.transpose(1, 2).reshape(b, t, -1)))


def bench_training_step(quick=True):
    import torch

    from neurodata.deep import torch_runtime
    from neurodata.neuroformer.model import Attention, NeuroformerNet

    layers = 2 if quick else 6
    batch, length, n_units = 8, 100, 386
    times = {}
    with torch_runtime("cpu", 1):
        for name in ("ours", "baseline"):
            torch.manual_seed(0)
            net = NeuroformerNet(id_vocab=n_units + 3, dt_vocab=19, block=length, past_block=length, n_embd=256,
                                 n_head=8, n_state=layers, n_history=layers, n_self=layers)
            opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
            ids = torch.randint(0, n_units, (batch, length))
            dts = torch.randint(0, 6, (batch, length))
            pids, pdts = torch.randint(0, n_units, (batch, length)), torch.randint(0, 16, (batch, length))
            valid = torch.ones(batch, length, dtype=torch.bool)
            original = Attention.forward
            if name == "baseline":
                Attention.forward = _materialised
            try:
                steps = []
                for _ in range(3):
                    tic = time.perf_counter()
                    id_logits, dt_logits, _, _ = net(ids, dts, pids, pdts, valid)
                    loss = id_logits.logsumexp(-1).mean() + dt_logits.logsumexp(-1).mean()
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    steps.append(time.perf_counter() - tic)
            finally:
                Attention.forward = original
            times[name] = min(steps[1:])  # the first step warms up
    return {"name": "neuroformer_step" + ("" if quick else "_v1al"), "ours": times["ours"],
            "baseline": times["baseline"], "layers_per_stack": layers, "batch": batch}
