"""The state one training iteration changes, saved and restored in place.

A captured CUDA graph reads and writes fixed addresses, so restoring copies values into the
existing tensors instead of replacing them. Optimizer state absent at saving time (torch
creates it at the first step) is removed again on restore, which returns the optimizer to its
fresh, lazily initialised state.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from bench.training.streams import MemberStreams


@dataclass
class SavedState:
    tensors: list[Tensor]
    optimizers: list[dict[Tensor, dict]]
    streams: list[Tensor]


class TrainingState:
    """Networks (parameters and buffers), optimizer states, device accumulators and the
    members' random streams of one trainer."""

    def __init__(
        self, modules: Sequence[nn.Module], optimizers: Sequence[torch.optim.Optimizer],
        accumulators: Sequence[Tensor], streams: MemberStreams,
    ) -> None:
        self.optimizers = list(optimizers)
        self.streams = streams
        self._tensors = [t for m in modules for t in (*m.parameters(), *m.buffers())]
        self._tensors += list(accumulators)

    @torch.no_grad()
    def save(self) -> SavedState:
        optimizers = [
            {p: {k: v.clone() if isinstance(v, Tensor) else v for k, v in s.items()}
             for p, s in opt.state.items()}
            for opt in self.optimizers
        ]
        return SavedState([t.clone() for t in self._tensors], optimizers,
                          self.streams.get_state())

    @torch.no_grad()
    def restore(self, saved: SavedState) -> None:
        for tensor, value in zip(self._tensors, saved.tensors, strict=True):
            tensor.copy_(value)
        for opt, states in zip(self.optimizers, saved.optimizers, strict=True):
            for group in opt.param_groups:
                for p in group["params"]:
                    p.grad = None
                    if p not in states:
                        opt.state.pop(p, None)
                        continue
                    current = opt.state[p]
                    for key, value in states[p].items():
                        if isinstance(value, Tensor) and isinstance(current.get(key), Tensor):
                            current[key].copy_(value)
                        else:
                            current[key] = value.clone() if isinstance(value, Tensor) else value
        self.streams.set_state(saved.streams)

    @staticmethod
    def max_difference(a: SavedState, b: SavedState) -> float:
        """Largest element-wise |a - b| / (1 + |a|) over all saved tensors (NaN equal to
        NaN); infinite when the random streams or the optimizer layouts differ."""
        if any(not torch.equal(x, y) for x, y in zip(a.streams, b.streams, strict=True)):
            return float("inf")
        pairs = list(zip(a.tensors, b.tensors, strict=True))
        for opt_a, opt_b in zip(a.optimizers, b.optimizers, strict=True):
            if opt_a.keys() != opt_b.keys():
                return float("inf")
            for p, state in opt_a.items():
                pairs += [(v, opt_b[p][k]) for k, v in state.items() if isinstance(v, Tensor)]
        worst = 0.0
        for x, y in pairs:
            x, y = x.double(), y.double()
            same = (x == y) | (torch.isnan(x) & torch.isnan(y))
            rel = ((x - y).abs() / (1 + x.abs())).masked_fill(same, 0)
            rel = rel.nan_to_num(nan=float("inf"))
            worst = max(worst, float(rel.max())) if rel.numel() else worst
        return worst
