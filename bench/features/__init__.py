"""Feature extractors for image metrics (FID Inception, ...)."""
