"""Optimizers whose hyperparameters differ between the members of a seed-batched group, so
trials that differ only in continuous settings (lr, betas, momentum, weight decay) train as
one group (issues 13, 24).

Every parameter carries the leading member dimension K of the seed-batched models (with
K = 1 any tensor is one member). Each member is updated exactly as torch.optim's default Adam
(eps 1e-8), AdamW, RMSprop (alpha 0.99, eps 1e-8) or SGD (momentum, Nesterov; no dampening)
would update it alone with its own values, up to float rounding. Torch has no optimistic Adam
(Daskalakis et al. 2018), extragradient nor extrapolation from the past (Gidel et al. 2019):
``MemberOptimisticAdam``, ``MemberExtraAdam``, ``MemberExtraSGD``, ``MemberPastExtraAdam``
and ``MemberPastExtraSGD`` follow the papers' update equations (cited at each), and serve
single networks too.

How each one runs (step times measured side by side on a 2-core CPU, one thread, 3-layer MLP
critics of width 64 and 512 with K = 1, 8, 32; ``tests/benchmarks/test_bench_member_optimizers.py``
times the quick suite's size):

- Adam calls torch's fused kernel once per distinct (lr, beta1, beta2), on the slices of
  every tensor that belong to the members sharing those values; every member gets its own
  bias correction in the kernel. Members that share a setting (the seeds of one trial) cost
  nothing extra: K members with one setting are one call on whole tensors, 0.5-1.1x the time
  of torch's fused Adam (none of its Python bookkeeping). Each further setting adds one call,
  ~20 us for an 8-tensor critic (plus an OpenMP fork/join per tensor with several threads,
  as torch's CPU kernel parallelises every tensor): width 64, K = 32, 32 settings: 0.85 ms
  against torch's 0.29 ms for one setting, ~1% of a training iteration; at width 512 the
  calls cost what one does. Element-wise ops on per-member hyperparameter tensors (foreach
  with broadcast views, or flat [K, P] buffers) pass over each tensor 6-8 times instead of
  once: 4-10x slower at width 512, and at best 10% faster at width 64.
- RMSprop and SGD apply the per-member lr (and momentum) as broadcast [K, 1, ...] views in
  torch's foreach ops, a fixed number of ops whatever the number of settings (torch has no
  fused RMSprop): as fast as torch's foreach RMSprop and fused SGD.
- AdamW is Adam's fused calls with torch's fused AdamW kernel (one more per-call setting,
  the weight decay); optimistic Adam is one Adam call at twice the lr plus two foreach passes
  (the previous direction back, the new one kept).
- Extrapolating optimizers (``extrapolation``) keep a copy of the original point:
  ``extrapolate()`` steps to the look-ahead point (from a fresh gradient, or from the
  previous update's, saved), the next ``step()`` updates from the original point with the
  gradient taken at the look-ahead point. The trainer's phase schedule (``bench.training.schedule``)
  runs each extrapolation just before its update, and counts the gradient evaluations.

State and checkpoints: the per-member values are [K] tensors in ``param_groups[0]`` (float64,
float32 on MPS, which has no float64) on the parameters' device; state is created at
construction, not at the first step. Adam's ``state[p]`` holds ``exp_avg``, ``exp_avg_sq``
and ``step``, one float32 device counter shared by all parameters, which always step together.
``state_dict()`` holds tensors and plain values only (``torch.load(weights_only=True)``), and
``load_state_dict`` copies values into the existing tensors, hyperparameters included.

``make_optimizer`` is the one optimizer factory: these per-member optimizers for an ensemble,
torch's own (fused or foreach kernels) for a single network, both from the hyperparameters
``bench.core.hyperparameters`` declares: the values each optimizer takes (``lr``, ``beta1``,
``beta2``, ...), which of them each member holds its own of, and the check each value
passes::

    values = member_values(specs, "critic")    # {"lr": [...], "beta1": [...], ...}
    opt_d = make_optimizer(first.optimizer.name, critic.parameters(), values, members=True)

- ``step()`` never syncs the host and is always safe to capture in a CUDA graph: there is
  no ``capturable`` switch. Adam's kernels receive the hyperparameters as host floats read at
  construction and by ``load_state_dict``, so a graph captured earlier keeps the old values:
  load checkpoints before capturing (``resume_from`` already runs before training), and never
  edit the hyperparameter tensors in place (no lr schedulers).
- ``zero_grad(set_to_none=True)`` as before; ``step()`` needs a gradient on every parameter
  (or on none: then it does nothing).
- Every tensor of ``state`` is updated in place and never replaced, so ``TrainingState``
  saves and restores it as it does torch's.
- ``adam_update_cosine`` (``bench/training/adam_cosine.py``) accepts ``MemberAdam``.
- Checkpoints of torch.optim optimizers do not load into these (other keys), nor the reverse.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from bench.core.errors import BenchError
from bench.core.hyperparameters import HYPERPARAMETERS, optimizer_arguments
from bench.training.plugin_optimizers import PluginMembers, make_plugin_optimizer
from gan_zoo.recipes import PLUGIN_OPTIMIZERS

EPS = 1e-8
"""torch's default eps of Adam and RMSprop."""
RMSPROP_ALPHA = 0.99
"""torch's default smoothing constant of RMSprop."""

PerMember = Tensor | Sequence[float]
"""One value per member: a sequence or 1-D tensor of K numbers."""

def _checked_values(name: str, values: PerMember, members: int | None = None) -> Tensor:
    """``values`` as a float64 CPU tensor of shape [K]; ValueError unless there is one valid
    value per member (``members`` of them, when given)."""
    flat = torch.as_tensor(values, dtype=torch.float64).detach().cpu()
    if flat.dim() != 1 or len(flat) == 0:
        raise ValueError(f"{name} needs one value per member (a sequence or a 1-D tensor), "
                         f"got shape {tuple(flat.shape)}")
    if members is not None and len(flat) != members:
        raise ValueError(f"{name} has {len(flat)} values for {members} members")
    check = HYPERPARAMETERS[name].validator
    for member, value in enumerate(flat.tolist()):
        try:
            check(value, f"{name} of member {member}")
        except BenchError as refusal:  # a caller's mistake here: suites are checked long before
            raise ValueError(str(refusal)) from None
    return flat


def _member_view(values: Tensor, like: Tensor) -> Tensor:
    """[K] per-member values shaped to broadcast over ``like``'s leading member dimension."""
    return values.view((-1,) + (1,) * (like.dim() - 1)) if like.dim() else values.view(())


def _hyperparameter_dtype(device: torch.device) -> torch.dtype:
    return torch.float32 if device.type == "mps" else torch.float64  # MPS has no float64


class MemberOptimizer(torch.optim.Optimizer):
    """One parameter group whose hyperparameters are [K] tensors, one value per member.

    Subclasses create their state at construction (``_create_state``), derive what their
    ``step`` needs from the hyperparameters (``_prepare``) and update the state in place.
    """

    extrapolation: str | None = None
    """How it extrapolates before each update (it then has ``extrapolate()``, which the
    trainer's schedule runs): ``gradient`` (extragradient: from a gradient of its own at the
    current point) or ``past`` (from the previous update's gradient: no gradient evaluation);
    None: it does not."""

    def __init__(self, params: Iterable[Tensor], **values: PerMember) -> None:
        params = list(params)
        if not params:
            raise ValueError("no parameters to optimize")
        first = params[0]
        if any(p.device != first.device or p.dtype != first.dtype for p in params):
            raise ValueError("all parameters must share one device and dtype")
        self.hyperparameters = tuple(values)
        """The per-member values, in ``param_groups[0]`` under these names."""
        members = len(_checked_values("lr", values["lr"]))
        if members > 1:
            for p in params:
                if p.dim() == 0 or p.shape[0] != members:
                    raise ValueError(f"{members} members, but a parameter of shape "
                                     f"{tuple(p.shape)} has no leading member dimension "
                                     f"of size {members}")
        self.members = members
        dtype = _hyperparameter_dtype(first.device)
        defaults = {name: _checked_values(name, values[name], members).to(first.device, dtype)
                    for name in self.hyperparameters}
        super().__init__(params, defaults)
        self._create_state()
        self._prepare()

    @property
    def params(self) -> list[Tensor]:
        """The parameters, in the order ``state_dict`` numbers them."""
        return self.param_groups[0]["params"]

    def _create_state(self) -> None:
        """The state torch would create at the first step (created now, so that its tensors
        exist, and keep their addresses, from the start)."""

    def _prepare(self) -> None:
        """Derive what ``step`` needs from the hyperparameters (after construction and
        ``load_state_dict``)."""

    @torch.no_grad()
    def step(self) -> None:  # no closure: the trainer passes none
        grads = self._grads()
        if grads is not None:
            self._update(grads)

    def _update(self, grads: list[Tensor]) -> None:
        """One step of every member from ``grads`` (one per parameter)."""
        raise NotImplementedError

    def _grads(self) -> list[Tensor] | None:
        grads = [p.grad for p in self.params]
        if all(g is None for g in grads):
            return None
        if any(g is None for g in grads):
            raise RuntimeError(f"{type(self).__name__} steps all parameters together, but "
                               "some have no gradient")
        return grads

    def load_state_dict(self, state_dict: dict) -> None:
        """Copy a ``state_dict`` of an optimizer like this one into its tensors, in place
        (a captured CUDA graph keeps their addresses), hyperparameters included."""
        (group,) = self.param_groups
        refusal = ValueError(f"not the state of a {type(self).__name__} of "
                             f"{len(group['params'])} parameters")
        if len(state_dict["param_groups"]) != 1:
            raise refusal
        (saved,) = state_dict["param_groups"]
        if (len(saved["params"]) != len(group["params"])
                or set(saved) - {"params", "param_names"} != set(self.hyperparameters)):
            raise refusal
        saved_states = [state_dict["state"].get(index, {}) for index in saved["params"]]
        if any(s.keys() != self.state[p].keys()
               for s, p in zip(saved_states, group["params"], strict=True)):
            raise refusal
        values = {name: _checked_values(name, saved[name], self.members)
                  for name in self.hyperparameters}
        with torch.no_grad():
            for name, value in values.items():
                group[name].copy_(value)
            for saved_state, p in zip(saved_states, group["params"], strict=True):
                for key, tensor in self.state[p].items():
                    tensor.copy_(saved_state[key])
        self._prepare()


@dataclass
class _FusedCall:
    """One call of torch's fused Adam (or AdamW): the members sharing one (lr, beta1, beta2,
    weight decay), as slices of every tensor."""

    lr: float
    beta1: float
    beta2: float
    weight_decay: float
    runs: list[int]
    """Indices of the runs (maximal blocks of consecutive members) it updates."""
    params: list[Tensor]
    exp_avgs: list[Tensor]
    exp_avg_sqs: list[Tensor]
    steps: list[Tensor]


class MemberAdam(MemberOptimizer):
    """torch.optim.Adam (eps 1e-8, no weight decay, no amsgrad) with per-member lr, beta1
    and beta2."""

    _kernel = staticmethod(torch._fused_adam_)

    def _create_state(self) -> None:
        step = torch.zeros((), device=self.params[0].device)  # float32: what fused kernels read
        for p in self.params:
            self.state[p] = {"step": step, "exp_avg": torch.zeros_like(p),
                             "exp_avg_sq": torch.zeros_like(p)}

    def _prepare(self) -> None:
        group = self.param_groups[0]
        names = ("lr", "beta1", "beta2", "weight_decay")
        settings = zip(*(group[name].tolist() if name in group else [0.0] * self.members
                         for name in names), strict=True)
        self._run_lengths, runs_of = _runs(list(settings))

        def sliced(key: str | None) -> list[list[Tensor]]:
            return self._cut([p if key is None else self.state[p][key] for p in self.params])

        params, exp_avgs, exp_avg_sqs = sliced(None), sliced("exp_avg"), sliced("exp_avg_sq")
        step = self.state[self.params[0]]["step"]
        self._calls = [
            _FusedCall(lr, beta1, beta2, weight_decay, runs, _gather(params, runs),
                       _gather(exp_avgs, runs), _gather(exp_avg_sqs, runs),
                       [step] * len(runs) * len(self.params))
            for (lr, beta1, beta2, weight_decay), runs in runs_of.items()
        ]

    def _cut(self, tensors: list[Tensor]) -> list[list[Tensor]]:
        """Each tensor cut into its runs' slices (itself when one run covers all members)."""
        if len(self._run_lengths) == 1:
            return [[t] for t in tensors]
        if len(self._run_lengths) == self.members:
            return [list(t.unbind(0)) for t in tensors]  # faster than split for K slices
        return [list(t.split(self._run_lengths)) for t in tensors]

    def _update(self, grads: list[Tensor]) -> None:
        self._adam_step(grads)

    def _adam_step(self, grads: list[Tensor], lr_scale: float = 1.0) -> None:
        """One Adam step of every member from ``grads``, at ``lr_scale`` times its lr."""
        self.state[self.params[0]]["step"].add_(1)  # the counter all parameters share
        grad_slices = self._cut(grads)
        for call in self._calls:
            self._kernel(
                call.params, _gather(grad_slices, call.runs), call.exp_avgs, call.exp_avg_sqs,
                [], call.steps, lr=call.lr * lr_scale, beta1=call.beta1, beta2=call.beta2,
                weight_decay=call.weight_decay, eps=EPS, amsgrad=False, maximize=False,
            )

    @torch.no_grad()
    def update_directions(self) -> list[Tensor]:
        """Per parameter, the direction of the last step, m / (sqrt(v / (1 - beta2^t)) + eps)
        with each member's own beta2 (the step is -lr / (1 - beta1^t) times it); on the
        device, no host sync."""
        params = self.params
        step = self.state[params[0]]["step"]
        correction = (1 - self.param_groups[0]["beta2"] ** step).to(params[0].dtype)
        denoms = torch._foreach_div([self.state[p]["exp_avg_sq"] for p in params],
                                    [_member_view(correction, p) for p in params])
        torch._foreach_sqrt_(denoms)
        torch._foreach_add_(denoms, EPS)
        return torch._foreach_div([self.state[p]["exp_avg"] for p in params], denoms)


class MemberAdamW(MemberAdam):
    """torch.optim.AdamW (eps 1e-8, no amsgrad) with per-member lr, betas and weight decay
    (decoupled: each member's parameters shrink by lr * weight_decay before the Adam step)."""

    _kernel = staticmethod(torch._fused_adamw_)


class MemberOptimisticAdam(MemberAdam):
    """Optimistic Adam (Daskalakis et al. 2018, "Training GANs with Optimism", Algorithm 1),
    per-member lr, beta1, beta2: Adam's moments and bias corrections, and the update

        w_t = w_{t-1} - 2 lr d_t + lr d_{t-1},   d_t = m_hat_t / (sqrt(v_hat_t) + eps)

    (d_0 = 0). Implemented as an Adam step at 2 lr (torch's rounding) after adding back
    lr d_{t-1}; d_t is kept in ``state[p]["previous_direction"]``."""

    def _create_state(self) -> None:
        super()._create_state()
        for p in self.params:
            self.state[p]["previous_direction"] = torch.zeros_like(p)

    def _prepare(self) -> None:
        super()._prepare()
        lr = self.param_groups[0]["lr"].to(self.params[0].dtype)
        self._lr = [_member_view(lr, p) for p in self.params]

    def _update(self, grads: list[Tensor]) -> None:
        previous = [self.state[p]["previous_direction"] for p in self.params]
        torch._foreach_addcmul_(self.params, previous, self._lr)  # + lr d_{t-1}
        self._adam_step(grads, lr_scale=2.0)  # - 2 lr d_t
        step = self.state[self.params[0]]["step"]
        correction = (1 - self.param_groups[0]["beta1"] ** step).to(self.params[0].dtype)
        directions = self.update_directions()  # m / (sqrt(v_hat) + eps): d_t = this / (1 - b1^t)
        torch._foreach_div_(directions, [_member_view(correction, p) for p in self.params])
        torch._foreach_copy_(previous, directions)


def _runs(settings: list[tuple[float, ...]]) -> tuple[list[int], dict[tuple, list[int]]]:
    """The lengths of the runs (maximal blocks of consecutive members with equal settings),
    and the indices of each distinct setting's runs."""
    lengths: list[int] = []
    runs_of: dict[tuple, list[int]] = {}
    for member, setting in enumerate(settings):
        if member and setting == settings[member - 1]:
            lengths[-1] += 1
        else:
            runs_of.setdefault(setting, []).append(len(lengths))
            lengths.append(1)
    return lengths, runs_of


def _gather(slices: list[list[Tensor]], runs: list[int]) -> list[Tensor]:
    """The slices of the given runs of every tensor, run-major (the order fused calls use)."""
    return [per_tensor[run] for run in runs for per_tensor in slices]


class _NegativeLrOptimizer(MemberOptimizer):
    """Keeps -lr in the parameters' dtype, as one broadcast view per parameter."""

    def _prepare(self) -> None:
        negative_lr = -self.param_groups[0]["lr"].to(self.params[0].dtype)
        self._negative_lr = [_member_view(negative_lr, p) for p in self.params]


class MemberRMSprop(_NegativeLrOptimizer):
    """torch.optim.RMSprop (alpha 0.99, eps 1e-8, no momentum, not centered) with per-member
    lr."""

    def _create_state(self) -> None:
        for p in self.params:
            self.state[p] = {"square_avg": torch.zeros_like(p)}

    def _update(self, grads: list[Tensor]) -> None:
        square_avgs = [self.state[p]["square_avg"] for p in self.params]
        torch._foreach_mul_(square_avgs, RMSPROP_ALPHA)
        torch._foreach_addcmul_(square_avgs, grads, grads, value=1 - RMSPROP_ALPHA)
        denoms = torch._foreach_sqrt(square_avgs)
        torch._foreach_add_(denoms, EPS)
        # the per-member -lr divides the denominators in place, as in torch's RMSprop with a
        # tensor lr; scaling the gradients instead (torch's rounding with a float lr) costs a
        # second temporary per step, which made width-512 steps 2x slower on the CPU
        torch._foreach_div_(denoms, self._negative_lr)
        torch._foreach_addcdiv_(self.params, grads, denoms)


class MemberSGD(_NegativeLrOptimizer):
    """torch.optim.SGD (no dampening, no weight decay) with per-member lr and momentum, and
    Nesterov momentum (one setting for all members): buf = momentum buf + g, then
    p -= lr (g + momentum buf) with Nesterov, p -= lr buf without."""

    def __init__(self, params: Iterable[Tensor], nesterov: bool = False,
                 **values: PerMember) -> None:
        self.nesterov = bool(nesterov)
        super().__init__(params, **values)
        # the suite refuses this for its runs at their recipes (bench.config.cross_checks),
        # but a study's trials of a searched momentum and the random architectures' recipes
        # reach here unchecked
        if self.nesterov and bool((self.param_groups[0]["momentum"] == 0).any()):
            raise ValueError("Nesterov momentum needs momentum > 0 for every member")

    def _create_state(self) -> None:
        for p in self.params:
            self.state[p] = {"momentum_buffer": torch.zeros_like(p)}

    def _prepare(self) -> None:
        super()._prepare()
        momentum = self.param_groups[0]["momentum"]
        self._plain = not bool(momentum.any())  # no momentum for any member: plain SGD
        momentum = momentum.to(self.params[0].dtype)
        self._momentum = [_member_view(momentum, p) for p in self.params]

    def _update(self, grads: list[Tensor]) -> None:
        if self._plain:
            torch._foreach_addcmul_(self.params, grads, self._negative_lr)
            return
        buffers = [self.state[p]["momentum_buffer"] for p in self.params]
        torch._foreach_mul_(buffers, self._momentum)
        torch._foreach_add_(buffers, grads)
        directions = (torch._foreach_addcmul(grads, buffers, self._momentum) if self.nesterov
                      else buffers)
        torch._foreach_addcmul_(self.params, directions, self._negative_lr)


class _Extragradient(MemberOptimizer):
    """Extragradient (Gidel et al. 2019, "A Variational Inequality Perspective on Generative
    Adversarial Networks", Eqs. (14)-(15), Algorithms 2 and 4 Option 1, the base optimizer's
    update as the operator step): one step from the point w_t is

        extrapolate():  w_{t+1/2} = w_t - step(F(w_t))          (keeps w_t)
        step():         w_{t+1}   = w_t - step(F(w_{t+1/2}))

    F being the gradient in ``.grad`` at each call; both calls update the base optimizer's
    state (Adam's moments, and its counter: 2t - 1 and 2t in Algorithm 4's bias corrections).
    The schedule (``bench.training.schedule``) pairs every ``step()`` with the ``extrapolate()``
    just before it, so ``step()`` always returns to that extrapolation's starting point."""

    extrapolation = "gradient"

    def _create_state(self) -> None:
        super()._create_state()
        self._origin = [torch.empty_like(p) for p in self.params]  # w_t, within one step

    def _extrapolation_grads(self) -> list[Tensor] | None:
        """F at the point the extrapolation starts from: the gradient just computed."""
        return self._grads()

    @torch.no_grad()
    def extrapolate(self) -> None:
        """Step to the look-ahead point w_{t+1/2}, keeping w_t."""
        torch._foreach_copy_(self._origin, self.params)
        grads = self._extrapolation_grads()
        if grads is not None:
            self._update(grads)

    @torch.no_grad()
    def step(self) -> None:  # no closure: the trainer passes none
        """Update from w_t with the gradient at the look-ahead point."""
        torch._foreach_copy_(self.params, self._origin)
        super().step()


class _PastExtragradient(_Extragradient):
    """Extrapolation from the past (Popov 1980; Gidel et al. 2019, Eqs. (20)-(21), Algorithm 3
    and Algorithm 4 Option 2): one gradient per step, the look-ahead one, saved for the next
    extrapolation,

        extrapolate():  w_{t+1/2} = w_t - step(F(w_{t-1/2}))    (no new gradient)
        step():         w_{t+1}   = w_t - step(F(w_{t+1/2})),   store F(w_{t+1/2})

    The stored gradient is ``state[p]["past_gradient"]`` (saved with checkpoints), zero before
    the first step: F(w_{-1/2}) = 0, so the first extrapolation stays at w_0 (Algorithm 3 leaves
    d_{-1} unset); Adam still folds that zero into its moments, as Option 2 folds whatever
    gradient it loads."""

    extrapolation = "past"

    def _create_state(self) -> None:
        super()._create_state()
        for p in self.params:
            self.state[p]["past_gradient"] = torch.zeros_like(p)

    def _extrapolation_grads(self) -> list[Tensor]:
        return [self.state[p]["past_gradient"] for p in self.params]

    @torch.no_grad()
    def step(self) -> None:  # no closure: the trainer passes none
        super().step()
        grads = self._grads()
        if grads is not None:
            torch._foreach_copy_(self._extrapolation_grads(), grads)


class MemberExtraAdam(_Extragradient, MemberAdam):
    """Extra-Adam (Gidel et al. 2019, Algorithm 4, Option 1): extragradient with Adam's
    steps."""


class MemberExtraSGD(_Extragradient, MemberSGD):
    """Extragradient with SGD's steps (Gidel et al. 2019, Algorithm 2 without the averaging;
    with momentum when given)."""


class MemberPastExtraAdam(_PastExtragradient, MemberAdam):
    """PastExtra-Adam (Gidel et al. 2019, Algorithm 4, Option 2): extrapolation from the past
    with Adam's steps."""


class MemberPastExtraSGD(_PastExtragradient, MemberSGD):
    """Extrapolation from the past with SGD's steps (Gidel et al. 2019, Algorithm 3 without
    the averaging; with momentum when given)."""


MEMBER_OPTIMIZERS: dict[str, type[MemberOptimizer]] = {
    "adam": MemberAdam, "rmsprop": MemberRMSprop, "sgd": MemberSGD, "adamw": MemberAdamW,
    "optimistic-adam": MemberOptimisticAdam, "extra-adam": MemberExtraAdam,
    "extra-sgd": MemberExtraSGD, "past-extra-adam": MemberPastExtraAdam,
    "past-extra-sgd": MemberPastExtraSGD,
}
"""Every built-in optimizer of the optimizer axis (``gan_zoo.recipes.OPTIMIZERS``), by name."""


def member_optimizer_class(name: str) -> type[MemberOptimizer]:
    """The class that trains members with the optimizer ``name``: a built-in's, or
    ``PluginMembers`` for a plugin's (the schedule reads its extrapolation, none)."""
    if name in PLUGIN_OPTIMIZERS:
        return PluginMembers
    return MEMBER_OPTIMIZERS[name]
TORCH_HAS = ("adam", "adamw", "rmsprop", "sgd")
"""The optimizers a single network trains with torch's own implementation of."""


def _torch_optimizer(name: str, params: list[Tensor], values: dict[str, Any],
                     capturable: bool) -> torch.optim.Optimizer:
    """torch's own optimizer, updating all tensors in a few kernels: fused where torch has a
    fused kernel for the device, foreach otherwise (torch has no fused RMSProp). On the CPU a
    fused Adam step is 3-7x faster than a foreach one for the toy MLPs (docs/PERFORMANCE.md);
    ``capturable`` keeps the step counters on the device so a CUDA graph can capture it."""
    fused = params[0].device.type in ("cpu", "cuda")
    kernels = {"fused": True} if fused else {"foreach": True}
    if name in ("adam", "adamw"):
        adam = torch.optim.Adam if name == "adam" else torch.optim.AdamW
        decay = {"weight_decay": values["weight_decay"]} if name == "adamw" else {}
        return adam(params, lr=values["lr"], betas=(values["beta1"], values["beta2"]),
                    capturable=capturable, **decay, **kernels)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=values["lr"], foreach=True, capturable=capturable)
    return torch.optim.SGD(params, lr=values["lr"], momentum=values["momentum"],
                           nesterov=values["nesterov"], **kernels)


def make_optimizer(
    name: str, params: Iterable[Tensor], values: dict[str, Any], *, members: bool,
    capturable: bool = False,
) -> torch.optim.Optimizer:
    """The optimizer ``name`` over ``params`` with ``values`` of the hyperparameters it takes
    (``bench.core.hyperparameters.optimizer_arguments``): one value per member of an ensemble
    (``members``), or one value for a single network (torch's optimizer where torch has it,
    ``capturable`` for CUDA graphs, which the per-member optimizers always are). A setting
    members may not differ in (Nesterov) takes one value for all members. A plugin's optimizer
    is its torch.optim class (``plugin_optimizers``)."""
    if name in PLUGIN_OPTIMIZERS:
        return make_plugin_optimizer(PLUGIN_OPTIMIZERS[name], params, values, members=members)
    if name not in MEMBER_OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; known: {', '.join(MEMBER_OPTIMIZERS)}")
    cls, per_member = MEMBER_OPTIMIZERS[name], optimizer_arguments(name)
    if set(values) != set(per_member):
        raise ValueError(f"{name} takes {', '.join(per_member)}; got "
                         f"{', '.join(sorted(values)) or 'none'}")
    single = {}
    for key, value in values.items():
        distinct = set(value) if isinstance(value, list | tuple) else {value}
        if len(distinct) != 1 and (not per_member[key] or not members):
            raise ValueError(f"{'all members take' if members else 'a single network takes'} "
                             f"one {key}, got {value}")
        (single[key],) = distinct if len(distinct) == 1 else (None,)
    shared = {key: single[key] for key, own in per_member.items() if not own}
    if members:
        return cls(params, **shared, **{key: values[key] for key, own in per_member.items() if own})
    if name in TORCH_HAS:
        return _torch_optimizer(name, list(params), single, capturable)
    return cls(params, **shared, **{key: [single[key]] for key, own in per_member.items() if own})
