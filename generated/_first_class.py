"""Compiled functions passed to the shared kernels by address (written by hand, not generated).

The dense loops (``_dense``) are the same for every module; only the head and the hidden activation differ. So
each module compiles its few head functions, and hands their addresses to one shared, cached compilation of
the loops, which calls them through pointers (one call per block of rows):

    pieces = addresses(module functions)      int64 array: (cfunc wrapper, jit entry) of each function
    f = at(pieces[2 i], pieces[2 i + 1])      inside numba: a first-class function of a declared signature

This uses numba's first-class function type (its data model: c_addr, py_addr, jit_addr); tests/test_kernels.py
exercises it through every dense module.
"""
import numpy as np
from numba import types
from numba.core import cgutils
from numba.core.compiler_lock import global_compiler_lock
from numba.extending import intrinsic

C2 = types.float64[:, ::1]
HEAD = types.FunctionType(types.float64(C2, C2, types.int64, C2, C2))               # (Z, Y, n, A, Dz) -> Σ L
#                                      (labels are floats: values, or class indices, which float64 holds exactly)
HEAD_PREDICT = types.FunctionType(types.none(C2, types.int64, C2))                  # (Z, n, A)
HIDDEN_FORWARD = types.FunctionType(types.none(C2, C2, types.int64))                # (Z, H, n): H = g(Z)
HIDDEN_BACKWARD = types.FunctionType(types.none(C2, C2, C2, types.int64))           # (Z, A, D, n): D *= g'(Z, A)
C1 = types.float64[::1]
STEP = types.FunctionType(types.float64(C1, C1, types.float64, types.float64, C1, C2, types.float64, C1))
#                                      (theta, grad, scale, lr, hyper, state, t, decay) -> coupled L2 penalty
BLOCK = types.FunctionType(types.UniTuple(types.float64, 2)(C1, types.float64, C2, C1, C1, C1, C1))
#                                      (w, b0, X, y, gw, zs, ds) -> (Σ L, Σ ∂L/∂z) of one block of rows
ONE_SAMPLE_EPOCH = types.FunctionType(types.float64(C1, C2, C1, types.uint64[::1], types.float64))
#                                      (theta, X, y, order, lr) -> Σ L of an epoch of one-sample SGD
I1 = types.int64[::1]
SPAN = types.FunctionType(types.float64(C1, I1, C2, C2, C1, C1, C1, C1, C1, types.int64, I1))
#                                      (theta, widths, X, Y, grad, Z, A, D, G, rows, pieces) -> Σ L (_dense._span)
CHUNKS = types.FunctionType(types.none(C1, I1, C2, C2, C2, C2, C2, C2, C2, types.int64, I1, C1, I1))
#                                      (theta, widths, X, Y, parts, Zs, As, Ds, Gs, rows, pieces, totals, calls)


def _cast(pick):
    """An intrinsic turning two addresses into a first-class function of the type ``pick(labels type)``."""
    @intrinsic
    def at(typingctx, c_addr, jit_addr, labels):
        fntype = pick(labels)

        def codegen(context, builder, signature, args):
            function = cgutils.create_struct_proxy(fntype)(context, builder)
            pointer = context.get_value_type(types.voidptr)
            function.c_addr = builder.inttoptr(args[0], pointer)
            function.jit_addr = builder.inttoptr(args[1], pointer)
            return function._getvalue()
        return fntype(c_addr, jit_addr, labels), codegen
    return at


head_at = _cast(lambda labels: HEAD)
head_predict_at = _cast(lambda labels: HEAD_PREDICT)
hidden_forward_at = _cast(lambda labels: HIDDEN_FORWARD)
hidden_backward_at = _cast(lambda labels: HIDDEN_BACKWARD)
block_at = _cast(lambda labels: BLOCK)
step_at = _cast(lambda labels: STEP)
one_sample_epoch_at = _cast(lambda labels: ONE_SAMPLE_EPOCH)
span_at = _cast(lambda labels: SPAN)
chunks_at = _cast(lambda labels: CHUNKS)


def addresses(*functions):
    """The (cfunc wrapper, jit entry) addresses of compiled functions, each given as (dispatcher, FunctionType),
    compiled for that type first (from numba's cache when it can)."""
    found = []
    for dispatcher, fntype in functions:
        found += _pair(dispatcher, fntype)
    return np.array(found, dtype=np.int64)


def _pair(dispatcher, fntype):
    signature = fntype.signature
    dispatcher.compile(signature.args)
    result = dispatcher.overloads[signature.args]
    library = result.library
    return [library.get_pointer_to_function(result.fndesc.llvm_cfunc_wrapper_name),
            library.get_pointer_to_function(result.fndesc.llvm_func_name)]


def ready(dispatcher, fntype):
    """The addresses of a function already compiled for ``fntype``, in this process or in numba's cache (loaded
    from there, as ``Dispatcher.compile`` does); None when it would have to be compiled."""
    signature = fntype.signature
    if signature.args not in dispatcher.overloads:
        with global_compiler_lock:
            result = dispatcher._cache.load_overload(signature.args, dispatcher.targetctx)  # keyed as _pair compiles
            if result is None:
                return None
            dispatcher.targetctx.insert_user_function(result.entry_point, result.fndesc, [result.library])
            dispatcher.add_overload(result)
    return _pair(dispatcher, fntype)


class Pieces:
    """A module's function addresses, each compiled on first need: ``pieces(i, j)`` returns the address array
    with functions i and j filled in (the others stay 0 until a call needs them)."""

    def __init__(self, *functions):
        self.functions = functions
        self.array = np.zeros(2 * len(functions), dtype=np.int64)

    def __call__(self, *indices):
        for i in indices:
            if not self.array[2 * i]:
                self.array[2 * i:2 * i + 2] = _pair(*self.functions[i])
        return self.array
