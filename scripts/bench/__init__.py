"""The benchmark: the generated kernels against NumPy, PyTorch, JAX and a hand-written numba reference.

    python -m scripts.bench [--quick] [--only GROUP] [--repeat N] [--json FILE]     (from the repository's root)
    python scripts/bench …                                                          (the same)
    python -m scripts.bench.elementary                   the elementary functions against libm and NumPy

One module per concern; imports flow one way (tests/test_bench_package.py checks there is no cycle):

    protocol      the Run a competitor returns, thread settings, shared helpers      (imports nothing here)
    workloads     tasks, sizes, seeds, the datasets and what a competitor is given    (nothing here)
    checks        the correctness gate: relative error against the reference result  (nothing here)
    numpy_peer, torch_peer, jax_peer, kernels_peer, reference, bandwidth
                  one competitor family each: NumPy, PyTorch (formula and autograd), JAX, the generated kernels,
                  the hand-written numba reference, the bandwidth probes            (protocol, workloads)
    competitors   the registry: name → class                                         (the families)
    workers       one process per competitor, driven over a pipe                     (competitors, workloads)
    report        machine, Markdown tables, correctness summary, JSON                (workloads)
    coldstart     fresh processes: import and first call                             (checks)
    driver        datasets, prepare → check → time, round-robin repetitions          (all of the above)
    cli           arguments and main                                                 (driver, report)
    elementary    a stand-alone bench of generated/_elementary.py                    (nothing here)

To add a competitor, write its module and add it to ``competitors``; to add a workload, see ``workloads``.
Timing lives here, never in tests: tests/test_bench_competitors.py asserts on small data that every competitor
computes what the kernels compute, and tests/test_bench_quick.py that a --quick run works.
"""
