"""What a group trains on: its data sampler, its networks and its evaluator.

The trainer asks for a Workload and never looks at which dataset or architecture it holds.
"""

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
from torch import Tensor, nn

from bench.config import RunSpec
from bench.data.toy import get_toy_dataset
from bench.evaluate import ToyEvaluator
from bench.streams import MemberStreams
from gan_zoo.architectures.mlp import build_toy_models
from gan_zoo.registry import get_gan


class DataSampler(Protocol):
    def sample(self, streams: MemberStreams, n: int) -> Tensor:
        """[K, n, ...] real samples, member k from stream k."""
        ...


class Evaluator(Protocol):
    def evaluate(
        self, generator: nn.Module, critic: nn.Module, alive: np.ndarray
    ) -> tuple[dict[int, dict[str, float]], list[int]]: ...

    def snapshot(self, generator: nn.Module, critic: nn.Module) -> list[dict[str, np.ndarray]]:
        ...


@dataclass
class Workload:
    data: DataSampler
    generator: nn.Module
    """Maps latent [K, B, latent_dim] to samples [K, B, ...]."""
    critic: nn.Module
    """Maps samples [K, B, ...] to scores [K, B]."""
    latent_dim: int
    evaluator: Evaluator


def toy_workload(specs: list[RunSpec], device: torch.device) -> Workload:
    """MLP ensembles on a 2-D mixture: all K seeds in one batched model."""
    first = specs[0]
    seeds = [s.seed for s in specs]
    dataset = get_toy_dataset(first.dataset)
    init = MemberStreams(seeds, device, purpose="init")
    generator, critic = build_toy_models(
        init.generators, dataset.dim, first.model.latent_dim, first.model.width,
        first.model.depth,
    )
    evaluator = ToyEvaluator(
        dataset, first.eval, seeds, device, get_gan(first.gan).loss, first.model.latent_dim
    )
    return Workload(dataset, generator.to(device), critic.to(device), first.model.latent_dim,
                    evaluator)


def build_workload(specs: list[RunSpec], device: torch.device) -> Workload:
    return toy_workload(specs, device)
