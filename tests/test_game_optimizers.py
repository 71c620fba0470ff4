"""The optimizers of issue 24: SGD with momentum / Nesterov and AdamW step each member as
torch.optim steps it alone; optimistic Adam and extragradient follow plain references written
from their papers' update equations."""

import io

import pytest
import torch
from torch.func import functional_call

from bench.config.expansion import expand
from bench.config.suite import parse_suite
from bench.core.hyperparameters import member_values
from bench.training.member_optimizers import MemberExtraAdam, MemberOptimisticAdam, make_optimizer
from bench.training.schedule import CRITIC, GENERATOR, CriticSchedule, run_phases
from bench.training.streams import MemberStreams
from bench.training.trainer import GroupTrainer
from tests.conftest import tiny_suite
from tests.test_member_optimizers import (
    _group_shapes,
    _leaves,
    _member,
    assert_members_step_as_alone,
)

EPS = 1e-8
TORCH_CASES = {  # name, per-member values, torch's optimizer of one member's values
    "sgd-momentum": ("sgd", {"lr": [1e-2, 3e-2, 5e-3], "momentum": [0.9, 0.5, 0.0],
                             "nesterov": [False] * 3},
                     lambda p, v: torch.optim.SGD(p, lr=v["lr"], momentum=v["momentum"])),
    "sgd-nesterov": ("sgd", {"lr": [1e-2, 3e-2, 5e-3], "momentum": [0.9, 0.5, 0.7],
                             "nesterov": [True] * 3},
                     lambda p, v: torch.optim.SGD(p, lr=v["lr"], momentum=v["momentum"],
                                                  nesterov=True)),
    "adamw": ("adamw", {"lr": [1e-2, 3e-3, 1e-2], "beta1": [0.5, 0.9, 0.5],
                        "beta2": [0.9, 0.999, 0.9], "weight_decay": [0.1, 0.01, 0.0]},
              lambda p, v: torch.optim.AdamW(p, lr=v["lr"], betas=(v["beta1"], v["beta2"]),
                                             weight_decay=v["weight_decay"])),
}


def _one(values: dict, m: int) -> dict:
    return {key: value[m] for key, value in values.items()}


@pytest.mark.parametrize("case", TORCH_CASES)
def test_each_member_steps_as_torch_steps_it_alone(case):
    name, values, reference = TORCH_CASES[case]
    assert_members_step_as_alone(
        3, lambda ours: make_optimizer(name, ours, values, members=True),
        lambda params, m: reference(params, _one(values, m)), 20)


class _AdamMoments:
    """Adam's moments and bias corrections (Kingma & Ba 2015, Algorithm 1), plain."""

    def __init__(self, params: list[torch.Tensor], beta1: float, beta2: float) -> None:
        self.beta1, self.beta2, self.t = beta1, beta2, 0
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]

    def directions(self, grads: list[torch.Tensor]) -> list[torch.Tensor]:
        """m_hat / (sqrt(v_hat) + eps) after folding in ``grads``."""
        self.t += 1
        out = []
        for i, g in enumerate(grads):
            self.m[i] = self.beta1 * self.m[i] + (1 - self.beta1) * g
            self.v[i] = self.beta2 * self.v[i] + (1 - self.beta2) * g * g
            m_hat = self.m[i] / (1 - self.beta1 ** self.t)
            v_hat = self.v[i] / (1 - self.beta2 ** self.t)
            out.append(m_hat / (v_hat.sqrt() + EPS))
        return out


def test_optimistic_adam_follows_daskalakis_et_al():
    # Daskalakis et al. 2018, Algorithm 1: w_t = w_{t-1} - 2 lr d_t + lr d_{t-1}
    values = {"lr": [1e-2, 3e-3, 2e-2], "beta1": [0.5, 0.0, 0.9], "beta2": [0.9, 0.99, 0.999]}
    k = 3
    ours = _leaves(_group_shapes(k))
    optimizer = make_optimizer("optimistic-adam", ours, values, members=True)
    assert isinstance(optimizer, MemberOptimisticAdam)
    plain = [[_member(p.detach(), m, k).clone() for p in ours] for m in range(k)]
    moments = [_AdamMoments(w, values["beta1"][m], values["beta2"][m])
               for m, w in enumerate(plain)]
    previous = [[torch.zeros_like(p) for p in w] for w in plain]
    gen = torch.Generator().manual_seed(2)
    for _ in range(10):
        for p in ours:
            p.grad = torch.randn(p.shape, generator=gen)
        optimizer.step()
        for m, w in enumerate(plain):
            lr = values["lr"][m]
            d = moments[m].directions([_member(p.grad, m, k) for p in ours])
            plain[m] = [p - 2 * lr * dt + lr * dp for p, dt, dp in zip(w, d, previous[m],
                                                                         strict=True)]
            previous[m] = d
    for m, w in enumerate(plain):
        for p, q in zip(w, ours, strict=True):
            torch.testing.assert_close(_member(q.detach(), m, k), p, rtol=1e-5, atol=1e-6)


class _PlainPlayer:
    """One player of the game as the papers write it, on plain tensors: its point ``w``, its
    base step (Adam from its moments, or SGD: lr g) and the gradient it last stored (extrapolation
    from the past: F(w_{-1/2}) = 0)."""

    def __init__(self, params: list[torch.Tensor], lr: float, betas: tuple | None,
                 project=lambda w: w) -> None:
        self.w = [p.detach().clone() for p in params]
        self.lr, self.project = lr, project
        self.moments = _AdamMoments(self.w, *betas) if betas else None
        self.past = [torch.zeros_like(p) for p in self.w]

    def moved(self, start: list[torch.Tensor], grads: list[torch.Tensor]) -> list[torch.Tensor]:
        """P[start - lr step(grads)], Adam's moments folding ``grads`` in (Algorithm 4)."""
        directions = self.moments.directions(grads) if self.moments else grads
        return [self.project(p - self.lr * d) for p, d in zip(start, directions, strict=True)]


def _reference_iteration(players: dict[str, _PlainPlayer], field, n_critic: int,
                         extrapolation: str | None, simultaneous: bool) -> None:
    """One iteration from the papers' equations: ``n_critic`` critic steps, then a generator
    step (simultaneous: the last critic step and the generator's are one joint step, every
    gradient at the same point). ``field(name)`` is player ``name``'s gradient at the players'
    current points. Each step is plain (Algorithm 1), extragradient (Eqs. (14)-(15)) or
    extrapolation from the past (Eqs. (20)-(21)), Gidel et al. 2019."""
    steps = [("critic",)] * n_critic + [("generator",)]
    if simultaneous:
        steps[-2:] = [("critic", "generator")]
    for names in steps:
        step = [players[n] for n in names]
        origin = [p.w for p in step]
        if extrapolation is None:
            grads = [field(n) for n in names]
        else:
            grads = ([field(n) for n in names] if extrapolation == "gradient"
                     else [p.past for p in step])
            for p, w, g in zip(step, origin, grads, strict=True):
                p.w = p.moved(w, g)  # w_{t+1/2} = P[w_t - lr step(F(w_t) or F(w_{t-1/2}))]
            grads = [field(n) for n in names]  # F(w_{t+1/2})
        for p, w, g in zip(step, origin, grads, strict=True):
            p.w, p.past = p.moved(w, g), g  # w_{t+1} = P[w_t - lr step(F(w_{t+1/2}))]


EXTRAPOLATING = ("extra-adam", "extra-sgd", "past-extra-adam", "past-extra-sgd")
FORMS = [(n_critic, simultaneous) for n_critic in (1, 5) for simultaneous in (False, True)]


def _values(name: str, lr: list[float], beta1: list[float], beta2: list[float]) -> dict:
    if name.endswith("adam"):
        return {"lr": lr, "beta1": beta1, "beta2": beta2}
    return {"lr": lr, "momentum": [0.0] * len(lr), "nesterov": [False] * len(lr)}


def _plain_players(values: dict, start: dict[str, list[torch.Tensor]],
                   project=lambda w: w) -> dict[str, _PlainPlayer]:
    """Each network's plain player, with ``values`` (numbers, or per-member columns)."""
    betas = (values["beta1"], values["beta2"]) if "beta1" in values else None
    return {network: _PlainPlayer(params, values["lr"], betas, project)
            for network, params in start.items()}


@pytest.mark.parametrize("curvature", [0.0, 0.5])
@pytest.mark.parametrize(("n_critic", "simultaneous"), FORMS)
@pytest.mark.parametrize("name", EXTRAPOLATING)
def test_the_schedule_on_a_bilinear_game_follows_gidel_et_al(name, n_critic, simultaneous,
                                                            curvature):
    # Gidel et al. 2019, Eq. (29) with one sample: min_x max_y x.A y + a.x + b.y on
    # [-1, 1]^d, the critic the max player y, the generator x; 3 members, each its own values.
    # A player's bilinear gradient ignores its own point, so with the other player fixed
    # (alternated steps) SGD's look-ahead changes nothing: + curvature (|x|^2 - |y|^2) / 2
    # makes it count
    k, d = 3, 4
    gen = torch.Generator().manual_seed(3)
    a_matrix = torch.randn(k, d, d, generator=gen, dtype=torch.float64)
    a, b = (torch.randn(k, d, generator=gen, dtype=torch.float64) for _ in range(2))
    start = {network: [torch.rand(k, d, generator=gen, dtype=torch.float64) * 2 - 1]
             for network in (CRITIC, GENERATOR)}

    def operator(network: str, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if network == CRITIC:  # ascent on f as descent on -f
            return curvature * y - (a_matrix.transpose(-1, -2) @ x.unsqueeze(-1)).squeeze(-1) - b
        return curvature * x + (a_matrix @ y.unsqueeze(-1)).squeeze(-1) + a

    values = _values(name, [0.05, 0.1, 0.02], [0.5, 0.0, 0.9], [0.9, 0.99, 0.999])
    params = {network: [w.clone().requires_grad_() for w in ws] for network, ws in start.items()}
    optimizers = {network: make_optimizer(name, ws, values, members=True)
                  for network, ws in params.items()}
    schedule = CriticSchedule(n_critic, False, optimizers[CRITIC].extrapolation, simultaneous)

    def gradient(network: str, record: bool) -> None:
        x, y = params[GENERATOR][0].detach(), params[CRITIC][0].detach()
        params[network][0].grad = operator(network, x, y)

    def step(network: str, extrapolate: bool) -> None:
        optimizer = optimizers[network]
        optimizer.extrapolate() if extrapolate else optimizer.step()
        with torch.no_grad():
            params[network][0].clamp_(-1, 1)  # the projection P onto [-1, 1]^d

    columns = {key: torch.tensor(value, dtype=torch.float64).unsqueeze(-1)  # [K, 1]
               for key, value in values.items()}
    players = _plain_players(columns, start, lambda w: w.clamp(-1, 1))

    def field(network: str) -> list[torch.Tensor]:
        return [operator(network, players[GENERATOR].w[0], players[CRITIC].w[0])]

    for _ in range(8):
        run_phases(schedule.phases(n_critic), gradient, step)
        _reference_iteration(players, field, n_critic, schedule.extrapolation, simultaneous)
    for network, player in players.items():
        torch.testing.assert_close(params[network][0].detach(), player.w[0], rtol=0,
                                   atol=1e-6)
        assert not torch.equal(player.w[0], start[network][0])


def test_a_single_network_gets_torchs_optimizer_where_torch_has_it():
    params = [torch.nn.Parameter(torch.ones(3))]
    sgd = make_optimizer("sgd", params, {"lr": [1e-3], "momentum": [0.9], "nesterov": [True]},
                         members=False)
    assert isinstance(sgd, torch.optim.SGD) and sgd.defaults["nesterov"]
    adamw = make_optimizer("adamw", params, {"lr": [1e-3], "beta1": [0.5], "beta2": [0.9],
                                             "weight_decay": [0.1]}, members=False)
    assert isinstance(adamw, torch.optim.AdamW) and adamw.defaults["weight_decay"] == 0.1
    extra = make_optimizer("extra-adam", params, {"lr": [1e-3], "beta1": [0.5],
                                                  "beta2": [0.9]}, members=False)
    assert isinstance(extra, MemberExtraAdam)
    with pytest.raises(ValueError, match="all members take one nesterov"):
        make_optimizer("sgd", _leaves([(2, 3)]), {"lr": [1e-3] * 2, "momentum": [0.9] * 2,
                                                  "nesterov": [True, False]}, members=True)


def _gan_trainer(gan: str, name: str, n_critic: int, simultaneous: bool) -> GroupTrainer:
    lr = 5e-3 if name.endswith("adam") else 5e-2  # large enough for every step to count
    recipe = {"n_critic": n_critic, "simultaneous": simultaneous}
    if gan == "wgan-clip":
        recipe["clip_value"] = 0.1  # active, but not on every weight
    suite = tiny_suite(gans=[gan], optimizers=[{"name": name, "lr": lr}], seeds=[0, 1],
                       recipes={gan: recipe})
    return GroupTrainer(expand(parse_suite(suite)), torch.device("cpu"))


def _gan_field(trainer: GroupTrainer, players: dict[str, _PlainPlayer]):
    """Each network's stochastic gradient at the players' points, a fresh minibatch per
    evaluation (Algorithm 4), on the trainer's members' random streams from the start."""
    streams = MemberStreams([s.seed for s in trainer.specs], torch.device("cpu"),
                            purpose="train")
    batch, latent = trainer.batch, trainer.latent

    def network(module: torch.nn.Module, weights: list[torch.Tensor]):
        names = [n for n, _ in module.named_parameters()]
        return lambda x: functional_call(module, dict(zip(names, weights, strict=True)), (x,))

    def field(name: str) -> list[torch.Tensor]:
        own = [w.detach().requires_grad_() for w in players[name].w]
        other = GENERATOR if name == CRITIC else CRITIC
        nets = {name: own, other: players[other].w}
        generator = network(trainer.generator, nets[GENERATOR])
        critic = network(trainer.critic, nets[CRITIC])
        if name == CRITIC:
            real = trainer.dataset.sample(streams, batch)
            with torch.no_grad():
                fake = generator(streams.randn((batch, latent)))
            loss = trainer.loss.critic(critic(real), critic(fake))
            penalty = trainer.constraint.penalty(critic, real, fake, streams.rand)
            loss = loss if penalty is None else loss + penalty
        else:
            loss = trainer.loss.generator(critic(generator(streams.randn((batch, latent)))))
        return list(torch.autograd.grad(loss.sum(), own))

    return field


@pytest.mark.parametrize(("n_critic", "simultaneous"), FORMS)
@pytest.mark.parametrize("name", EXTRAPOLATING)
@pytest.mark.parametrize("gan", ["wgan-clip", "wgan-gp"])
def test_the_trainer_on_a_tiny_gan_follows_gidel_et_al(gan, name, n_critic, simultaneous):
    trainer = _gan_trainer(gan, name, n_critic, simultaneous)
    start = {GENERATOR: [p.detach().clone() for p in trainer.generator.parameters()],
             CRITIC: [p.detach().clone() for p in trainer.critic.parameters()]}
    # the suite gives every member (seed) the same values
    values = {key: value[0] for key, value in member_values(trainer.specs, "critic").items()}
    players = _plain_players(values, start)
    if gan == "wgan-clip":  # the projection P onto [-c, c] of the critic (Algorithm 4)
        players[CRITIC].project = lambda w: w.clamp(-0.1, 0.1)
    field = _gan_field(trainer, players)
    for _ in range(3):
        trainer.run_iteration(n_critic)
        _reference_iteration(players, field, n_critic, trainer.schedule.extrapolation,
                             simultaneous)
    for network, module in ((GENERATOR, trainer.generator), (CRITIC, trainer.critic)):
        for p, w in zip(module.parameters(), players[network].w, strict=True):
            torch.testing.assert_close(p.detach(), w, rtol=0, atol=1e-6)
        # every weight moved (a Wasserstein critic's output bias cannot: it cancels)
        assert all(not torch.equal(w, w0) for w, w0 in zip(players[network].w[:-1],
                                                           start[network], strict=False))


@pytest.mark.parametrize("name", ["past-extra-adam", "past-extra-sgd"])
def test_a_checkpoint_keeps_the_gradient_an_extrapolation_from_the_past_reuses(name):
    values = _values(name, [1e-2, 3e-2], [0.5, 0.0], [0.9, 0.99])
    params = [torch.randn(2, 3, generator=torch.Generator().manual_seed(0)).requires_grad_()]
    optimizer = make_optimizer(name, params, values, members=True)

    def one_step(optimizer, params, seed: int) -> None:
        optimizer.extrapolate()
        params[0].grad = torch.randn(2, 3, generator=torch.Generator().manual_seed(seed))
        optimizer.step()

    one_step(optimizer, params, 1)
    buffer = io.BytesIO()
    torch.save(optimizer.state_dict(), buffer)
    buffer.seek(0)
    resumed_params = [params[0].detach().clone().requires_grad_()]
    resumed = make_optimizer(name, resumed_params, values, members=True)
    resumed.load_state_dict(torch.load(buffer, weights_only=True))
    assert torch.equal(resumed.state[resumed_params[0]]["past_gradient"], params[0].grad)
    one_step(optimizer, params, 2)
    one_step(resumed, resumed_params, 2)
    assert torch.equal(params[0], resumed_params[0])
