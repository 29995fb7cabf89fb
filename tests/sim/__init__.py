"""The year simulation (issue 13, part 1): the example school on a simulated clock under faults,
an oracle of what every simulated person typed, the invariants checked every day.
``python -m tests.sim --help``; the suite's short version is ``tests/sim/test_sim.py``."""
