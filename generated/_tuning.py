"""Every tuning constant of the kernels, in one table, with the measurement behind it (written by hand).

Measured on the development machine (AMD EPYC Zen 4, 2 cores) by the scripts named; a per-pair cost (a row's
f, L and ∂L/∂z) is not here: each module carries its own ``_ROW_COST``, from its pieces' function costs.
"""

# neuron with one output (template part "fused"): passes over X in blocks
BLOCK = 128               # rows per block: z, then f and L, then the gradient, while the block is in L2
#                           (64 measured 5 % slower at (1e6, 100); scripts/bench: workloads neuron_*)
NARROW = 32               # D up to which both passes take four rows at a time (D = 10: 12.2 → 9.6 ns a row;
#                           four rows at D = 100 was 1.6× slower)
FUSED_PARALLEL_MIN = 100_000  # N·(D + row cost) below which one thread beats two (≈ 25 µs of work; the
#                           D = 10 crossover moved from 13,000 rows to 3,000 with it)
CHUNKS = 16               # row chunks for the threads of one call (a constant: numba cannot cache
#                           get_num_threads()); 16 keeps both threads busy when one is descheduled

# dense stacks (template part "dense"): softmax regression, neurons with K > 1 outputs, MLPs
ROWS = 256                # rows per sub-batch: a sub-batch's activations stay in L2 between the passes
#                           (softmax (1e5, 100, 10): 66 → 21 ms a gradient against row-at-a-time loops)
BLAS_MIN = 8              # rows from which a product goes to BLAS; below it a call costs more than the loops
#                           (per-sample softmax fit: loops 2.3× faster than np.dot on one row)
PARALLEL_MIN = 1 << 16    # rows × multiply-adds per row below which one thread beats several
MIN_ROWS = 16             # rows per thread at least, when a batch is split over threads
COMPILE_PAYS = 1 << 29    # epochs × N × multiply-adds per row of a process's split fits from which they use the
#                           parallel chunks (_spans), compiling them (0.6 s; the serial ones 0.2 s), rather than
#                           run the chunks one after the other: ≈ 0.12 s of serial work (MLP (32, 256, 1), batch
#                           256, 2 threads: 0.21–0.26 ns a row·multiply-add serial, 0.135 parallel). The compile
#                           is won back from ≈ 2^33; 2^29 keeps the first short fit serial (compile_times: 0.5 s
#                           less) but puts repeated fits (scripts/bench mlp_fit, H = 64: 2^27.7 a call) on threads
#                           by their third call (at 2^30, timed calls of the bench still ran serial)
