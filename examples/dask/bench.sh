#!/usr/bin/env bash
# The famfs Dask example in one command: build famfs and the preload library
# (make), then run the job three ways and print the figures.
#
#   examples/dask/bench.sh                 # small: 8 MiB, 3 worker hosts per variant
#   examples/dask/bench.sh --size 1GiB --runs 8 --check-maps
#
# Needs root (FUSE mounts), gcc, and Debian's python3 with numpy, pandas and
# distributed (apt-get install python3-numpy python3-pandas python3-distributed).
# Every option is bench.py's (--help).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
make -s -C "$here/../.." >/dev/null
exec /usr/bin/python3 "$here/bench.py" --famfs "$here/../../bin/famfs" "$@"
