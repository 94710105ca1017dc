"""Scripts run from the repository root: regenerate_kernels.py, bench_bounded.py, and the benchmark package bench/."""
