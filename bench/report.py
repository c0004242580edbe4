#!/usr/bin/env python3
"""Turns relations_benchmark JSON into the README's table of medians and ratios.

  bazel run --config=opt //bench:relations_benchmark -- \
      --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
      --benchmark_format=json > /tmp/bench.json
  python3 bench/report.py /tmp/bench.json

Reads the *_median aggregates (CPU time, or the rows / MB rate counters for
Insert and the snapshots) and prints one markdown row per operation:
Kin, Kin native, Hand, SQLite, Kin vs SQLite, Kin / Hand.

  python3 bench/report.py --scaling 100k.json 1m.json 4m.json

prints one row per (operation, data set) of the files given instead, for
the operations they all hold.
"""

import json
import sys

OPS = [
    ("Lookup", "Lookup (one user's posts)"),
    ("Preload", "Preload (1,000 users with posts)"),
    ("Top5", "Top5 (5 newest posts, every user)"),
    ("CountAll", "CountAll (WithCount, every user)"),
    ("HasGe5", "HasGe5 (Has posts >= 5)"),
    ("MaxPerParent", "MaxPerParent (WithAggregate max)"),
    ("WhereHas", "WhereHas (published, likes > 100)"),
    ("Insert", "Insert (index maintained)"),
    ("SnapshotSave", "Snapshot save"),
    ("SnapshotLoad", "Snapshot load"),
]
PEERS = ["Kin", "KinNative", "Hand", "Sqlite"]
RATES = {"Insert": "rows", "SnapshotSave": "MB", "SnapshotLoad": "MB"}


def fmt_time(ns):
    if ns < 1e3:
        return f"{ns:.0f} ns"
    if ns < 1e6:
        return f"{ns / 1e3:.3g} µs" if ns < 1e5 else f"{ns / 1e3:,.0f} µs"
    if ns < 1e9:
        return f"{ns / 1e6:.3g} ms"
    return f"{ns / 1e9:.3g} s"


def load_medians(path):
    data = json.load(open(path))
    medians = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        name = b["run_name"].split("/")[0]
        _, op, peer = name.split("_", 2)
        scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b["time_unit"]]
        medians[(op, peer)] = {
            "ns": b["cpu_time"] * scale,
            "rows": b.get("rows"),
            "MB": b.get("MB"),
            "file_MB": b.get("file_MB"),
        }
    return data["context"].get("dataset", path), medians


def ratios(kin, hand, sqlite):
    vs_sqlite = vs_hand = ""
    if kin and sqlite:
        r = sqlite["ns"] / kin["ns"]
        vs_sqlite = f"{r:.1f}x faster" if r >= 1 else f"{1 / r:.1f}x slower"
    if kin and hand:
        vs_hand = f"{kin['ns'] / hand['ns']:.2f}x"
    return vs_sqlite, vs_hand


def scaling(paths):
    runs = [load_medians(p) for p in paths]
    print("| operation | data set | Kin | Hand | SQLite | Kin vs SQLite | Kin / Hand |")
    print("|---|---|---|---|---|---|---|")
    peers = ("Kin", "Hand", "Sqlite")
    for op, label in OPS:
        if not all((op, p) in medians for _, medians in runs for p in peers):
            continue
        for dataset, medians in runs:
            kin, hand, sqlite = (medians[(op, p)] for p in peers)
            vs_sqlite, vs_hand = ratios(kin, hand, sqlite)
            cells = " | ".join(fmt_time(m["ns"]) for m in (kin, hand, sqlite))
            print(f"| {label} | {dataset} | {cells} | {vs_sqlite} | {vs_hand} |")


def main(path):
    _, medians = load_medians(path)
    print("| operation | Kin | Kin native | Hand | SQLite | Kin vs SQLite | Kin / Hand |")
    print("|---|---|---|---|---|---|---|")
    for op, label in OPS:
        cells = []
        for peer in PEERS:
            m = medians.get((op, peer))
            if m is None:
                cells.append("")
            elif op == "Insert":
                cells.append(f"{m['rows'] / 1e6:.2f} M rows/s")
            elif op in RATES:
                cells.append(f"{fmt_time(m['ns'])} ({m['file_MB']:.0f} MB)")
            else:
                cells.append(fmt_time(m["ns"]))
        kin, hand, sqlite = (medians.get((op, p)) for p in ("Kin", "Hand", "Sqlite"))
        vs_sqlite, vs_hand = ratios(kin, hand, sqlite)
        print(f"| {label} | " + " | ".join(cells) + f" | {vs_sqlite} | {vs_hand} |")


if __name__ == "__main__":
    if sys.argv[1] == "--scaling":
        scaling(sys.argv[2:])
    else:
        main(sys.argv[1])
