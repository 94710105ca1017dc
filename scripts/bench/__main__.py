"""python -m scripts.bench [options], from the repository's root; or python scripts/bench [options]. See cli.py."""
import sys
from pathlib import Path

if __package__ in (None, ""):     # run as `python scripts/bench`: import the package from the repository's root
    sys.path[0] = str(Path(__file__).resolve().parents[2])

from scripts.bench.cli import main  # noqa: E402  (after the path is set)

if __name__ == "__main__":
    sys.exit(main())
