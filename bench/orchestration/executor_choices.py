"""Where groups can train and how long a cluster may take to answer: the run options'
choices and defaults, torch-free so the command line declares its flags from them."""

LOCAL, RAY = "local", "ray"
EXECUTORS = (LOCAL, RAY)
"""``local``: this machine's processes; ``ray``: a Ray cluster."""
CONNECT_TIMEOUT = 60.0
"""Seconds to wait for a cluster at ``--address`` to answer (``--ray-timeout``)."""
