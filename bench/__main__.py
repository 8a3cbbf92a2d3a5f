"""``python -m bench [name ...] [--quick]``: run benches, each in its own process, and keep going
when one fails (the exit status tells at the end)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from bench import QUICK_ENV

ORDER = ("store_api", "api_processes", "pg_claim", "pg_claim_limits", "pic_e2e", "pic_download", "pic_engine", "pic_download_memory",
         "animation_engine", "animation_e2e", "ai_engines", "batch_walk", "multipart_upload", "console_jobs")
HERE = Path(__file__).resolve().parent


def available() -> list[str]:
    """The benches present, in ORDER first, then any other module that defines ``main``."""
    present = {path.stem for path in HERE.glob("*.py") if not path.stem.startswith("_") and defines_main(path)}
    return [name for name in ORDER if name in present] + sorted(present - set(ORDER))


def defines_main(path: Path) -> bool:
    return "\ndef main() -> None:" in path.read_text(errors="replace")


def run_one(name: str, env: dict[str, str]) -> bool:
    print(f"\n=== bench {name} " + "=" * max(0, 60 - len(name)), flush=True)
    started = time.perf_counter()
    # -m from the repository root, so that benches can import bench.* and tests.support.
    done = subprocess.run([sys.executable, "-m", f"bench.{name}"], cwd=HERE.parent, env=env)
    took = time.perf_counter() - started
    if done.returncode != 0:
        print(f"--- bench {name} FAILED (exit {done.returncode}) after {took:.0f} s", flush=True)
        return False
    print(f"--- bench {name} done in {took:.0f} s", flush=True)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benches to run (default: all of {', '.join(ORDER)} present)")
    parser.add_argument("--quick", action="store_true", help=f"smaller sizes (also {QUICK_ENV}=1)")
    args = parser.parse_args(argv)
    known = available()
    unknown = [name for name in args.names if name not in known]
    if unknown:
        parser.error(f"no such bench: {', '.join(unknown)} (have: {', '.join(known)})")
    env = dict(os.environ)
    if args.quick:
        env[QUICK_ENV] = "1"
    names = args.names or known
    failed = [name for name in names if not run_one(name, env)]
    print(f"\n{len(names) - len(failed)} of {len(names)} benches passed" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
