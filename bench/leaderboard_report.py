#!/usr/bin/env python3
"""Turns leaderboard_benchmark JSON into the README's table.

  bazel run --config=opt //bench:leaderboard_benchmark -- \
      --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
      --benchmark_out=/tmp/leaderboard.json --benchmark_out_format=json
  python3 bench/leaderboard_report.py /tmp/leaderboard.json

Reads the *_median aggregates (CPU time; the rows counter for
InsertWithOrderedIndex, index_MB for ScoreIndexMemory) and prints one
markdown row per operation: Kin, Hand, SQLite, Kin vs SQLite, Kin / Hand.
"""

import json
import sys

OPS = [
    ("Leaderboard", "Leaderboard (top 100 of 1M by score)"),
    ("GuildTop10", "GuildTop10 (top 10 by score in a guild)"),
    ("Window", "Window (count + fetch, 0.1% created_at range)"),
    ("RangeFetch", "RangeFetch (ids of a 1% score range)"),
    ("EqualityFetch", "EqualityFetch (about 100 rows by guild)"),
    ("TickLeaderboard", "TickLeaderboard (1,000 updates + top 100)"),
    ("InsertWithOrderedIndex", "InsertWithOrderedIndex (1M rows)"),
    ("ScoreIndexMemory", "Score index memory"),
]
PEERS = ["Kin", "Hand", "Sqlite"]


def fmt_time(ns):
    if ns < 1e3:
        return f"{ns:.0f} ns"
    if ns < 1e6:
        return f"{ns / 1e3:.3g} µs"
    if ns < 1e9:
        return f"{ns / 1e6:.3g} ms"
    return f"{ns / 1e9:.3g} s"


def to_ns(b):
    scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
    return b["cpu_time"] * scale


def main(path):
    with open(path) as f:
        data = json.load(f)
    med = {}
    for b in data["benchmarks"]:
        name = b.get("run_name", b["name"]).split("/")[0]
        if b.get("aggregate_name", "median") != "median":
            continue
        med[name] = b
    print("| operation | Kin | Hand | SQLite | Kin vs SQLite | Kin / Hand |")
    print("|---|---|---|---|---|---|")
    for op, label in OPS:
        cells = {}
        values = {}
        for peer in PEERS:
            b = med.get(f"BM_{op}_{peer}")
            if b is None:
                cells[peer] = ""
                continue
            if op == "InsertWithOrderedIndex":
                v = b["rows"]
                values[peer] = 1 / v
                cells[peer] = f"{v / 1e6:.2f} M rows/s"
            elif op == "ScoreIndexMemory":
                v = b["index_MB"]
                values[peer] = v
                cells[peer] = f"{v:.1f} MB"
            else:
                v = to_ns(b)
                values[peer] = v
                cells[peer] = fmt_time(v)
        vs_sqlite = ""
        if "Kin" in values and "Sqlite" in values:
            r = values["Sqlite"] / values["Kin"]
            vs_sqlite = f"{r:.1f}x faster" if r >= 1 else f"{1 / r:.1f}x slower"
        vs_hand = f"{values['Kin'] / values['Hand']:.2f}x" if "Hand" in values else ""
        print(f"| {label} | {cells['Kin']} | {cells['Hand']} | {cells['Sqlite']} | "
              f"{vs_sqlite} | {vs_hand} |")


if __name__ == "__main__":
    main(sys.argv[1])
