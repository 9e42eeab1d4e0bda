"""nox sessions, declared in antsibull-nox.toml (make extra-checks runs `nox -s extra-checks`)."""

import antsibull_nox

antsibull_nox.load_antsibull_nox_toml()
