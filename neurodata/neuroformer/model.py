"""The Neuroformer network (Antoniades et al. 2023) as a torch ``nn.Module``.

Data flow of one sample (E = ``n_embd``):

1. token embeddings: ``tok_emb[id] + dt_emb[dt] + pos`` for the current window (L tokens) and the past window
   (P tokens; its own position table);
2. current-window encoder: ``n_state`` causal self-attention blocks (the reference's feature encoder);
3. past-state encoder: ``n_past`` self-attention blocks over the past tokens (padding masked);
4. ``n_history`` cross-attention blocks, current queries onto the encoded past (the reference's
   "state history" blocks);
5. optional behaviour: ``n_behavior_features`` series per time bin → linear embedding + positions →
   ``n_behavior_layers`` self-attention blocks, then as many cross-attention blocks of the current tokens
   onto them;
6. ``n_self`` causal self-attention blocks, then the ID head (``n_units + 3``) and the dt head (19).

Blocks are pre-norm with a final LayerNorm, as the reference's: ``x += attn(ln1(x), kv)``,
``x += mlp(ln2(x))``, ``x = ln_f(x)``; keys and values are the raw ``kv`` input (no norm on them). Attention
goes through ``scaled_dot_product_attention`` (fused: no (B, heads, L, L) map is kept); the maps are only
computed when asked for (:meth:`NeuroformerNet.history_attention`, the connectivity readout).

Stimulus (optional, ``n_stimulus_layers > 0``): video frames (B, 1, T, H, W) → a Conv3d patch embedding
(kernel ``frame_kernel``, stride ``frame_stride``, LayerNorm, ReLU; the reference's 3×8×8 / 3×4×4) plus a fixed
sinusoidal position code → ``n_stimulus_layers`` self-attention blocks, and as many cross-attention blocks of
the current tokens onto them after the history blocks. Without frames those blocks are skipped (the reference
crashes there).

The dt of a token enters through the reference's learnt temporal embedding: an MLP (1 → E/2 → E, GELU) of the
dt token's value. With the V1AL sizes the parameter count is the reference's, 23,881,216 + 512 (N + 3).
"""
import math

from ..deep import import_torch

torch = import_torch("neurodata.neuroformer.model")
nn = torch.nn
F = torch.nn.functional

__all__ = ["Block", "NeuroformerNet", "contrastive_loss"]


class Attention(nn.Module):
    """Multi-head attention: queries from ``x``, keys and values from ``kv`` (self-attention when kv is x)."""

    def __init__(self, n_embd, n_head, dropout):
        super().__init__()
        if n_embd % n_head:
            raise ValueError(f"n_embd ({n_embd}) must be a multiple of n_head ({n_head})")
        self.n_head, self.dropout = n_head, dropout
        self.query, self.key, self.value = (nn.Linear(n_embd, n_embd) for _ in range(3))
        self.proj = nn.Linear(n_embd, n_embd)
        self.resid_drop = nn.Dropout(dropout)

    def _heads(self, layer, x):
        b, t, e = x.shape
        return layer(x).view(b, t, self.n_head, e // self.n_head).transpose(1, 2)

    def forward(self, x, kv, mask=None):
        q, k, v = self._heads(self.query, x), self._heads(self.key, kv), self._heads(self.value, kv)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                           dropout_p=self.dropout if self.training else 0.0)
        b, _, t, _ = y.shape
        return self.resid_drop(self.proj(y.transpose(1, 2).reshape(b, t, -1)))

    def weights(self, x, kv, mask=None):
        """The softmax attention map (B, heads, Lq, Lk), materialised (for readouts, not for training)."""
        q, k = self._heads(self.query, x), self._heads(self.key, kv)
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        return scores.softmax(-1)


class Block(nn.Module):
    """Pre-norm transformer block with a closing LayerNorm (the reference's layout)."""

    def __init__(self, n_embd, n_head, dropout):
        super().__init__()
        self.ln1, self.ln2, self.ln_f = nn.LayerNorm(n_embd), nn.LayerNorm(n_embd), nn.LayerNorm(n_embd)
        self.attn = Attention(n_embd, n_head, dropout)
        self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.GELU(), nn.Linear(4 * n_embd, n_embd),
                                 nn.Dropout(dropout))

    def forward(self, x, kv=None, mask=None):
        h = self.ln1(x)
        x = x + self.attn(h, h if kv is None else kv, mask)
        x = x + self.mlp(self.ln2(x))
        return self.ln_f(x)


def _stack(n, *args):
    return nn.ModuleList(Block(*args) for _ in range(n))


class _TemporalEmbedding(nn.Module):
    """The reference's learnt temporal embedding: an MLP of a token's dt value (B, T) → (B, T, E)."""

    def __init__(self, n_embd, dropout):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1, n_embd // 2), nn.GELU(), nn.Linear(n_embd // 2, n_embd),
                                 nn.Dropout(dropout))

    def forward(self, dts):
        return self.net(dts.to(self.net[0].weight.dtype)[..., None])


def _sinusoid(length, dim, device, dtype):
    """Fixed sine/cosine position code (length, dim); no parameters."""
    pos = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    freq = torch.exp(-math.log(10000.0) * torch.arange(0, dim, 2, device=device, dtype=torch.float32) / dim)
    code = torch.zeros(length, dim, device=device)
    code[:, 0::2], code[:, 1::2] = torch.sin(pos * freq), torch.cos(pos * freq)[:, :dim // 2]
    return code.to(dtype)


def contrastive_loss(a, b, temperature):
    """Symmetric InfoNCE (CLIP) between row-matched embeddings a and b (B, D): cosine logits / temperature."""
    a, b = F.normalize(a, dim=-1), F.normalize(b, dim=-1)
    logits = a @ b.T / temperature
    labels = torch.arange(a.shape[0], device=a.device)
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))


class NeuroformerNet(nn.Module):
    """Neuroformer network; see the module docstring for the data flow.

    Sizes: ``id_vocab`` (n_units + 3), ``dt_vocab`` (19), ``block`` (current tokens read: block + 1 with SOS),
    ``past_block`` (past tokens with SOS), behaviour bins ``behavior_block`` of ``n_behavior_features``.
    """

    def __init__(self, *, id_vocab, dt_vocab, block, past_block, n_embd=256, n_head=8, n_state=6, n_past=0,
                 n_history=6, n_self=6, n_behavior_features=0, behavior_block=0, n_behavior_layers=0,
                 n_stimulus_layers=0, frame_kernel=(3, 8, 8), frame_stride=(3, 4, 4), clip_dim=0,
                 clip_temperature=0.5, dropout=0.2):
        super().__init__()
        self.n_embd, self.clip_temperature = n_embd, clip_temperature
        self.tok_emb = nn.Embedding(id_vocab, n_embd)
        self.dt_emb = _TemporalEmbedding(n_embd, dropout)
        self.dt_emb_past = _TemporalEmbedding(n_embd, dropout)
        self.pos_emb = nn.Parameter(torch.zeros(1, block, n_embd))
        self.pos_emb_past = nn.Parameter(torch.zeros(1, past_block, n_embd))
        self.drop = nn.Dropout(dropout)
        args = (n_embd, n_head, dropout)
        self.state_blocks, self.past_blocks = _stack(n_state, *args), _stack(n_past, *args)
        self.history_blocks, self.self_blocks = _stack(n_history, *args), _stack(n_self, *args)
        self.has_frames = n_stimulus_layers > 0
        if self.has_frames:
            self.frame_conv = nn.Conv3d(1, n_embd, kernel_size=tuple(frame_kernel), stride=tuple(frame_stride))
            self.frame_norm = nn.LayerNorm(n_embd)
            self.frame_blocks = _stack(n_stimulus_layers, *args)
            self.stimulus_blocks = _stack(n_stimulus_layers, *args)
        self.has_behavior = n_behavior_features > 0
        if self.has_behavior:
            self.behavior_emb = nn.Linear(n_behavior_features, n_embd)
            self.pos_emb_behavior = nn.Parameter(torch.zeros(1, behavior_block, n_embd))
            self.behavior_blocks = _stack(n_behavior_layers, *args)
            self.behavior_cross_blocks = _stack(max(n_behavior_layers, 1), *args)
        self.clip_neural = nn.Linear(n_embd, clip_dim, bias=False) if clip_dim and self.has_behavior else None
        self.clip_behavior = nn.Linear(n_embd, clip_dim, bias=False) if self.clip_neural is not None else None
        self.ln_f = nn.LayerNorm(n_embd)
        self.head_id = nn.Linear(n_embd, id_vocab, bias=False)
        self.head_dt = nn.Linear(n_embd, dt_vocab, bias=False)
        self.apply(self._init)

    @staticmethod
    def _init(module):  # the reference's (GPT's) initialisation
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, 0.0, 0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)

    # ------------------------------------------------------------------ pieces
    @staticmethod
    def causal_mask(length, device):
        return torch.ones(length, length, dtype=torch.bool, device=device).tril()

    def embed(self, ids, dts, pos, temporal):
        return self.drop(self.tok_emb(ids) + temporal(dts) + pos[:, :ids.shape[1]])

    def encode_frames(self, frames):
        """(B, 1, T, H, W) video → (B, patches, E) encoded stimulus tokens."""
        f = torch.relu(self.frame_norm(self.frame_conv(frames).permute(0, 2, 3, 4, 1)))
        f = f.reshape(f.shape[0], -1, self.n_embd)
        f = self.drop(f + _sinusoid(f.shape[1], self.n_embd, f.device, f.dtype))
        for blk in self.frame_blocks:
            f = blk(f)
        return f

    def encode(self, ids, dts, past_ids, past_dts, past_valid, behavior=None, frames=None):
        """Hidden states (B, L, E) of the current tokens and the encoded past (B, P, E) and its key mask."""
        x = self.embed(ids, dts, self.pos_emb, self.dt_emb)
        causal = self.causal_mask(ids.shape[1], ids.device)
        for blk in self.state_blocks:
            x = blk(x, mask=causal)
        past = self.embed(past_ids, past_dts, self.pos_emb_past, self.dt_emb_past)
        key_mask = past_valid[:, None, None, :]  # (B, 1, 1, P): True = a real key
        for blk in self.past_blocks:
            past = blk(past, mask=key_mask)
        for blk in self.history_blocks:
            x = blk(x, past, key_mask)
        if frames is not None:
            if not self.has_frames:
                raise ValueError("frames were given to a network built without a stimulus encoder "
                                 "(n_stimulus_layers=0)")
            stim = self.encode_frames(frames)
            for blk in self.stimulus_blocks:
                x = blk(x, stim)
        beh = None
        if behavior is not None:
            if not self.has_behavior:
                raise ValueError("behaviour was given to a network built without a behaviour encoder "
                                 "(n_behavior_features=0)")
            beh = self.drop(self.behavior_emb(behavior) + self.pos_emb_behavior[:, :behavior.shape[1]])
            for blk in self.behavior_blocks:
                beh = blk(beh)
            for blk in self.behavior_cross_blocks:
                x = blk(x, beh)
        for blk in self.self_blocks:
            x = blk(x, mask=causal)
        return self.ln_f(x), past, key_mask, beh

    def forward(self, ids, dts, past_ids, past_dts, past_valid, behavior=None, frames=None):
        """ID logits (B, L, id_vocab), dt logits (B, L, dt_vocab), hidden states (B, L, E), behaviour states."""
        h, _, _, beh = self.encode(ids, dts, past_ids, past_dts, past_valid, behavior, frames)
        return self.head_id(h), self.head_dt(h), h, beh

    def contrastive(self, h, valid, beh):
        """CLIP loss between the mean valid hidden state and the mean behaviour state of each sample."""
        neural = (h * valid[..., None]).sum(1) / valid.sum(1, keepdim=True).clamp(min=1)
        return contrastive_loss(self.clip_neural(neural), self.clip_behavior(beh.mean(1)), self.clip_temperature)

    @torch.no_grad()
    def history_attention(self, ids, dts, past_ids, past_dts, past_valid, behavior=None):
        """Current → past attention maps of every history block, averaged over heads: (B, n_history, L, P)."""
        x = self.embed(ids, dts, self.pos_emb, self.dt_emb)
        causal = self.causal_mask(ids.shape[1], ids.device)
        for blk in self.state_blocks:
            x = blk(x, mask=causal)
        past = self.embed(past_ids, past_dts, self.pos_emb_past, self.dt_emb_past)
        key_mask = past_valid[:, None, None, :]
        for blk in self.past_blocks:
            past = blk(past, mask=key_mask)
        maps = []
        for blk in self.history_blocks:
            maps.append(blk.attn.weights(blk.ln1(x), past, key_mask).mean(1))
            x = blk(x, past, key_mask)
        return torch.stack(maps, 1)
