"""GAN definitions: losses, Lipschitz constraints, architectures and paper recipes."""
