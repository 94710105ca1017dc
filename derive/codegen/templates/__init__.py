"""Kernel templates: real Python modules that the generator assembles into one kernel module per combination.

The contract between a template part and ``derive.codegen.assemble`` (the one place it is written down):

1. A part is a module here. A model names its parts in order (``Model.template(span)``, the head's span adding
   its own), e.g. neuron = pieces, head_elementwise, dense, fused, neuron. The kernel module is the parts'
   bodies one after another, each without its docstring and imports.
2. Imports: ``from derive.kernels import X`` becomes ``from . import X``; an import from another part
   (``from derive.codegen.templates.pieces import _loss``) is dropped, as that part's code is in the module;
   every other import is kept once, at the top, sorted.
3. Stubs: the functions a part lists in ``STUBS`` have working defaults (sigmoid + BCE, tanh), so a part runs
   and is tested on its own; the generator replaces each whole definition by the printed function of the same
   name and parameters. Nothing else is edited.
4. Constants: the module-level names a part lists in ``CONSTANTS`` get the generator's values (the registry
   entries' names, label sets, costs); the rest is copied verbatim, comments included.
5. Top-level names are unique across parts, except a constant two parts assign identically (``_FASTMATH``),
   which is kept once. A top-level function nothing reachable calls is dropped (the generator walks the calls
   from the public entry points ``_kernels``, ``core`` and the constants).
6. The last part (the model's own) defines ``_kernels(widths, K_is_one)``, returning the compiled entry points
   for those shapes, and ``core``; the shared public API (``derive/kernels/_api.py``) reads only those and the
   constants ``MODEL``, ``SPAN``, ``LABELS``, ``LAYOUT``.
"""
