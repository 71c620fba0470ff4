"""The training gradients of a GAN of MLP ensembles, written out as batched products with the
activation masks: the same maths as autograd without its graph, and for the gradient penalty
15% fewer FLOPs (autograd's double backward also multiplies the zeros it gets for the masks'
derivative through the forward pass).

A hidden layer is z = h W + b, h' = phi(z) with phi ReLU or LeakyReLU, so phi'(z) is a
constant per unit and sample (the mask) and every gradient is a chain of products with the
transposed weights and element-wise products with the masks:

- the loss's gradient: the output scores' gradient ds (autograd on the small [K, B] loss head,
  so every loss of ``gan_zoo.losses`` is served as written), then, layer by layer from the top,
  delta_l = phi'(z_l) * (delta_{l+1} W_{l+1}^T), dL/dW_l = h_{l-1}^T delta_l, dL/db_l = sum delta_l;
- the gradient penalty's input gradient at the interpolates: the same chain seeded with 1 per
  sample, v_l = ds/dz_l, g = v_1 W_1^T; it runs in the same products as the loss's chain, the
  real, fake and interpolated rows stacked;
- the penalty's parameter gradient (the double backward): the masks are piecewise constant in
  the parameters (autograd's derivative of a ReLU's backward with respect to its input is
  zero), so g is linear in each W_l along the chain, and reverse mode through it is a forward
  pass of G = dP/dg through the weights and masks: u_0 = G, dP/dW_l = u_{l-1}^T v_l,
  u_l = phi'(z_l) * (u_{l-1} W_l), dP/dw_out = sum over samples of u_L; no bias gets a penalty
  gradient. The penalty's value and G come from the constraint's own ``penalty`` (autograd on
  its small [K, B, d] head), through a stand-in critic whose input gradient is g.

Members stay independent (every product is per member), and the gradients land in each
parameter's ``.grad``, as autograd's would, so every optimizer, extrapolation and projection
consumes them unchanged. Networks of another shape (normalisation, smooth activations, image
networks, plugins) and penalties other than ``GradientPenalty`` keep autograd (``unfit``).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from gan_zoo.architectures.mlp import EnsembleCritic, EnsembleLinear, EnsembleMLP
from gan_zoo.constraints import Constraint, GradientPenalty, UniformSampler
from gan_zoo.critic_step import CriticLosses
from gan_zoo.losses import CriticLoss, GeneratorLoss

_threshold_backward = torch.ops.aten.threshold_backward
_leaky_relu_backward = torch.ops.aten.leaky_relu_backward

_NARROW = 2
"""Products with a result this narrow (the critic's score, a 2-D sample) are taken with rows
and columns swapped: MKL's batched sgemm is 3-15x slower for a right-hand side of one or two
columns than for the same product transposed (docs/PERFORMANCE.md, "The fused step")."""


def _affine(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """x W + b: [K, R, in] -> [K, R, out]."""
    if weight.shape[-1] <= _NARROW:
        return torch.baddbmm(bias.transpose(1, 2), weight.transpose(1, 2),
                             x.transpose(1, 2)).transpose(1, 2)
    return torch.baddbmm(bias, x, weight)


def _times_transposed(delta: Tensor, weight: Tensor) -> Tensor:
    """delta W^T; through a one-unit layer an outer product, taken element-wise (a batched
    product over a contraction of one is ~12x slower)."""
    if weight.shape[-1] == 1:
        return delta * weight.transpose(1, 2)
    return torch.bmm(delta, weight.transpose(1, 2))


def _weight_gradient(x: Tensor, delta: Tensor, add_to: Tensor | None = None) -> Tensor:
    """x^T delta (plus ``add_to``), shaped like the weight: [K, in, out]."""
    if delta.shape[-1] <= _NARROW:
        swapped = (torch.bmm(delta.transpose(1, 2), x) if add_to is None else
                   torch.baddbmm(add_to.transpose(1, 2), delta.transpose(1, 2), x))
        return swapped.transpose(1, 2).contiguous()
    if add_to is None:
        return torch.bmm(x.transpose(1, 2), delta)
    return torch.baddbmm(add_to, x.transpose(1, 2), delta)


@dataclass(frozen=True)
class _Activation:
    """phi and the product with its mask, by autograd's own backward kernels (so float64
    results agree with autograd's to rounding)."""

    slope: float
    """phi's slope below zero: 0 for ReLU."""

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """phi(z), and what its mask is read from (ReLU: its output; LeakyReLU: its input)."""
        if self.slope == 0:
            h = z.relu_()  # z is needed no more: the mask is h > 0
            return h, h
        return torch.nn.functional.leaky_relu(z, self.slope), z

    def backward(self, grad: Tensor, carrier: Tensor) -> Tensor:
        """phi'(z) * grad."""
        if self.slope == 0:
            return _threshold_backward(grad, carrier, 0)
        return _leaky_relu_backward(grad, carrier, self.slope, False)


def _activation_of(module: nn.Module) -> _Activation | None:
    if type(module) is nn.ReLU:
        return _Activation(0.0)
    if type(module) is nn.LeakyReLU:
        return _Activation(float(module.negative_slope))
    return None


@dataclass
class _Pass:
    """One forward pass: each affine layer's input and each hidden layer's mask carrier."""

    inputs: list[Tensor]
    carriers: list[Tensor]
    output: Tensor


class MLPChain:
    """An ``EnsembleMLP`` as its affine layers and one piecewise-linear activation."""

    def __init__(self, layers: Sequence[EnsembleLinear], activation: _Activation) -> None:
        self.weights = [layer.weight for layer in layers]
        self.biases = [layer.bias for layer in layers]
        self.activation = activation

    @classmethod
    def of(cls, network: nn.Module) -> "MLPChain | None":
        """``network`` as a chain, or None if it is not exactly an ``EnsembleMLP`` (or
        ``EnsembleCritic``) of affine layers and ReLU or LeakyReLU, without normalisation."""
        if type(network) not in (EnsembleMLP, EnsembleCritic):
            return None
        modules = list(network.net)
        layers, activations = modules[::2], {_activation_of(m) for m in modules[1::2]}
        if (len(modules) % 2 == 0 or any(type(m) is not EnsembleLinear for m in layers)
                or None in activations or len(activations) > 1):
            return None
        return cls(layers, activations.pop() if activations else _Activation(0.0))

    @property
    def parameters(self) -> list[Tensor]:
        return [p for pair in zip(self.weights, self.biases, strict=True) for p in pair]

    def forward(self, x: Tensor) -> _Pass:
        """[K, R, in] -> [K, R, out], keeping what the backward chain reads."""
        inputs, carriers = [x], []
        for weight, bias in zip(self.weights[:-1], self.biases[:-1], strict=True):
            h, carrier = self.activation.forward(_affine(inputs[-1], weight, bias))
            inputs.append(h)
            carriers.append(carrier)
        return _Pass(inputs, carriers, _affine(inputs[-1], self.weights[-1], self.biases[-1]))

    def backward(self, grad_output: Tensor, run: _Pass) -> list[Tensor]:
        """The gradient at every affine layer's output (delta_l), from the output's."""
        deltas = [grad_output]
        for weight, carrier in zip(self.weights[:0:-1], run.carriers[::-1], strict=True):
            deltas.insert(0, self.activation.backward(_times_transposed(deltas[0], weight),
                                                      carrier))
        return deltas

    def input_gradient(self, first_delta: Tensor) -> Tensor:
        """The gradient at the input, from the first layer's delta."""
        return _times_transposed(first_delta, self.weights[0])

    def parameter_gradients(self, run: _Pass, deltas: list[Tensor],
                            blocks: Sequence[slice] = (slice(None),)) -> list[Tensor]:
        """dL/dW_l = h_{l-1}^T delta_l and dL/db_l = sum delta_l over the rows of ``blocks``,
        in ``parameters`` order. Each block's sums are taken apart and added, as autograd adds
        each network call's: the WGAN loss's real and fake halves then cancel as they do
        there (exactly, for an always-active unit's bias), where one sum over both would
        leave a rounding residual that Adam turns into a step of up to lr."""
        grads = []
        for h, delta in zip(run.inputs, deltas, strict=True):
            weight_grad = bias_grad = None
            for block in blocks:
                weight_grad = _weight_gradient(h[:, block], delta[:, block], weight_grad)
                block_sum = delta[:, block].sum(1, keepdim=True)
                bias_grad = block_sum if bias_grad is None else bias_grad + block_sum
            grads += [weight_grad, bias_grad]
        return grads

    def add_penalty_gradients(self, grads: list[Tensor], run: _Pass, deltas: list[Tensor],
                              penalty_grad: Tensor, rows: slice) -> None:
        """Add the penalty's parameter gradient to the weights' ``grads`` (module docstring:
        u_0 = G, dP/dW_l = u_{l-1}^T v_l, u_l = phi'(z_l) * (u_{l-1} W_l), dP/dw_out = sum u_L),
        v_l being ``deltas`` at the interpolated ``rows``."""
        u = penalty_grad
        for layer, weight in enumerate(self.weights):  # v_out is the seed, 1 per sample
            grads[2 * layer] = _weight_gradient(u, deltas[layer][:, rows], grads[2 * layer])
            if layer < len(run.carriers):
                u = self.activation.backward(torch.bmm(u, weight), run.carriers[layer][:, rows])


def _set_gradients(params: list[Tensor], grads: list[Tensor]) -> None:
    for p, grad in zip(params, grads, strict=True):
        p.grad = grad


def _loss_head(loss: Callable[..., Tensor], *scores: Tensor) -> tuple[Tensor, tuple[Tensor, ...]]:
    """The loss per member and its gradient with respect to each of ``scores`` (autograd on
    the [K, B] head only)."""
    leaves = [s.detach().requires_grad_() for s in scores]
    with torch.enable_grad():
        value = loss(*leaves)
        grads = torch.autograd.grad(value.sum(), leaves)
    return value.detach(), grads


def _critic_pass(chain: MLPChain, critic_loss: CriticLoss,
                 rows: Sequence[Tensor]) -> tuple[_Pass, Tensor, list[Tensor]]:
    """The forward pass of ``rows`` (real, fake, and the interpolates if given) stacked, the
    critic loss per member, and the backward chain seeded with the loss's gradient at the real
    and fake scores and with 1 at the interpolates (their input gradient's seed)."""
    batch = rows[0].shape[1]
    run = chain.forward(torch.cat(list(rows), 1))
    scores = run.output.squeeze(-1)
    loss, (seed,) = _loss_head(lambda s: critic_loss(s[:, :batch], s[:, batch:]),
                               scores[:, : 2 * batch])
    if len(rows) > 2:
        seed = torch.cat([seed, seed.new_ones(scores[:, 2 * batch:].shape)], 1)
    return run, loss, chain.backward(seed.unsqueeze(-1), run)


class _InputGradientCritic:
    """The critic ``GradientPenalty.penalty`` is handed: at its interpolates it runs the
    critic's pass on the real, fake and interpolated rows at once (``_critic_pass``), and
    returns sum_i x_i g_i with the input gradient g as a leaf: not the scores, but a function
    with the critic's input gradient, which is all the penalty reads."""

    def __init__(self, chain: MLPChain, critic_loss: CriticLoss, real: Tensor,
                 fake: Tensor) -> None:
        self.chain, self.critic_loss, self.real, self.fake = chain, critic_loss, real, fake
        self.run: _Pass | None = None
        self.loss: Tensor | None = None
        self.deltas: list[Tensor] = []
        self.gradient: Tensor | None = None

    def __call__(self, interpolates: Tensor) -> Tensor:
        with torch.no_grad():
            self.run, self.loss, self.deltas = _critic_pass(
                self.chain, self.critic_loss, (self.real, self.fake, interpolates))
            interpolated = slice(2 * self.real.shape[1], None)
            gradient = self.chain.input_gradient(self.deltas[0][:, interpolated])
        self.gradient = gradient.requires_grad_()
        return (interpolates * self.gradient).sum(-1)


class FusedMLPGradients:
    """The critic's and the generator's gradients of a GAN of MLP ensembles, by hand."""

    def __init__(self, generator: nn.Module, critic: nn.Module) -> None:
        chains = MLPChain.of(generator), MLPChain.of(critic)
        if None in chains:
            raise ValueError("the fused step needs MLP ensembles of affine layers and ReLU or "
                             "LeakyReLU (see unfit)")
        self.generator, self.critic = chains

    @torch.no_grad()
    def generate(self, latent: Tensor) -> Tensor:
        """The generator's samples (no gradient)."""
        return self.generator.forward(latent).output

    def critic_gradient(self, critic_loss: CriticLoss, constraint: Constraint, real: Tensor,
                        fake: Tensor, uniform: UniformSampler) -> CriticLosses:
        """``gan_zoo.critic_step.critic_gradient``'s gradients in the critic's ``.grad``, and
        its losses; ``constraint`` must pass ``unfit``."""
        batch = real.shape[1]
        halves = (slice(0, batch), slice(batch, 2 * batch))  # the real rows, the fake rows
        penalised = _InputGradientCritic(self.critic, critic_loss, real, fake)
        penalty = constraint.penalty(penalised, real, fake, uniform)
        if penalty is not None:
            (penalty_grad,) = torch.autograd.grad(penalty.sum(), penalised.gradient)
            penalty = penalty.detach()
        with torch.no_grad():
            if penalty is None:
                run, loss, deltas = _critic_pass(self.critic, critic_loss, (real, fake))
            else:
                run, loss, deltas = penalised.run, penalised.loss, penalised.deltas
            grads = self.critic.parameter_gradients(run, deltas, halves)
            if penalty is not None:
                self.critic.add_penalty_gradients(grads, run, deltas, penalty_grad,
                                                  slice(2 * batch, None))
            _set_gradients(self.critic.parameters, grads)
        return CriticLosses(loss, penalty, loss if penalty is None else loss + penalty)

    @torch.no_grad()
    def generator_gradient(self, generator_loss: GeneratorLoss, latent: Tensor) -> Tensor:
        """The generator loss per member at ``latent``, its gradient in the generator's
        ``.grad`` (the critic's are left alone)."""
        fake = self.generator.forward(latent)
        scored = self.critic.forward(fake.output)
        loss, (seed,) = _loss_head(generator_loss, scored.output.squeeze(-1))
        grad_fake = self.critic.input_gradient(self.critic.backward(seed.unsqueeze(-1),
                                                                    scored)[0])
        deltas = self.generator.backward(grad_fake, fake)
        _set_gradients(self.generator.parameters,
                       self.generator.parameter_gradients(fake, deltas))
        return loss


def unfit(generator: nn.Module, critic: nn.Module, constraint: Constraint) -> str | None:
    """Why the fused step cannot compute these networks' gradients, or None if it can."""
    if MLPChain.of(generator) is None or MLPChain.of(critic) is None:
        return "the networks are not MLP ensembles of affine layers and ReLU or LeakyReLU"
    if type(constraint).penalty not in (Constraint.penalty, GradientPenalty.penalty):
        return f"the {constraint.name} penalty has no fused gradient"
    return None
