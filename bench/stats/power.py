"""How many seeds would decide a check? Textbook sample sizes, at the level the check will face.

Each rule plans two outcomes and reports the one that needs fewer seeds: a difference (the
check's one-sided test rejects) and equivalence (its TOST shows the effect inside the
margin). The formulas are the standard ones for the tests the rules run, so a plan can be
checked against the textbook (tests/test_power_planning.py):

- rank comparisons (Cliff's delta): Noether (1987) for the Mann-Whitney test, n per arm =
  (z_{1-a} + z_{power})^2 / (6 (theta - 1/2)^2) with theta = (1 + delta) / 2; equivalence
  with the same variance of theta-hat (Hanley and McNeil's, 1/(6n) at theta = 1/2) and the
  TOST sample size of Chow, Shao and Wang (2008, Sec. 3.2);
- a mean against a bound: the one-sample normal sample size, sd from the seeds;
- paired successes: Connor (1987) for McNemar's test, equivalence by the same variance.

A plan rests on an assumed effect. The observed one is the median-unbiased guess, but a
small pilot's |effect| is often near 0 by chance: when no plan on the observed effect fits
under the search's cap, the rules plan on the far end of the effect's interval (the
largest effect the pilot leaves plausible) and say so, rather than declare futility.
"""

import math

from scipy import stats

POWER = 0.8


def _z(p: float) -> float:
    return float(stats.norm.ppf(p))


def _size(n: float) -> float:
    """Whole seeds (at least 2), or inf."""
    return math.inf if not math.isfinite(n) else float(max(2, math.ceil(n - 1e-9)))


def rank_difference_seeds(delta: float, level: float, power: float = POWER) -> float:
    """Seeds per arm for the one-sided Mann-Whitney test at ``level`` to detect Cliff's
    ``delta`` with ``power`` (Noether's formula); inf for delta 0."""
    if delta == 0:
        return math.inf
    return _size((_z(1 - level) + _z(power)) ** 2 / (6 * (delta / 2) ** 2))


def _theta_variance(delta: float) -> float:
    """n x Var(theta-hat) at theta = (1 + delta) / 2, equal arms (Hanley and McNeil)."""
    theta = (1 + delta) / 2
    return theta * (1 - theta) * ((1 - theta) / (2 - theta) + theta / (1 + theta))


def _equivalence(effect: float, margin: float, unit_variance: float, level: float,
                 power: float) -> float:
    """TOST sample size: n with z_{1-level} + z_{power'} standard errors between the effect
    and the nearer margin (power' = 1 - beta / 2 at effect 0, where both tests bind)."""
    room = margin - abs(effect)
    if room <= 0:
        return math.inf
    beta = 1 - power
    z_power = _z(1 - beta / 2) if effect == 0 else _z(power)
    return _size((_z(1 - level) + z_power) ** 2 * unit_variance / room ** 2)


def rank_equivalence_seeds(delta: float, margin: float, level: float,
                           power: float = POWER) -> float:
    """Seeds per arm for Cliff's delta's TOST at ``level`` to show |delta| < ``margin``
    with ``power`` when the true effect is ``delta``; inf when |delta| >= margin."""
    # theta's scale: delta = 2 theta - 1, so the margin and the effect halve
    return _equivalence(delta / 2, margin / 2, _theta_variance(delta), level, power)


def mean_difference_seeds(effect: float, sd: float, level: float,
                          power: float = POWER) -> float:
    """Seeds for a one-sided test at ``level`` that a mean differs from its bound by
    ``effect`` (the seeds' ``sd``), with ``power``."""
    if effect == 0:
        return math.inf
    # + z^2 / 2: Guenther's (1981) correction for the t-test's estimated sd
    return _size(((_z(1 - level) + _z(power)) * sd / effect) ** 2 + _z(1 - level) ** 2 / 2)


def mean_equivalence_seeds(effect: float, sd: float, margin: float, level: float,
                           power: float = POWER) -> float:
    """Seeds for a mean's TOST at ``level`` to show it within ``margin`` of its bound."""
    return _size(_equivalence(effect, margin, sd ** 2, level, power) + _z(1 - level) ** 2 / 2)


def paired_difference_pairs(difference: float, discordant: float, level: float,
                            power: float = POWER) -> float:
    """Pairs for the one-sided McNemar test at ``level`` to detect a ``difference`` of
    success fractions when a ``discordant`` fraction of pairs disagree (Connor 1987)."""
    if difference == 0 or discordant <= 0:
        return math.inf
    spread = max(discordant - difference ** 2, 0.0)
    return _size((_z(1 - level) * math.sqrt(discordant)
                  + _z(power) * math.sqrt(spread)) ** 2 / difference ** 2)


def paired_equivalence_pairs(difference: float, discordant: float, margin: float,
                             level: float, power: float = POWER) -> float:
    """Pairs for the paired difference's TOST at ``level`` to show |difference| < margin."""
    return _equivalence(difference, margin, max(discordant - difference ** 2, 1e-12), level,
                        power)
