"""Per-member random streams for seed-batched training.

Each of the K members of a group owns a ``torch.Generator`` seeded from its run seed, and every
random draw of training (data, latent noise, penalty interpolation) comes from that stream.
A member therefore sees the same numbers whether it trains alone or with others. Evaluation
draws from separate streams, so evaluating more or less often never changes training.
"""

from collections.abc import Sequence

import torch
from torch import Tensor

# Separate streams per purpose keep, e.g., evaluation from shifting the training numbers.
_PURPOSE_OFFSETS = {"train": 0, "init": 1_000_003, "eval": 2_000_006}


def make_generators(seeds: Sequence[int], device: torch.device) -> list[torch.Generator]:
    """One generator per seed on ``device``."""
    gens = []
    for seed in seeds:
        gen = torch.Generator(device=device)
        gen.manual_seed(int(seed))
        gens.append(gen)
    return gens


class MemberStreams:
    """Draws [K, *shape] tensors, member k from generator k."""

    def __init__(self, seeds: Sequence[int], device: torch.device, *, purpose: str = "train"):
        offset = _PURPOSE_OFFSETS[purpose]
        self.device = device
        self.generators = make_generators([s + offset for s in seeds], device)

    @property
    def members(self) -> int:
        return len(self.generators)

    def subset(self, members: Sequence[int]) -> "MemberStreams":
        """Streams of some members only, sharing their generators: drawing from the subset
        advances exactly those members' streams, as if they trained alone."""
        view = MemberStreams.__new__(MemberStreams)
        view.device, view.generators = self.device, [self.generators[m] for m in members]
        return view

    def get_state(self) -> list[Tensor]:
        """Each member's generator state (uint8 CPU tensors), for checkpoints."""
        return [g.get_state() for g in self.generators]

    def set_state(self, states: Sequence[Tensor]) -> None:
        """Continue every member's stream exactly where ``get_state`` saw it."""
        if len(states) != len(self.generators):
            raise ValueError(f"{len(states)} stream states for {len(self.generators)} members")
        for gen, state in zip(self.generators, states, strict=True):
            gen.set_state(state)

    def randn(self, shape: Sequence[int]) -> Tensor:
        return torch.stack(
            [torch.randn(tuple(shape), generator=g, device=self.device) for g in self.generators]
        )

    def rand(self, shape: Sequence[int]) -> Tensor:
        return torch.stack(
            [torch.rand(tuple(shape), generator=g, device=self.device) for g in self.generators]
        )

    def randint(self, high: int, shape: Sequence[int]) -> Tensor:
        return torch.stack(
            [
                torch.randint(high, tuple(shape), generator=g, device=self.device)
                for g in self.generators
            ]
        )
