"""What a group trains on: its data sampler, its networks and its evaluator.

The trainer asks for a Workload and never looks at which dataset or architecture it holds.
Networks follow one layout: samples are [K, B, ...] and scores [K, B], K being the number of
seed-batched members (always 1 for images, whose DCGANs are plain modules).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
from torch import Tensor, nn

from bench.config import RunSpec
from bench.data import DATASET_DOMAINS
from bench.data.images import ImageDataset, load_image_dataset
from bench.data.toy import get_toy_dataset
from bench.environment import Environment
from bench.errors import BenchError
from bench.evaluate import ToyEvaluator
from bench.streams import MemberStreams
from gan_zoo.architectures.dcgan import build_image_models
from gan_zoo.architectures.mlp import build_toy_models
from gan_zoo.registry import get_gan

_INIT_SEED_OFFSET = 1_000_003
EVAL_STACKED_COUNT = 10_000  # stacked test-split images for the held-out critic estimate


class DataSampler(Protocol):
    def sample(self, streams: MemberStreams, n: int) -> Tensor:
        """[K, n, ...] real samples, member k from stream k."""
        ...


class Evaluator(Protocol):
    streams: MemberStreams
    """The evaluation streams (saved in checkpoints, so a resumed run evaluates alike)."""

    def evaluate(
        self, generator: nn.Module, critic: nn.Module, alive: np.ndarray
    ) -> tuple[dict[int, dict[str, float]], list[int]]: ...

    def checkpoint_images(self, generator: nn.Module) -> list[np.ndarray] | None: ...

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
    member_state: Callable[[int], dict[str, Tensor]]
    """Final weights of one member, loadable into a network of that member alone."""


# --- toy data: MLP ensembles ------------------------------------------------------------


def _ensemble_state(generator: nn.Module, critic: nn.Module) -> Callable[[int], dict]:
    def state(member: int) -> dict[str, Tensor]:
        return {
            f"{prefix}.{name}": p.detach()[member : member + 1].cpu().clone()
            for prefix, module in (("generator", generator), ("critic", critic))
            for name, p in module.named_parameters()
        }
    return state


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
    generator, critic = generator.to(device), critic.to(device)
    evaluator = ToyEvaluator(
        dataset, first.eval, seeds, device, get_gan(first.gan).loss, first.model.latent_dim
    )
    return Workload(dataset, generator, critic, first.model.latent_dim, evaluator,
                    _ensemble_state(generator, critic))


# --- images: DCGANs, one member -----------------------------------------------------------


class ImageSampler:
    """Random batches of a dataset that lives on the device as one tensor."""

    def __init__(self, dataset: ImageDataset) -> None:
        self.images = dataset.images

    def sample(self, streams: MemberStreams, n: int) -> Tensor:
        return self.images[streams.randint(len(self.images), (n,))]


class SingleMember(nn.Module):
    """Runs a plain [B, ...] network on the trainer's [K=1, B, ...] layout, feeding image
    inputs in the network's memory format."""

    def __init__(
        self, net: nn.Module, memory_format: torch.memory_format = torch.contiguous_format
    ) -> None:
        super().__init__()
        self.net = net
        self.memory_format = memory_format

    def forward(self, x: Tensor) -> Tensor:
        x = x.squeeze(0)
        if x.dim() == 4:
            x = x.contiguous(memory_format=self.memory_format)
        return self.net(x).unsqueeze(0)


def critic_norm_for(spec: RunSpec) -> str:
    """The suite's critic normalisation, ``auto`` resolved against the GAN's constraint."""
    constraint = get_gan(spec.gan).make_constraint(spec.recipe)
    norm = spec.image_model.critic_norm
    if norm == "auto":
        return "batch" if constraint.batch_norm_compatible else "layer"
    if norm == "batch" and not constraint.batch_norm_compatible:
        raise BenchError(
            f"image_model.critic_norm 'batch' is invalid with {spec.gan}: its gradient penalty "
            "needs per-sample critic gradients; use layer, none or auto"
        )
    return norm


def load_image_split(name: str, train: bool, env: Environment, device) -> ImageDataset:
    return load_image_dataset(
        name, data_root=env.data_root, train=train, download=env.download, device=device,
        **({} if train else {"stacked_count": EVAL_STACKED_COUNT}),
    )


def image_workload(
    specs: list[RunSpec], device: torch.device, env: Environment, channels_last: bool
) -> Workload:
    # imported here: torchvision's models cost every toy-only worker seconds at start-up
    from bench.evaluate_images import ImageEvaluator

    (spec,) = specs  # DCGANs are not seed-batched
    train = load_image_split(spec.dataset, True, env, device)
    test = load_image_split(spec.dataset, False, env, device)
    arch = spec.image_model
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(spec.seed + _INIT_SEED_OFFSET)
        g_net, d_net = build_image_models(
            arch.arch, image_size=train.size, channels=train.channels,
            latent_dim=arch.latent_dim, critic_norm=critic_norm_for(spec),
            base_filters=arch.filters,
        )
    # channels_last lets cuDNN (and oneDNN on a CPU) pick their NHWC convolution kernels
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    g_net = g_net.to(device, memory_format=memory_format)
    d_net = d_net.to(device, memory_format=memory_format)
    generator, critic = SingleMember(g_net, memory_format), SingleMember(d_net, memory_format)
    evaluator = ImageEvaluator(train, test, spec.eval, [spec.seed], device,
                               get_gan(spec.gan).loss, arch.latent_dim, env, channels_last)

    def state(member: int) -> dict[str, Tensor]:
        return {
            f"{prefix}.{name}": t.detach().cpu().clone()
            for prefix, module in (("generator", g_net), ("critic", d_net))
            for name, t in module.state_dict().items()
        }

    return Workload(ImageSampler(train), generator, critic, arch.latent_dim, evaluator, state)


def build_workload(
    specs: list[RunSpec], device: torch.device, env: Environment | None = None,
    channels_last: bool = False,
) -> Workload:
    """``channels_last`` applies to the convolutional (image) networks only."""
    if DATASET_DOMAINS[specs[0].dataset] == "image":
        return image_workload(specs, device, env or Environment(), channels_last)
    return toy_workload(specs, device)
