"""The WGAN paper's small analytic experiments, each a module of its own run beside a suite's
training: learning parallel lines (Example 1, Fig. 1) and the discriminator vs the critic on
two Gaussians (Fig. 2)."""
