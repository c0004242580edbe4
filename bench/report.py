#!/usr/bin/env python3
"""Turns relations_benchmark JSON into the README's tables of medians and ratios.

  bazel run --config=opt //bench:relations_benchmark -- \
      --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
      --benchmark_out=/tmp/peers.json --benchmark_out_format=json
  python3 bench/report.py /tmp/peers.json

Reads the *_median aggregates (CPU time, or the rows / MB rate counters for
Insert and the snapshots) and prints one markdown row per operation:
KinRow, KinTyped, KinNative, Hand, SQLite, then KinRow vs SQLite,
KinRow / Hand and KinTyped / Hand (ratios of times; "faster" / "slower"
for the SQLite column).

  python3 bench/report.py --scaling 100k.json 1m.json 4m.json

prints one row per (operation, data set) of the files given instead, for
the operations they all hold (KinRow, KinTyped, Hand, SQLite).
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
    ("MoveCount", "MoveCount (move 1 post, then CountAll)"),
    ("Insert", "Insert (index maintained)"),
    ("SnapshotSave", "Snapshot save"),
    ("SnapshotLoad", "Snapshot load"),
]
PEERS = ["KinRow", "KinTyped", "KinNative", "Hand", "Sqlite"]
HEADERS = {"KinRow": "KinRow", "KinTyped": "KinTyped", "KinNative": "KinNative",
           "Hand": "Hand", "Sqlite": "SQLite"}
RATIOS = ["KinRow vs SQLite", "KinRow / Hand", "KinTyped / Hand"]
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


def cell(op, m):
    if m is None:
        return ""
    if op == "Insert":
        return f"{m['rows'] / 1e6:.2f} M rows/s"
    if op in RATES:
        return f"{fmt_time(m['ns'])} ({m['file_MB']:.0f} MB)"
    return fmt_time(m["ns"])


def ratios(op, medians):
    """KinRow vs SQLite, KinRow / Hand, KinTyped / Hand (times)."""
    row, typed, hand, sqlite = (medians.get((op, p))
                                for p in ("KinRow", "KinTyped", "Hand", "Sqlite"))
    vs_sqlite = ""
    if row and sqlite:
        r = sqlite["ns"] / row["ns"]
        vs_sqlite = f"{r:.1f}x faster" if r >= 1 else f"{1 / r:.1f}x slower"
    per_hand = [f"{k['ns'] / hand['ns']:.2f}x" if k and hand else "" for k in (row, typed)]
    return [vs_sqlite] + per_hand


def table(header, rows):
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print("| " + " | ".join(r) + " |")


def scaling(paths):
    runs = [load_medians(p) for p in paths]
    peers = ["KinRow", "KinTyped", "Hand", "Sqlite"]
    rows = []
    for op, label in OPS:
        if not all((op, p) in medians for _, medians in runs for p in ("KinRow", "Hand", "Sqlite")):
            continue
        for dataset, medians in runs:
            rows.append([label, dataset] + [cell(op, medians.get((op, p))) for p in peers]
                        + ratios(op, medians))
    table(["operation", "data set"] + [HEADERS[p] for p in peers] + RATIOS, rows)


def main(path):
    _, medians = load_medians(path)
    rows = []
    for op, label in OPS:
        if not any((op, p) in medians for p in PEERS):
            continue
        rows.append([label] + [cell(op, medians.get((op, p))) for p in PEERS]
                    + ratios(op, medians))
    table(["operation"] + [HEADERS[p] for p in PEERS] + RATIOS, rows)


if __name__ == "__main__":
    if sys.argv[1] == "--scaling":
        scaling(sys.argv[2:])
    else:
        main(sys.argv[1])
