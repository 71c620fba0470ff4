"""The WGAN paper's diagnostic for momentum on the critic: the cosine between Adam's step and
the gradient ("as the loss blew up and samples got worse, the cosine between the Adam step and
the gradient usually turned negative", Arjovsky et al. 2017, Sec. 4.2).

Sign convention: cos(-update, grad). Plain gradient descent gives +1; a negative value means
Adam's momentum moved the parameters *up* the current gradient.
"""

import torch
from torch import Tensor

from bench.training.member_optimizers import MemberAdam

ADAM_STEPS = (torch.optim.Adam, MemberAdam)
"""The optimizers whose step ``adam_update_cosine`` reads (these classes, not subclasses:
AdamW, optimistic Adam and extra-Adam step elsewhere than Adam's direction)."""


@torch.no_grad()
def adam_update_cosine(optimizer: torch.optim.Adam | MemberAdam, members: int) -> Tensor:
    """Per-member cos(-update, grad) of the step ``optimizer`` has just taken, shape [K].

    Call it after ``optimizer.step()``, before anything else changes Adam's state or the
    gradients (weight clipping may come between: it moves the parameters, which the step is
    not read from). With ``members`` K > 1 every parameter carries the leading member
    dimension K of the seed-batched models; with K = 1 (a plain network) each whole tensor
    counts. The step is read from Adam's state instead of diffing parameters, so no copy of
    the weights is kept: torch's Adam moves each parameter by -lr / (1 - beta1^t) * m /
    (sqrt(v / (1 - beta2^t)) + eps), whose direction is m / (sqrt(v / (1 - beta2^t)) + eps);
    ``MemberAdam`` gives it with each member's own beta2. Everything stays on the device (no
    host sync).
    """
    if isinstance(optimizer, MemberAdam):
        directions = optimizer.update_directions()  # it steps all parameters or none
        grads = [p.grad for p in optimizer.params]
    else:
        directions, grads = _torch_adam_directions(optimizer)
    d = torch.cat([t.reshape(members, -1) for t in directions], dim=1)
    g = torch.cat([t.reshape(members, -1) for t in grads], dim=1)
    return (d * g).sum(1) / (d.norm(dim=1) * g.norm(dim=1)).clamp_min(1e-30)


def _torch_adam_directions(optimizer: torch.optim.Adam) -> tuple[list[Tensor], list[Tensor]]:
    """The step direction and the gradient of each parameter torch's Adam has just stepped."""
    directions, grads = [], []
    for group in optimizer.param_groups:
        if group["amsgrad"] or group["weight_decay"] or group["maximize"]:
            raise ValueError("adam_update_cosine supports plain Adam only (no amsgrad, weight "
                             "decay or maximize)")
        params = [p for p in group["params"] if p.grad is not None]
        if not params:
            continue
        states = [optimizer.state[p] for p in params]
        # every parameter of a group steps together, so one bias correction serves the group;
        # a capturable or CUDA-fused Adam keeps its counter on the device, and the correction
        # is then computed there (a float() of it would wait for the device)
        correction = 1 - group["betas"][1] ** states[0]["step"]
        denom = torch._foreach_div([s["exp_avg_sq"] for s in states], correction)
        # foreach kernels: a handful of launches per step whatever the number of tensors
        torch._foreach_sqrt_(denom)
        torch._foreach_add_(denom, group["eps"])
        directions += torch._foreach_div([s["exp_avg"] for s in states], denom)
        grads += [p.grad for p in params]
    return directions, grads
