"""How long `import towerwidgets` takes in a fresh interpreter, beside `import pandas`
(the heaviest thing a notebook usually imports anyway) and a bare interpreter.

    .venv/bin/python benchmarks/import_time.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def timed(code: str, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    bare = timed("pass", args.runs)
    ours = timed("import towerwidgets", args.runs)
    pandas = timed("import pandas", args.runs)
    print(f"bare interpreter       {bare:.3f} s")
    print(f"import towerwidgets    {ours:.3f} s  (+{ours - bare:.3f} s over bare)")
    print(f"import pandas          {pandas:.3f} s  (+{pandas - bare:.3f} s over bare)")
    print(
        f"ratio towerwidgets/pandas (import cost over bare): {(ours - bare) / (pandas - bare):.2f}"
    )


if __name__ == "__main__":
    main()
