#!/usr/bin/env bash
# Try famfs on a real /dev/dax0.0 (devdax) shared by two VMs with separate
# kernels, using the two-VM recipe in ../shared/tools/vm2 (QEMU under TCG;
# about a minute with setup). Not part of CI: it downloads a guest kernel.
#   VM2=/path/to/tools/vm2 test/vm2/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
VM2=${VM2:-../shared/tools/vm2}
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
CGO_ENABLED=0 GOTOOLCHAIN=local go build -o "$bin/famfs" ./cmd/famfs
# mkfs.famfs needs 4 GiB; the recipe's device is SHM_SIZE - 2 MiB.
EXTRA_DIR=$bin SHM_SIZE=${SHM_SIZE:-6G} FRESH=1 TIMEOUT=${TIMEOUT:-300} \
	bash "$VM2/run-two-vms.sh" run "$PWD/test/vm2/famfs-share.sh"
