"""Everything a group is built of, from its specs: ``build_group`` is the one factory.

It builds the group's parts from the declarations of its dataset (domain, shape, metrics),
GAN (loss, constraint; looked up once, in ``build_group``, and handed down) and optimizer
(bench.core.hyperparameters): the data sampler, the networks, the constraint with one value per
member, the speed-ups, the optimizers and the evaluator. The trainer receives the parts and
only trains; it never looks at which dataset, architecture, GAN or optimizer it holds.
Networks follow one layout: samples are [K, B, ...] and scores [K, B], K being the number of
seed-batched members (always 1 for images, whose DCGANs are plain modules).
"""

from collections.abc import Callable
from dataclasses import dataclass, replace

import torch
from torch import Tensor, nn

from bench.core.environment import Environment
from bench.core.errors import BenchError
from bench.core.hyperparameters import constraint_values, member_values
from bench.core.specs import RunSpec
from bench.data import IMAGE, get_dataset
from bench.data.images import ImageDataset, load_image_dataset
from bench.data.toy import get_toy_dataset
from bench.features.extractors import Extractors
from bench.metrics.feature_stats import FeatureStats
from bench.metrics.stats_cache import load_or_compute
from bench.training.accel.policy import AccelPlan, plan_acceleration, plan_fused
from bench.training.evaluation import Evaluator, Sampler
from bench.training.member_optimizers import make_optimizer
from bench.training.schedule import CriticSchedule, schedule_for
from bench.training.streams import MemberStreams
from gan_zoo.architectures.dcgan import build_image_models
from gan_zoo.architectures.mlp import build_toy_models
from gan_zoo.constraints import Constraint
from gan_zoo.fused_mlp import FusedMLPGradients, unfit
from gan_zoo.losses import AdversarialLoss
from gan_zoo.registry import get_gan

_INIT_SEED_OFFSET = 1_000_003
EVAL_STACKED_COUNT = 10_000  # stacked test-split images for the held-out critic estimate
SPLIT_CHUNK = 1000
"""Reference-split images embedded at a time for its cached statistics (memory only)."""


@dataclass
class Workload:
    data: Sampler
    generator: nn.Module
    """Maps latent [K, B, latent_dim] to samples [K, B, ...]."""
    critic: nn.Module
    """Maps samples [K, B, ...] to scores [K, B]."""
    latent_dim: int
    evaluator: Evaluator
    member_state: Callable[[int], dict[str, Tensor]]
    """Final weights of one member, loadable into a network of that member alone."""
    ensemble: bool = False
    """Every parameter has a leading member dimension (so optimizers and constraints can
    hold a value per member); False for plain single-member networks."""


# --- toy data: MLP ensembles ------------------------------------------------------------


class MemberSampler:
    """Real samples when members train on different datasets (of one shape): each member
    draws from its own dataset with its own stream, exactly as it would alone."""

    def __init__(self, samplers: list[Sampler]) -> None:
        self.by_sampler: dict[int, tuple[Sampler, list[int]]] = {}
        for member, sampler in enumerate(samplers):
            self.by_sampler.setdefault(id(sampler), (sampler, []))[1].append(member)
        self.members = len(samplers)

    def sample(self, streams: MemberStreams, n: int) -> Tensor:
        if len(self.by_sampler) == 1:
            ((sampler, _),) = self.by_sampler.values()
            return sampler.sample(streams, n)
        parts: list[Tensor | None] = [None] * self.members
        for sampler, members in self.by_sampler.values():
            for member, x in zip(members, sampler.sample(streams.subset(members), n),
                                 strict=True):
                parts[member] = x
        return torch.stack(parts)


class FreshReference:
    """The real side of 2-D metrics: fresh samples at every checkpoint, no split."""

    fixed = False

    def __init__(self, sampler: Sampler) -> None:
        self.sampler = sampler

    def sample(self, streams: MemberStreams, n: int) -> Tensor:
        return self.sampler.sample(streams, n)

    def split_statistics(self, extractor: str, key: dict, extract) -> None:
        return None


def _ensemble_state(generator: nn.Module, critic: nn.Module) -> Callable[[int], dict]:
    def state(member: int) -> dict[str, Tensor]:
        return {
            f"{prefix}.{name}": p.detach()[member : member + 1].cpu().clone()
            for prefix, module in (("generator", generator), ("critic", critic))
            for name, p in module.named_parameters()
        }
    return state


def toy_workload(specs: list[RunSpec], device: torch.device, env: Environment,
                 loss: AdversarialLoss) -> Workload:
    """MLP ensembles on 2-D data: all K members (seeds, trials, datasets) in one batched
    model, each member's initial weights from its own seed; ``loss`` is the GAN's (the
    evaluator's critic estimate)."""
    first = specs[0]
    seeds = [s.seed for s in specs]
    datasets = [get_dataset(s.dataset) for s in specs]
    data = MemberSampler([get_toy_dataset(s.dataset) for s in specs])
    init = MemberStreams(seeds, device, purpose="init")
    generator, critic = build_toy_models(
        init.generators, datasets[0].shape[0], first.model.latent_dim, first.model.width,
        first.model.depth,
    )
    generator, critic = generator.to(device), critic.to(device)
    extractors = {d.name: Extractors(d, first.eval, device, env) for d in datasets}
    evaluator = Evaluator(
        datasets, data, FreshReference(data), first.eval, seeds, device, loss,
        first.model.latent_dim, first.batch_size, extractors)
    return Workload(data, generator, critic, first.model.latent_dim, evaluator,
                    _ensemble_state(generator, critic), ensemble=True)


# --- images: DCGANs, one member -----------------------------------------------------------


class ImageSampler:
    """Random batches of a dataset that lives on the device as one tensor."""

    def __init__(self, dataset: ImageDataset) -> None:
        self.images = dataset.images

    def sample(self, streams: MemberStreams, n: int) -> Tensor:
        return self.images[streams.randint(len(self.images), (n,))]


class SplitReference:
    """The real side of image metrics: one fixed random subset of the reference split (the
    same for every run), and the whole split's feature statistics, cached on disk."""

    fixed = True

    def __init__(self, split: ImageDataset, split_name: str, cache_dir) -> None:
        self.split, self.split_name, self.cache_dir = split, split_name, cache_dir
        self.order = torch.randperm(len(split), generator=torch.Generator().manual_seed(0))

    def sample(self, streams: MemberStreams, n: int) -> Tensor:
        """[1, n, C, H, W]: every member compares with the same images."""
        if n > len(self.split):
            raise BenchError(f"eval asks for {n} real images but the {self.split_name} split "
                             f"of {self.split.name} holds {len(self.split)}; lower eval.samples "
                             "or eval.fid_samples")
        return self.split.images[self.order[:n].to(self.split.images.device)].unsqueeze(0)

    def split_statistics(self, extractor: str, key: dict, extract) -> tuple:
        if not key:  # an extractor without a reference-statistics key (labels)
            return None
        full_key = {"dataset": self.split.name, "split": self.split_name,
                    "n": len(self.split), **key}

        def compute():
            stats = FeatureStats(device=self.split.images.device)
            for chunk in self.split.images.split(SPLIT_CHUNK):
                stats.update(extract(chunk))
            return stats.mean(), stats.covariance()

        return load_or_compute(self.cache_dir, full_key, compute)


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


def critic_norm_for(spec: RunSpec, constraint: Constraint) -> str:
    """The suite's critic normalisation, ``auto`` resolved against the GAN's constraint (a
    gradient penalty needs per-sample gradients, which batch norm mixes)."""
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
    specs: list[RunSpec], device: torch.device, env: Environment, loss: AdversarialLoss,
    critic_norm: str, channels_last: bool,
) -> Workload:
    """A DCGAN pair of one run (DCGANs are not seed-batched), its critic normalised by
    ``critic_norm``; ``loss`` is the GAN's (the evaluator's critic estimate)."""
    (spec,) = specs
    train = load_image_split(spec.dataset, True, env, device)
    test = load_image_split(spec.dataset, False, env, device)
    arch = spec.image_model
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(spec.seed + _INIT_SEED_OFFSET)
        g_net, d_net = build_image_models(
            arch.arch, image_size=train.size, channels=train.channels,
            latent_dim=arch.latent_dim, critic_norm=critic_norm,
            base_filters=arch.filters,
        )
    # channels_last lets cuDNN (and oneDNN on a CPU) pick their NHWC convolution kernels
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    g_net = g_net.to(device, memory_format=memory_format)
    d_net = d_net.to(device, memory_format=memory_format)
    generator, critic = SingleMember(g_net, memory_format), SingleMember(d_net, memory_format)
    dataset = get_dataset(spec.dataset)
    reference = train if spec.eval.fid_reference == "train" else test
    evaluator = Evaluator(
        [dataset], ImageSampler(test),
        SplitReference(reference, spec.eval.fid_reference,
                       env.resolved_cache_dir() / "reference-stats"),
        spec.eval, [spec.seed], device, loss, arch.latent_dim, spec.batch_size,
        {dataset.name: Extractors(dataset, spec.eval, device, env, channels_last)})

    def state(member: int) -> dict[str, Tensor]:
        return {
            f"{prefix}.{name}": t.detach().cpu().clone()
            for prefix, module in (("generator", g_net), ("critic", d_net))
            for name, t in module.state_dict().items()
        }

    return Workload(ImageSampler(train), generator, critic, arch.latent_dim, evaluator, state)


def build_workload(
    specs: list[RunSpec], device: torch.device, loss: AdversarialLoss, constraint: Constraint,
    env: Environment | None = None, channels_last: bool = False,
) -> Workload:
    """The data, networks and evaluator of a GAN with ``loss`` and ``constraint``;
    ``channels_last`` applies to the convolutional (image) networks only."""
    env = env or Environment()
    if specs[0].domain == IMAGE:
        return image_workload(specs, device, env, loss, critic_norm_for(specs[0], constraint),
                              channels_last)
    return toy_workload(specs, device, env, loss)


@dataclass
class GroupParts:
    """What ``GroupTrainer`` trains with."""

    workload: Workload
    loss: AdversarialLoss
    constraint: Constraint
    """The GAN's constraint, holding one value per member where members differ."""
    schedule: CriticSchedule
    accel: AccelPlan
    """The speed-ups the group trains with."""
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    fused: FusedMLPGradients | None = None
    """The networks' gradients by hand (``accel.fused``); None: by autograd."""


def _per_member(values: list, device: torch.device) -> float | Tensor:
    """One number when the members share it, else a [K] tensor."""
    return values[0] if len(set(values)) == 1 else torch.tensor(values, device=device)


def build_group(specs: list[RunSpec], device: torch.device, env: Environment) -> GroupParts:
    """The parts of the group ``specs`` (equal ``RunSpec.batch_key``): the GAN's loss and
    constraint (per-member values from bench.core.hyperparameters), the speed-ups the constraint
    and domain allow (the fused MLP step where it applies), the workload, and each network's
    optimizer."""
    first = specs[0]
    if any(s.batch_key != first.batch_key for s in specs):
        raise ValueError("a group holds runs that can train as one batched model "
                         "(equal RunSpec.batch_key)")
    gan = get_gan(first.gan)
    constraint = gan.make_constraint(replace(first.recipe, **{
        field: _per_member(values, device) for field, values in constraint_values(specs).items()}))
    accel = plan_acceleration(env.compile, env.cuda_graphs, env.channels_last, device,
                              double_backward=constraint.double_backward,
                              convolutional=first.domain == IMAGE)
    workload = build_workload(specs, device, gan.loss, constraint, env, accel.channels_last)
    fused = (FusedMLPGradients(workload.generator, workload.critic)
             if plan_fused(accel, env.fused, unfit(workload.generator, workload.critic,
                                                    constraint)) else None)
    opt_g, opt_d = (make_optimizer(first.optimizer.name, network.parameters(),
                                   member_values(specs, role), members=workload.ensemble,
                                   capturable=accel.cuda_graphs)
                    for role, network in (("generator", workload.generator),
                                          ("critic", workload.critic)))
    return GroupParts(workload, gan.loss, constraint, schedule_for(first), accel, opt_g, opt_d,
                      fused)

