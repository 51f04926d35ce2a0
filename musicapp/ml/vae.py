"""The melody VAE (MusicVAE-style): bidirectional LSTM encoder -> latent -> LSTM decoder.

Owns the network, its named config, the loss (reconstruction + KL with free bits and an
annealed weight) and the fast step-by-step greedy/sampled decoder used at inference.

Sequences are windows of ``T`` 16th steps (``T <= VaeConfig.max_steps``) in the
``musicapp.ml.encoding`` vocabulary. Every step carries its position in the bar and the bar
length, so the same model serves 2/4, 3/4, 6/8 and 4/4 windows. Shapes below use
``B`` = batch, ``T`` = steps, ``Z`` = latent size, ``H`` = decoder hidden size.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from musicapp.ml import encoding as enc


@dataclass(frozen=True)
class VaeConfig:
    """Model hyper-parameters (stored in the checkpoint's JSON and checked on load)."""

    num_classes: int = enc.NUM_CLASSES
    vocab_size: int = enc.VOCAB_SIZE
    max_bar_steps: int = enc.MAX_BAR_STEPS
    max_steps: int = 32  # window length in 16th steps (two 4/4 bars)
    token_dim: int = 64
    pos_dim: int = 16
    enc_hidden: int = 192  # per direction
    latent: int = 128
    dec_hidden: int = 256
    window_pos: bool = False  # also feed each step's index in the window (0..max_steps-1)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class LossWeights:
    """KL weight ``beta`` (already annealed by the caller) and free bits in nats per window."""

    beta: float = 0.1
    free_nats: float = 80.0


class MelodyVae(nn.Module):
    """Encoder ``q(z | x)`` and autoregressive decoder ``p(x | z)`` over melody windows."""

    def __init__(self, cfg: VaeConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.tok = nn.Embedding(cfg.vocab_size, cfg.token_dim)
        self.pos = nn.Embedding(cfg.max_bar_steps, cfg.pos_dim)
        self.bar = nn.Embedding(cfg.max_bar_steps + 1, cfg.pos_dim)
        self.step = nn.Embedding(cfg.max_steps, cfg.pos_dim) if cfg.window_pos else None
        feat = cfg.token_dim + (3 if cfg.window_pos else 2) * cfg.pos_dim
        self.encoder = nn.LSTM(feat, cfg.enc_hidden, batch_first=True, bidirectional=True)
        self.to_mu = nn.Linear(2 * cfg.enc_hidden, cfg.latent)
        self.to_logvar = nn.Linear(2 * cfg.enc_hidden, cfg.latent)
        self.z_to_state = nn.Linear(cfg.latent, 2 * cfg.dec_hidden)
        self.decoder = nn.LSTM(feat + cfg.latent, cfg.dec_hidden, batch_first=True)
        self.out = nn.Linear(cfg.dec_hidden, cfg.num_classes)

    # ----- pieces ------------------------------------------------------------------------
    def _meter(self, pos: torch.Tensor, bar_len: torch.Tensor) -> torch.Tensor:
        """Position features ``(B, T, k * pos_dim)``: position in the bar, bar length and (with
        ``window_pos``) the step's index in the window, which lets the decoder address what
        the latent says about each step directly instead of counting steps."""
        feats = [self.pos(pos.clamp(0, self.cfg.max_bar_steps - 1)), self.bar(bar_len.clamp(1, self.cfg.max_bar_steps))]
        if self.step is not None:
            idx = torch.arange(pos.shape[1], device=pos.device).clamp(max=self.cfg.max_steps - 1)
            feats.append(self.step(idx).unsqueeze(0).expand(pos.shape[0], -1, -1))
        return torch.cat(feats, dim=-1)

    def encode(self, tokens: torch.Tensor, pos: torch.Tensor, bar_len: torch.Tensor,
               lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and log-variance, each ``(B, Z)``, of windows ``(B, T)``.

        ``lengths`` ``(B,)`` gives each window's true length; steps beyond it are padding.
        """
        x = torch.cat([self.tok(tokens), self._meter(pos, bar_len)], dim=-1)
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, (h, _) = self.encoder(packed)
        hcat = torch.cat([h[0], h[1]], dim=-1)
        return self.to_mu(hcat), self.to_logvar(hcat).clamp(-12.0, 8.0)

    def _initial_state(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h0, c0 = torch.tanh(self.z_to_state(z)).chunk(2, dim=-1)
        return h0.unsqueeze(0).contiguous(), c0.unsqueeze(0).contiguous()

    def decode_logits(self, z: torch.Tensor, tokens: torch.Tensor, pos: torch.Tensor,
                      bar_len: torch.Tensor, word_dropout: float = 0.0) -> torch.Tensor:
        """Teacher-forced logits ``(B, T, num_classes)`` for targets ``tokens`` ``(B, T)``."""
        b, t = tokens.shape
        prev = torch.cat([torch.full((b, 1), enc.BOS, dtype=tokens.dtype, device=tokens.device),
                          tokens[:, :-1]], dim=1)
        if word_dropout > 0 and self.training:
            drop = torch.rand(prev.shape, device=prev.device) < word_dropout
            prev = torch.where(drop, torch.full_like(prev, enc.BOS), prev)
        x = torch.cat([self.tok(prev), self._meter(pos, bar_len), z.unsqueeze(1).expand(b, t, -1)], dim=-1)
        y, _ = self.decoder(x, self._initial_state(z))
        return self.out(y)

    # ----- training ----------------------------------------------------------------------
    def loss(self, tokens: torch.Tensor, pos: torch.Tensor, bar_len: torch.Tensor, lengths: torch.Tensor,
             weights: LossWeights, word_dropout: float = 0.0) -> dict[str, torch.Tensor]:
        """Negative ELBO pieces for a padded batch.

        Returns a dict of scalars: ``loss`` (to minimise), ``recon`` (nats per window), ``kl``
        (nats per window), ``acc`` (teacher-forced step accuracy) and ``steps`` (count).
        """
        mu, logvar = self.encode(tokens, pos, bar_len, lengths)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        logits = self.decode_logits(z, tokens, pos, bar_len, word_dropout)
        mask = torch.arange(tokens.shape[1], device=tokens.device)[None, :] < lengths[:, None]
        nll = F.cross_entropy(logits.transpose(1, 2), tokens, reduction="none") * mask
        recon = nll.sum(1)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(1)
        kl_pen = torch.clamp(kl - weights.free_nats, min=0.0)
        loss = (recon + weights.beta * kl_pen).mean()
        acc = ((logits.argmax(-1) == tokens) & mask).sum() / mask.sum()
        return {"loss": loss, "recon": recon.mean(), "kl": kl.mean(), "acc": acc, "steps": mask.sum()}

    # ----- inference ---------------------------------------------------------------------
    def refine_latent(self, z: torch.Tensor, tokens: torch.Tensor, pos: torch.Tensor, bar_len: torch.Tensor,
                      lengths: torch.Tensor, steps: int = 40, lr: float = 0.1,
                      margin: float = 0.5, cancelled: Callable[[], bool] | None = None) -> tuple[torch.Tensor, int]:
        """Move latents ``z`` ``(B, Z)`` to codes that decode to windows ``tokens`` ``(B, T)``.

        Closes the encoder's amortisation gap (semi-amortised inference, Kim et al. 2018): up
        to ``steps`` Adam steps on ``z`` alone (the weights stay fixed) maximise
        ``log p(x | z)``. A window drops out as soon as, at every real step, the true token's
        teacher-forced logit beats all others by ``margin`` (so greedy decoding reproduces it
        exactly, with room for rounding). Returns the latents and the number of steps taken.
        ``cancelled`` is polled every step (raises ``InterruptedError``).
        """
        z = z.detach().clone()
        mask = torch.arange(tokens.shape[1], device=tokens.device)[None, :] < lengths[:, None]
        active = torch.arange(z.shape[0], device=z.device)
        m = torch.zeros_like(z)
        v = torch.zeros_like(z)
        b1, b2, eps = 0.9, 0.999, 1e-8
        used = 0
        with torch.enable_grad():
            for used in range(1, steps + 1):
                if cancelled is not None and cancelled():
                    raise InterruptedError("refinement cancelled")
                za = z[active].requires_grad_(True)
                logits = self.decode_logits(za, tokens[active], pos[active], bar_len[active])
                ma = mask[active]
                done = ((_margin(logits, tokens[active]) > margin) | ~ma).all(1)
                if bool(done.all()):
                    break
                nll = (F.cross_entropy(logits.transpose(1, 2), tokens[active], reduction="none") * ma).sum()
                (grad,) = torch.autograd.grad(nll, za)
                grad = grad * (~done)[:, None]  # finished windows stay where they are
                m[active] = b1 * m[active] + (1 - b1) * grad
                v[active] = b2 * v[active] + (1 - b2) * grad * grad
                step = lr * (m[active] / (1 - b1 ** used)) / ((v[active] / (1 - b2 ** used)).sqrt() + eps)
                z[active] = za.detach() - step
                active = active[~done]
        return z, used

    @torch.no_grad()
    def generate(self, z: torch.Tensor, pos: torch.Tensor, bar_len: torch.Tensor, temperature: float = 0.0,
                 allowed: torch.Tensor | None = None, generator: torch.Generator | None = None,
                 cancelled: Callable[[], bool] | None = None, step_bias: torch.Tensor | None = None,
                 steer=None) -> torch.Tensor:
        """Decode latents ``z`` ``(B, Z)`` into tokens ``(B, T)`` for meter rows ``(B, T)``.

        ``temperature`` 0 takes the most likely token each step (greedy); above 0 samples.
        ``allowed`` is an optional bool mask ``(num_classes,)`` of permitted tokens (key
        constraint). ``step_bias`` ``(B, T, num_classes)`` is added to step t's logits (the chord
        lock, ``ml.chord_lock``). ``steer`` (a :class:`musicapp.ml.steering.SteeringState` for
        these ``B`` rows) adjusts each step's logits (numpy) and observes the sampled tokens.
        ``cancelled`` is polled between steps; when it returns True the call raises ``InterruptedError``.

        The input projection of everything but the previous token is computed for all steps
        in one matrix product, and the token part is a table lookup, so each step costs one
        ``(B, H) x (H, 4H)`` product.
        """
        b, t = pos.shape
        w_rest_t, bias, tok_table, w_hh_t, out_w, out_b = self._inference_weights()
        const = torch.cat([self._meter(pos, bar_len), z.unsqueeze(1).expand(b, t, -1)], dim=-1)
        pre = torch.addmm(bias, const.reshape(b * t, -1), w_rest_t).view(b, t, -1)
        h0, c0 = self._initial_state(z)
        h, c = h0[0], c0[0]
        prev = torch.full((b,), enc.BOS, dtype=torch.long, device=z.device)
        out = torch.empty((b, t), dtype=torch.long, device=z.device)
        penalty = None
        no_mask = np.zeros(enc.NUM_CLASSES, np.float32)
        if allowed is not None:
            penalty = torch.where(allowed.to(z.device), 0.0, float("-inf"))
        for i in range(t):
            if cancelled is not None and cancelled():
                raise InterruptedError("generation cancelled")
            gates = torch.addmm(pre[:, i] + tok_table[prev], h, w_hh_t)
            ig, fg, gg, og = gates.chunk(4, dim=1)
            c = torch.sigmoid(fg) * c + torch.sigmoid(ig) * torch.tanh(gg)
            h = torch.sigmoid(og) * torch.tanh(c)
            logits = torch.addmm(out_b, h, out_w)
            if penalty is not None:
                logits = logits + penalty
            if step_bias is not None:
                logits = logits + step_bias[:, i]
            if steer is not None:
                logits = torch.from_numpy(steer.adjust(i, logits.cpu().numpy(), no_mask)).to(z.device)
            if temperature <= 0:
                prev = logits.argmax(-1)
            else:
                probs = torch.softmax(logits / temperature, dim=-1)
                prev = torch.multinomial(probs, 1, generator=generator).squeeze(1)
            out[:, i] = prev
            if steer is not None:
                steer.observe(prev.cpu().numpy())
        return out


    def _inference_weights(self) -> tuple[torch.Tensor, ...]:
        """Decoder weights laid out for :meth:`generate`, cached until a parameter changes.

        ``(W_ih[:, token_dim:]^T, b_ih + b_hh, token table (vocab, 4H), W_hh^T, W_out^T, b_out)``.
        """
        params = (self.decoder.weight_ih_l0, self.decoder.weight_hh_l0, self.decoder.bias_ih_l0,
                  self.decoder.bias_hh_l0, self.tok.weight, self.out.weight, self.out.bias)
        stamp = tuple((p.data_ptr(), p._version, p.device) for p in params)
        cached = self.__dict__.get("_packed")
        if cached is None or cached[0] != stamp:
            w_ih, w_hh, b_ih, b_hh, emb, out_w, out_b = (p.detach() for p in params)
            td = self.cfg.token_dim
            packed = (w_ih[:, td:].t().contiguous(), b_ih + b_hh, emb @ w_ih[:, :td].t(),
                      w_hh.t().contiguous(), out_w.t().contiguous(), out_b)
            self.__dict__["_packed"] = cached = (stamp, packed)
        return cached[1]


def _margin(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """Logit of ``tokens`` minus the best other logit, ``(B, T)`` (positive: argmax is right)."""
    right = logits.gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
    other = logits.detach().scatter(-1, tokens.unsqueeze(-1), float("-inf")).amax(-1)
    return right.detach() - other


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between latents ``a`` and ``b`` ``(..., Z)`` at fractions ``t``.

    ``t`` broadcasts against the leading dims (shape ``(..., 1)``); falls back to linear
    interpolation when the vectors are (nearly) parallel. ``t = 0`` gives ``a`` exactly and
    ``t = 1`` gives ``b`` up to rounding.
    """
    an = a / a.norm(dim=-1, keepdim=True).clamp_min(1e-8)
    bn = b / b.norm(dim=-1, keepdim=True).clamp_min(1e-8)
    omega = torch.acos((an * bn).sum(-1, keepdim=True).clamp(-1 + 1e-7, 1 - 1e-7))
    so = torch.sin(omega)
    lin = (1 - t) * a + t * b
    sph = torch.sin((1 - t) * omega) / so * a + torch.sin(t * omega) / so * b
    return torch.where(so.abs() < 1e-4, lin, sph)


def kl_beta(step: int, warmup_steps: int, beta_max: float) -> float:
    """Annealed KL weight: a smooth ramp (half-cosine) from 0 to ``beta_max`` over ``warmup_steps``."""
    if warmup_steps <= 0 or step >= warmup_steps:
        return beta_max
    return beta_max * 0.5 * (1 - math.cos(math.pi * step / warmup_steps))
