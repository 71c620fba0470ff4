"""The optimizers of issue 24: SGD with momentum / Nesterov and AdamW step each member as
torch.optim steps it alone; optimistic Adam and extragradient follow plain references written
from their papers' update equations."""

import pytest
import torch

from bench.member_optimizers import MemberExtraAdam, MemberOptimisticAdam, make_optimizer
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


def _game_gradients(x: torch.Tensor, y: torch.Tensor, a: torch.Tensor):
    """The operator F = (grad_x f, -grad_y f) of min_x max_y f = x.A y + 0.05 (|x|^2 - |y|^2):
    a rotation-dominated game where plain gradient steps spiral out."""
    return a @ y + 0.1 * x, -(a.transpose(-1, -2) @ x) + 0.1 * y


@pytest.mark.parametrize("name", ["extra-adam", "extra-sgd"])
def test_extragradient_follows_gidel_et_al(name):
    # Gidel et al. 2019, Algorithms 1 and 4: w_{t+1/2} = w_t - lr step(F(w_t)),
    # w_{t+1} = w_t - lr step(F(w_{t+1/2})), Adam's moments folding in both gradients
    k, n = 3, 4
    gen = torch.Generator().manual_seed(3)
    a = torch.randn(k, n, n, generator=gen)
    x, y = (torch.randn(k, n, 1, generator=gen).requires_grad_() for _ in range(2))
    values = ({"lr": [1e-2, 3e-2, 5e-3], "beta1": [0.5, 0.0, 0.9], "beta2": [0.9, 0.99, 0.999]}
              if name == "extra-adam" else
              {"lr": [1e-2, 3e-2, 5e-3], "momentum": [0.0] * k, "nesterov": [False] * k})
    optimizer = make_optimizer(name, [x, y], values, members=True)
    assert optimizer.extrapolates
    plain = [[x.detach()[m].clone(), y.detach()[m].clone()] for m in range(k)]
    moments = [_AdamMoments(w, values["beta1"][m], values["beta2"][m])
               for m, w in enumerate(plain)] if name == "extra-adam" else None

    def direction(m: int, grads: list[torch.Tensor]) -> list[torch.Tensor]:
        return moments[m].directions(grads) if moments else grads

    for _ in range(10):
        x.grad, y.grad = _game_gradients(x.detach(), y.detach(), a)
        optimizer.extrapolate()
        x.grad, y.grad = _game_gradients(x.detach(), y.detach(), a)
        optimizer.step()
        for m, w in enumerate(plain):
            lr = values["lr"][m]
            half = [p - lr * d for p, d in zip(w, direction(m, list(_game_gradients(
                *w, a[m]))), strict=True)]
            plain[m] = [p - lr * d for p, d in zip(w, direction(m, list(_game_gradients(
                *half, a[m]))), strict=True)]
    for m, (px, py) in enumerate(plain):
        torch.testing.assert_close(x.detach()[m], px, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(y.detach()[m], py, rtol=1e-5, atol=1e-6)


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
