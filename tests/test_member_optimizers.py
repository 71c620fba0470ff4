"""Per-member hyperparameter optimizers: every member steps as torch.optim would step it alone
with its own values, and the state survives checkpoints and TrainingState round trips."""

import io

import pytest
import torch

from bench.data.toy import get_toy_dataset
from bench.training.accel.state import TrainingState
from bench.training.adam_cosine import adam_update_cosine
from bench.training.member_optimizers import make_optimizer
from bench.training.streams import MemberStreams, make_generators
from gan_zoo.architectures.mlp import build_toy_models
from gan_zoo.losses import WASSERSTEIN

NAMES = ("adam", "rmsprop", "sgd")
needs_cuda = pytest.mark.cuda

# (lr, beta1, beta2) per member; the cases cover every way members split into fused calls
SETTINGS = {
    "one member": [(2e-2, 0.5, 0.9)],
    "all distinct": [(1e-3, 0.5, 0.9), (3e-3, 0.9, 0.999), (1e-2, 0.0, 0.99),
                     (2e-2, 0.7, 0.95)],
    "shared, in runs": [(1e-3, 0.5, 0.9), (1e-3, 0.5, 0.9), (2e-2, 0.0, 0.99),
                        (2e-2, 0.0, 0.99), (1e-3, 0.5, 0.9)],
    "all shared": [(3e-3, 0.5, 0.9)] * 3,
}


def _values(name: str, lr: list, beta1: list, beta2: list) -> dict[str, list]:
    """What make_optimizer takes for ``name``: Adam's betas, SGD without momentum."""
    if name == "adam":
        return {"lr": lr, "beta1": beta1, "beta2": beta2}
    if name == "sgd":
        return {"lr": lr, "momentum": [0.0] * len(lr), "nesterov": [False] * len(lr)}
    return {"lr": lr}


def _ours(name: str, params: list[torch.Tensor], settings: list[tuple]):
    lr, beta1, beta2 = (list(values) for values in zip(*settings, strict=True))
    return make_optimizer(name, params, _values(name, lr, beta1, beta2), members=True)


def _torch(name: str, params: list[torch.Tensor], setting: tuple) -> torch.optim.Optimizer:
    lr, beta1, beta2 = setting
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(beta1, beta2))
    return {"rmsprop": torch.optim.RMSprop, "sgd": torch.optim.SGD}[name](params, lr=lr)


def _leaves(shapes, seed: int = 0) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(shape, generator=gen).requires_grad_() for shape in shapes]


def _group_shapes(k: int) -> list[tuple]:
    # a group of one is a plain network: whole tensors of any shape
    return [(3, 5), (5,)] if k == 1 else [(k, 3, 5), (k, 1, 5), (k, 7)]


def _member(tensor: torch.Tensor, m: int, k: int) -> torch.Tensor:
    """Member m's part of a parameter of a group of k (the whole tensor when k = 1)."""
    return tensor[m] if k > 1 else tensor


def _random_steps(optimizer, params, steps: int, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        for p in params:
            p.grad = torch.randn(p.shape, generator=gen)
        optimizer.step()


def assert_members_step_as_alone(k: int, make_ours, make_reference, steps: int) -> None:
    """Each member of a group of ``k``, stepped by ``make_ours(params)``, ends where
    ``make_reference(params, m)`` steps member m's parameters alone, on the same random
    gradients."""
    ours = _leaves(_group_shapes(k))
    alone = [[_member(p.detach(), m, k).clone().requires_grad_() for p in ours]
             for m in range(k)]
    optimizer = make_ours(ours)
    references = [make_reference(params, m) for m, params in enumerate(alone)]
    gen = torch.Generator().manual_seed(1)
    for _ in range(steps):
        for p in ours:
            p.grad = torch.randn(p.shape, generator=gen)
        optimizer.step()
        for m, (params, reference) in enumerate(zip(alone, references, strict=True)):
            for p, q in zip(params, ours, strict=True):
                p.grad = _member(q.grad, m, k)
            reference.step()
    for m, params in enumerate(alone):
        for p, q in zip(params, ours, strict=True):
            torch.testing.assert_close(_member(q.detach(), m, k), p.detach(), rtol=1e-6,
                                       atol=1e-7)


@pytest.mark.parametrize("case", SETTINGS)
@pytest.mark.parametrize("name", NAMES)
def test_each_member_steps_as_torch_steps_it_alone(name, case):
    settings = SETTINGS[case]
    assert_members_step_as_alone(len(settings), lambda ours: _ours(name, ours, settings),
                                 lambda params, m: _torch(name, params, settings[m]), 50)


def _train_gan(generator, critic, opt_g, opt_d, streams: MemberStreams, iterations: int):
    data, batch = get_toy_dataset("ring8"), 16
    for _ in range(iterations):
        real = data.sample(streams, batch)
        with torch.no_grad():
            fake = generator(streams.randn((batch, 2)))
        opt_d.zero_grad(set_to_none=True)
        WASSERSTEIN.critic(critic(real), critic(fake)).sum().backward()
        opt_d.step()
        critic.requires_grad_(False)
        opt_g.zero_grad(set_to_none=True)
        WASSERSTEIN.generator(critic(generator(streams.randn((batch, 2))))).sum().backward()
        opt_g.step()
        critic.requires_grad_(True)


@pytest.mark.parametrize("name", NAMES)
def test_a_member_of_a_group_trains_as_it_would_alone(name):
    seeds, lrs, betas = [3, 4, 5], [1e-3, 5e-3, 2e-2], ([0.5, 0.0, 0.9], [0.9, 0.99, 0.999])

    def models(member_seeds):
        return build_toy_models(make_generators(member_seeds, torch.device("cpu")), 2, 2, 8, 2)

    generator, critic = models(seeds)
    per_member = _values(name, lrs, *betas)
    opt_g = make_optimizer(name, generator.parameters(), per_member, members=True)
    opt_d = make_optimizer(name, critic.parameters(), per_member, members=True)
    _train_gan(generator, critic, opt_g, opt_d, MemberStreams(seeds, torch.device("cpu")), 5)
    for m, seed in enumerate(seeds):
        alone_g, alone_d = models([seed])
        setting = (lrs[m], betas[0][m], betas[1][m])
        _train_gan(alone_g, alone_d, _torch(name, list(alone_g.parameters()), setting),
                   _torch(name, list(alone_d.parameters()), setting),
                   MemberStreams([seed], torch.device("cpu")), 5)
        for group_net, alone_net in ((generator, alone_g), (critic, alone_d)):
            for p, q in zip(group_net.parameters(), alone_net.parameters(), strict=True):
                # training amplifies the last-bit differences of the kernels' roundings
                torch.testing.assert_close(p.detach()[m : m + 1], q.detach(), rtol=1e-4,
                                           atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_a_checkpoint_continues_as_if_never_interrupted(name):
    settings = SETTINGS["shared, in runs"]
    params = _leaves(_group_shapes(len(settings)))
    optimizer = _ours(name, params, settings)
    _random_steps(optimizer, params, 5, seed=1)
    buffer = io.BytesIO()
    torch.save(optimizer.state_dict(), buffer)
    buffer.seek(0)
    resumed_params = [p.detach().clone().requires_grad_() for p in params]
    # built with other values: the checkpoint's hyperparameters are the ones that count
    resumed = _ours(name, resumed_params, SETTINGS["all distinct"] + [(1.0, 0.1, 0.2)])
    resumed.load_state_dict(torch.load(buffer, weights_only=True))
    for key, value in optimizer.param_groups[0].items():
        if key != "params":
            assert torch.equal(resumed.param_groups[0][key], value), key
    _random_steps(optimizer, params, 5, seed=2)
    _random_steps(resumed, resumed_params, 5, seed=2)
    for p, q in zip(params, resumed_params, strict=True):
        assert torch.equal(p, q)


def test_a_checkpoint_of_another_group_is_refused():
    optimizer = _ours("adam", _leaves(_group_shapes(4)), SETTINGS["all distinct"])
    state = optimizer.state_dict()
    with pytest.raises(ValueError, match="lr has 4 values for 5 members"):
        _ours("adam", _leaves(_group_shapes(5)), SETTINGS["shared, in runs"]).load_state_dict(
            state)
    with pytest.raises(ValueError, match="not the state of a MemberSGD"):
        _ours("sgd", _leaves(_group_shapes(2)), SETTINGS["all shared"][:2]).load_state_dict(
            state)


def test_adam_cosine_of_shared_settings_is_torch_adams():
    ours, theirs = _leaves([(3, 4, 5), (3, 1, 5)]), _leaves([(3, 4, 5), (3, 1, 5)])
    member_adam = _ours("adam", ours, [(1e-2, 0.5, 0.9)] * 3)
    torch_adam = torch.optim.Adam(theirs, lr=1e-2, betas=(0.5, 0.9))
    gen = torch.Generator().manual_seed(1)
    for _ in range(4):
        for p, q in zip(ours, theirs, strict=True):
            p.grad = torch.randn(p.shape, generator=gen)
            q.grad = p.grad.clone()
        member_adam.step()
        torch_adam.step()
        torch.testing.assert_close(adam_update_cosine(member_adam, 3),
                                   adam_update_cosine(torch_adam, 3), rtol=1e-5, atol=1e-6)


def test_adam_cosine_uses_each_members_own_betas():
    settings = SETTINGS["all distinct"]
    ours = _leaves(_group_shapes(4))
    alone = [[p.detach()[m : m + 1].clone().requires_grad_() for p in ours] for m in range(4)]
    member_adam = _ours("adam", ours, settings)
    references = [_torch("adam", params, s) for params, s in zip(alone, settings, strict=True)]
    gen = torch.Generator().manual_seed(1)
    for _ in range(4):
        for p in ours:
            p.grad = torch.randn(p.shape, generator=gen)
        member_adam.step()
        for m, (params, reference) in enumerate(zip(alone, references, strict=True)):
            for p, q in zip(params, ours, strict=True):
                p.grad = q.grad[m : m + 1]
            reference.step()
        expected = torch.cat([adam_update_cosine(r, 1) for r in references])
        torch.testing.assert_close(adam_update_cosine(member_adam, 4), expected, rtol=1e-5,
                                   atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_training_state_saves_and_restores_the_optimizers(name):
    seeds = [0, 1]
    streams = MemberStreams(seeds, torch.device("cpu"))
    generator, critic = build_toy_models(make_generators(seeds, torch.device("cpu")), 2, 2, 8, 2)
    per_member = _values(name, [1e-3, 1e-2], [0.5, 0.0], [0.9, 0.99])
    opt_g = make_optimizer(name, generator.parameters(), per_member, members=True)
    opt_d = make_optimizer(name, critic.parameters(), per_member, members=True)
    state = TrainingState([generator, critic], [opt_g, opt_d], [], streams)
    _train_gan(generator, critic, opt_g, opt_d, streams, 2)
    saved = state.save()
    _train_gan(generator, critic, opt_g, opt_d, streams, 2)
    first = state.save()
    state.restore(saved)
    assert TrainingState.max_difference(saved, state.save()) == 0
    _train_gan(generator, critic, opt_g, opt_d, streams, 2)
    assert TrainingState.max_difference(first, state.save()) == 0


def test_a_step_without_gradients_does_nothing_and_a_partial_one_is_refused():
    params = _leaves(_group_shapes(3))
    optimizer = _ours("adam", params, SETTINGS["all shared"])
    before = [p.detach().clone() for p in params]
    optimizer.step()
    assert all(torch.equal(p, q) for p, q in zip(params, before, strict=True))
    assert optimizer.state[params[0]]["step"] == 0
    params[0].grad = torch.ones_like(params[0])
    with pytest.raises(RuntimeError, match="some have no gradient"):
        optimizer.step()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"lr": [1e-3, 0.0, 1e-3]}, "lr of member 1: expected a number > 0, got 0.0"),
    ({"lr": [-1e-3, 1e-3, 1e-3]}, "lr of member 0: expected a number > 0"),
    ({"lr": [1e-3, 1e-3, float("inf")]}, r"lr of member 2: .*got inf \(not finite\)"),
    ({"beta1": [0.5, 1.0, 0.5]}, r"beta1 of member 1: expected a number in \[0, 1\), got 1.0"),
    ({"beta2": [0.9, -0.1, 0.9]}, r"beta2 of member 1: expected a number in \[0, 1\)"),
    ({"lr": [1e-3, 1e-3], "beta1": [0.5] * 2, "beta2": [0.9] * 2},
     "2 members, but a parameter of shape \\(3, 2, 4\\) has no leading"),
    ({"beta1": [0.5] * 2}, "beta1 has 2 values for 3 members"),
    ({"lr": 1e-3}, "lr needs one value per member"),
    ({"beta1": None, "beta2": None}, "adam takes lr, beta1, beta2; got lr"),
    ({"name": "sgd"}, "sgd takes lr, momentum, nesterov; got beta1, beta2, lr"),
    ({"name": "adagrad"}, "unknown optimizer 'adagrad'"),
])
def test_bad_hyperparameters_are_refused(kwargs, message):
    arguments = {"name": "adam", "lr": [1e-3] * 3, "beta1": [0.5] * 3, "beta2": [0.9] * 3,
                 **kwargs}
    name = arguments.pop("name")
    values = {k: v for k, v in arguments.items() if v is not None}
    params = _leaves([(3, 2, 4), (3, 4)])
    with pytest.raises(ValueError, match=message):
        make_optimizer(name, params, values, members=True)


def test_a_single_network_gets_torchs_optimizer_with_one_value_each():
    params = [torch.nn.Parameter(torch.ones(3))]
    adam = make_optimizer("adam", params, {"lr": [1e-3], "beta1": [0.5], "beta2": [0.9]},
                          members=False)
    assert isinstance(adam, torch.optim.Adam)
    assert adam.defaults["betas"] == (0.5, 0.9) and adam.defaults["lr"] == 1e-3
    with pytest.raises(ValueError, match="a single network takes one lr"):
        make_optimizer("rmsprop", params, {"lr": [1e-3, 2e-3]}, members=False)


@needs_cuda
@pytest.mark.parametrize("name", NAMES)
def test_a_cuda_graph_replays_the_eager_step(name):
    settings = SETTINGS["shared, in runs"]
    cpu_params = _leaves(_group_shapes(len(settings)))
    eager = [p.detach().cuda().requires_grad_() for p in cpu_params]
    graphed = [p.detach().cuda().requires_grad_() for p in cpu_params]
    eager_opt, graphed_opt = _ours(name, eager, settings), _ours(name, graphed, settings)
    for p, q in zip(eager, graphed, strict=True):
        p.grad = torch.randn_like(p)
        q.grad = p.grad.clone()
    side = torch.cuda.Stream()  # warm up off the capture stream, as torch's notes ask
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        graphed_opt.step()
    torch.cuda.current_stream().wait_stream(side)
    eager_opt.step()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        graphed_opt.step()
    for _ in range(3):
        eager_opt.step()
        graph.replay()
    for p, q in zip(eager, graphed, strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
