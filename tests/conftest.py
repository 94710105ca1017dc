"""Session set-up shared by the kernel tests: compile the modules they select once, in worker processes."""
from pathlib import Path

import pytest

KERNEL_TESTS = ("test_kernels.py", "test_kernel_inputs.py", "test_kernel_edges.py")


@pytest.fixture(scope="session", autouse=True)
def _compiled(request):
    """The modules the selected kernel tests name (parameter ``name``), and whether they test K = 3 outputs."""
    names, many = set(), set()
    for item in request.session.items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if Path(item.path).name in KERNEL_TESTS and "name" in params:
            names.add(params["name"])
            if (params.get("outputs") or 1) > 1:
                many.add(params["name"])
    if names:
        from kernel_cases import compile_in_workers
        compile_in_workers(sorted(names), many)
