#!/usr/bin/env bash
# Installs every Debian package that building (with Bazel and with CMake),
# testing and benchmarking kin needs. Idempotent: silent and instant when
# everything is already present.
# Nothing else can be fetched on our machines (no internet besides the Debian
# archive), so this list must stay complete: a fresh CI machine has none of it.
set -euo pipefail

packages=(
  bazel-bootstrap   # Bazel 4.2.3 (+ JDK, build-essential, python3)
  g++               # GCC 12, C++20
  cmake             # CMake 3.25: the CMake build (CMakeLists.txt), ctest
  make              # CMake's default generator
  pkg-config
  python3           # .ci/run parses Bazel's build-event and the test XML output
  libabsl-dev       # Abseil 20220623
  libgtest-dev      # GoogleTest 1.12 (static libgtest.a, libgtest_main.a)
  libgmock-dev      # GoogleMock (static libgmock.a)
  libbenchmark-dev  # Google Benchmark 1.7.1
  libcereal-dev     # cereal 1.3.2 (header-only)
  libsqlite3-dev
  libxxhash-dev
)

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == installed ]] || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "setup.sh: installing ${missing[*]}" >&2
# `env` inside sudo: sudo would otherwise drop DEBIAN_FRONTEND.
as_root=(env DEBIAN_FRONTEND=noninteractive)
[[ $(id -u) -eq 0 ]] || as_root=(sudo "${as_root[@]}")
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup.sh: done" >&2
