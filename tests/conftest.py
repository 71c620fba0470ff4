import pytest
import torch
from hypothesis import HealthCheck, settings

settings.register_profile("thorough", max_examples=200, deadline=None)


def slow_property(fast: int) -> settings:
    """Settings of a slow property test: ``fast`` fixed examples under hypothesis's default
    profile (CI: the same examples every run), the profile's own number of fresh examples
    under any other (``--hypothesis-profile=thorough``)."""
    default = settings.get_current_profile_name() == "default"
    return settings(max_examples=fast if default else settings().max_examples,
                    derandomize=default, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


def tiny_suite(**overrides) -> dict:
    """A suite mapping small enough to train in about a second on one CPU core."""
    suite = {
        "name": "tiny",
        "description": "test suite",
        "datasets": ["ring8"],
        "gans": ["gan", "wgan-clip", "wgan-gp"],
        "optimizers": ["adam"],
        "seeds": 2,
        "budget": {"generator_steps": 6},
        "batch_size": 32,
        "model": {"width": 16, "depth": 2, "latent_dim": 2},
        "eval": {"every": 3, "samples": 200, "w1_samples": 50, "critic_samples": 100},
    }
    suite.update(overrides)
    return suite


def pytest_collection_modifyitems(config, items):
    """Tests marked ``cuda`` skip without a CUDA GPU (``-m cuda`` selects them on one)."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if item.get_closest_marker("cuda") is not None:
            item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def _session_cache(tmp_path_factory):
    """One cache for the session (the digits classifier trains once), never the user's."""
    mp = pytest.MonkeyPatch()
    mp.setenv("GANBENCH_CACHE_DIR", str(tmp_path_factory.mktemp("ganbench-cache")))
    yield
    mp.undo()


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)
    yield
