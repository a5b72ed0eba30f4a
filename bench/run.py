#!/usr/bin/env python
"""``make bench``: run every ``bench/*_bench.py`` in turn; each writes ``bench/results/<name>.json``.

Benchmarks use DATABASE_URL / REDIS_URL when set, else the local PostgreSQL and Redis (each creates
its own database); bench/local_services.py first makes the local ones ready on a fresh machine (starts
them when installed but stopped, creates the role ``coresponse``) and prints which services are used.
Extra arguments are passed to every benchmark (e.g. ``--clients 2000``) only
when one name is given: ``python bench/run.py push --clients 2000``. ``push_faults`` is the push
benchmark's fault run (``push_bench.py --faults``, issue 18).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from local_services import prepare  # noqa: E402 - bench/ is not a package

# Extra runs of a benchmark script: name → (script, its arguments). `python bench/run.py push_faults`.
VARIANTS: dict[str, tuple[str, list[str]]] = {
    "push_faults": ("push", ["--faults"]),  # issue 18: the same faults at 1,000 phones → push_faults.json
}


def main() -> int:
    args = sys.argv[1:]
    names = [p.stem.removesuffix("_bench") for p in sorted(HERE.glob("*_bench.py"))]
    names += [v for v in VARIANTS if v.split("_")[0] in names]
    if args and not args[0].startswith("-"):
        names, extra = [args[0]], args[1:]
    else:
        extra = []
    if not names:
        print("no benchmarks yet")
        return 0
    print(prepare(dict(os.environ)).describe(), flush=True)
    failed = []
    for name in names:
        print(f"=== bench {name}", flush=True)
        script, variant = VARIANTS.get(name, (name, []))
        code = subprocess.call([sys.executable, str(HERE / f"{script}_bench.py"), *variant, *extra])
        if code:
            failed.append(name)
    for result in sorted((HERE / "results").glob("*.json")):
        print(f"--- {result.relative_to(HERE.parent)}\n{result.read_text()}")
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
