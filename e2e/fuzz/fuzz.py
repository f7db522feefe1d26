"""`make fuzz`: runs the property tests of every parser of untrusted text (the `fuzz_` tests of
the server crate) for a time budget, round after round with fresh random inputs, and reports how
many cases each property survived. A failure stops the run and prints the shrunk input.

    python e2e/fuzz/fuzz.py [--minutes 30] [--cases-per-round 20000]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_binary():
    """Builds the server's unit tests once and returns the executable (rounds then run it directly,
    so a build elsewhere in the tree does not wait on them, nor they on it)."""
    built = subprocess.run(
        ["cargo", "test", "-p", "server", "--lib", "--no-run", "--message-format=json"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    for line in built.stdout.splitlines():
        message = json.loads(line)
        if message.get("reason") == "compiler-artifact" and message.get("executable") and message["target"]["name"] == "server":
            return message["executable"]
    raise SystemExit("could not find the server's test executable")


def properties(binary):
    listed = subprocess.run([binary, "fuzz_", "--list"], cwd=ROOT / "server", capture_output=True, text=True, check=True)
    return sorted(line.split(": test")[0] for line in listed.stdout.splitlines() if line.endswith(": test"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("FUZZ_MINUTES", 30)))
    parser.add_argument("--cases-per-round", type=int, default=20000)
    args = parser.parse_args()

    binary = test_binary()
    names = properties(binary)
    print(f"fuzzing {len(names)} properties for {args.minutes:g} minutes, {args.cases_per_round} cases each per round")
    started = time.monotonic()
    deadline = started + args.minutes * 60
    rounds, failed = 0, None
    while time.monotonic() < deadline:
        env = {**os.environ, "PORTAL_FUZZ_CASES": str(args.cases_per_round)}
        done = subprocess.run([binary, "fuzz_", "--quiet"], cwd=ROOT / "server", env=env, capture_output=True, text=True)
        if done.returncode != 0:
            failed = done.stdout + done.stderr
            break
        rounds += 1
        elapsed = time.monotonic() - started
        print(f"round {rounds}: all {len(names)} properties held ({elapsed / 60:.1f} min)", flush=True)

    elapsed = time.monotonic() - started
    report = {
        "minutes": round(elapsed / 60, 1),
        "rounds": rounds,
        "cases_per_property": rounds * args.cases_per_round,
        "total_cases": rounds * args.cases_per_round * len(names),
        "properties": names,
        "failure": None,
    }
    if failed:
        report["failure"] = "\n".join(l for l in failed.splitlines() if not re.match(r"\s+(\d+:|at )", l))
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "fuzz.json").write_text(json.dumps(report, indent=2))
    print(f"\n{report['total_cases']:,} cases in {report['minutes']} minutes: {rounds} rounds × {len(names)} properties × {args.cases_per_round:,}")
    for name in names:
        print(f"  {name}")
    if failed:
        print("\nFAILED:\n" + report["failure"])
        sys.exit(1)
    print("no failures; report in bench-results/fuzz.json")


if __name__ == "__main__":
    main()
