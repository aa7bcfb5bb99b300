#!/usr/bin/env bash
# test/vm2/run.sh - famfs on a real /dev/dax0.0 (devdax) shared by two VMs,
# each with its own kernel, page cache and CPU caches: the topology famfs is
# for. Boots two small QEMU guests on one shared memory file per scenario, runs
# our static binaries in them, prints one PASS/FAIL line per scenario and the
# figures measured in the guests. The e2e harness drives it (TestVM2 in
# e2e/vm2_test.go, with FAMFS_VM2=1, as .ci/run runs it), handing it the
# binaries it built (VM2_BIN); run by hand, it builds its own.
#
# Usage: test/vm2/run.sh [SCENARIO...]     (as root; default: all, in order)
#        test/vm2/run.sh --install         (only install the host packages)
#   1-visible  2-refused  3-rewrite  4-remkfs  5-figures  6-align
# (a number alone selects a scenario too; 6-align re-formats the shared
# namespace, so it always runs last). An argument FILE.sh runs that guest
# script as an extra scenario on NVMS [2] VMs (see guest/lib.sh).
#
# What it needs it installs from Debian's packages (qemu-system-x86,
# busybox-static, ndctl, ...); the guest kernel is the newest Debian
# linux-image-*-amd64-unsigned package in the package index (KPKG= to choose
# one). Kernel and initramfs are cached in $CACHE; everything else (work dir,
# the shared memory file in /dev/shm) is removed at exit, also on failure.
#
# Environment:
#   ACCEL [auto]         kvm | tcg | auto (try KVM, fall back to TCG if /dev/kvm
#                        is missing or cannot run the guest kernel)
#   VM_TIMEOUT [240]     seconds before the VMs of one scenario are killed
#   CACHE [/var/tmp/famfs-vm2]   guest kernel and initramfs
#   KPKG []              guest kernel package (default: newest in the index)
#   KEEP [0]             1 = keep the work dir (consoles, logs) at exit
#   VERBOSE [0]          1 = print every guest's output, not only on failure
#   MEM [1024]           guest RAM in MiB (besides the shared device)
#   VM2_BIN []           a directory of prebuilt static famfs, mkfs.famfs,
#                        mapcat, vmbench, vmsum (and libfamfs-preload.so) to
#                        use instead of building them
# Exit status: 0 iff every selected scenario passed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$ROOT/test/vm2
ACCEL=${ACCEL:-auto}
VM_TIMEOUT=${VM_TIMEOUT:-240}
CACHE=${CACHE:-/var/tmp/famfs-vm2}
KPKG=${KPKG:-}
KPKG_GIVEN=$KPKG
KEEP=${KEEP:-0}
VERBOSE=${VERBOSE:-0}
MEM=${MEM:-1024}
# The shared region: /dev/dax0.0 is the region less 2 MiB of info block and
# mkfs.famfs wants at least 4 GiB, so 6 GiB (sparse; only what the guests
# touch is ever allocated). A multiple of 16 MiB, as QEMU's NVDIMM wants.
SHM_MIB=6144
ALL="1-visible 2-refused 3-rewrite 4-remkfs 5-figures 6-align"

log() { echo "[vm2 $(date +%T)] $*" >&2; }
die() {
	log "error: $*"
	exit 1
}
secs() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

[ "$(id -u)" = 0 ] || die "run as root (QEMU, apt-get)"
command -v go > /dev/null || PATH=/usr/local/go/bin:$PATH
[ "$(uname -m)" = x86_64 ] || die "the guests are x86_64; this host is $(uname -m)"

want=()
CUSTOM=()
INSTALL_ONLY=
VM2_BIN=${VM2_BIN:-}
for a in "$@"; do
	if [ "$a" = --install ]; then
		INSTALL_ONLY=1
		continue
	fi
	if [[ $a == *.sh ]] && [ -f "$a" ]; then
		CUSTOM+=("$(cd "$(dirname "$a")" && pwd)/$(basename "$a")")
		continue
	fi
	hit=
	for s in $ALL; do
		case $a in "$s" | "${s%%-*}" | "${s#*-}") hit=$s ;; esac
	done
	[ -n "$hit" ] || die "unknown scenario '$a' (one of: $ALL)"
	want+=("$hit")
done
SCEN=
for s in $ALL; do
	if { [ ${#want[@]} = 0 ] && [ ${#CUSTOM[@]} = 0 ]; } || [[ " ${want[*]} " == *" $s "* ]]; then SCEN="$SCEN $s"; fi
done

T0=$(date +%s.%N)
W=$(mktemp -d /tmp/famfs-vm2.XXXXXX)
SHM=/dev/shm/famfs-vm2.$$
QPIDS=()
cleanup() {
	local p
	for p in "${QPIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -f "$SHM"
	if [ "$KEEP" = 1 ]; then log "work dir kept: $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- host setup
PKGS="qemu-system-x86 qemu-system-data busybox-static ndctl daxctl cpio kmod xz-utils zstd file binutils"
install_packages() {
	# shellcheck disable=SC2086
	dpkg -s $PKGS > /dev/null 2>&1 && return 0
	log "installing $PKGS"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $PKGS > "$W/apt.log" 2>&1 || {
		cat "$W/apt.log"
		die "apt-get install failed"
	}
}

# The newest generic (not cloud, not rt) Debian kernel image in the index.
newest_kernel() {
	apt-cache search --names-only '^linux-image-[0-9][0-9.]*[+-].*-amd64-unsigned$' 2> /dev/null |
		awk '{ print $1 }' | grep -vE -- '-(cloud|rt)-amd64' | sort -V | tail -1
}
resolve_kernel() {
	if [ -z "$KPKG" ]; then
		KPKG=$(newest_kernel)
		if [ -z "$KPKG" ]; then
			apt-get update -qq
			KPKG=$(newest_kernel)
		fi
		[ -n "$KPKG" ] || die "no linux-image-*-amd64-unsigned package in the package index"
	fi
	local v=${KPKG#linux-image-}
	v=${v%%[+-]*}
	# the mount's default cache mode (direct) needs FUSE mmap of direct-io files: 6.6+
	[ "$(printf '%s\n6.6\n' "$v" | sort -V | head -1)" = 6.6 ] ||
		die "guest kernel $KPKG is older than 6.6 (famfs mounts need FUSE mmap with direct I/O)"
}

# fetch_kernel: $KD/vmlinux (PVH entry, boots faster) or $KD/vmlinuz, and the modules
fetch_kernel() {
	local tmp=$W/kernel
	log "guest kernel: downloading $KPKG"
	rm -rf "$tmp" && mkdir -p "$tmp"
	if ! (cd "$tmp" && apt-get download -qq "$KPKG" > /dev/null 2>&1); then
		# a stale package index names a kernel the archive no longer has
		apt-get update -qq
		[ -n "$KPKG_GIVEN" ] || KPKG=$(newest_kernel)
		KD=$CACHE/$KPKG
		log "guest kernel: downloading $KPKG"
		(cd "$tmp" && apt-get download -qq "$KPKG" > /dev/null) || die "apt-get download $KPKG failed"
	fi
	dpkg-deb -x "$tmp"/*.deb "$tmp/root"
	rm -f "$tmp"/*.deb
	mkdir -p "$KD.new"
	cp "$tmp"/root/boot/vmlinuz-* "$KD.new/vmlinuz"
	# The bzImage holds a zstd-compressed ELF vmlinux; QEMU boots that directly.
	local off
	off=$(LC_ALL=C grep -obUaP '\x28\xb5\x2f\xfd' "$KD.new/vmlinuz" | head -1 | cut -d: -f1 || true)
	if [ -n "$off" ]; then
		tail -c +$((off + 1)) "$KD.new/vmlinuz" | zstd -dcq > "$KD.new/vmlinux" 2> /dev/null || true
		file "$KD.new/vmlinux" | grep -q ELF || rm -f "$KD.new/vmlinux"
	fi
	[ ! -f "$KD.new/vmlinux" ] || rm -f "$KD.new/vmlinuz"
}

# build_initramfs: busybox, the NVDIMM/devdax/9p modules, ndctl, our init
build_initramfs() {
	local root=$W/kernel/root ird=$W/initramfs kv m f b l order=
	kv=$(ls "$root/lib/modules")
	depmod -b "$root" "$kv"
	rm -rf "$ird" && mkdir -p "$ird"/{bin,sbin,usr/bin,usr/sbin,lib/modules,lib64,proc,sys,dev,tmp,run,mnt/host,mnt/extra,etc}
	cp /bin/busybox "$ird/bin/busybox"
	file -L "$ird/bin/busybox" | grep -q 'statically linked' || die "/bin/busybox is not static (busybox-static)"
	for m in libnvdimm nfit nd_btt nd_pmem device_dax dax_pmem 9pnet_virtio 9p; do
		order="$order $(modprobe -C /dev/null -d "$root" -S "$kv" --show-depends $m | awk '$1 == "insmod" { print $2 }')"
	done
	: > "$ird/lib/modules/load-order"
	for f in $(echo $order | tr ' ' '\n' | awk '!seen[$0]++'); do
		m=$(basename "$f")
		m=${m%.ko*}
		case $f in
		*.xz) xz -dc "$f" > "$ird/lib/modules/$m.ko" ;;
		*.zst) zstd -dcq "$f" > "$ird/lib/modules/$m.ko" ;;
		*) cp "$f" "$ird/lib/modules/$m.ko" ;;
		esac
		strip --strip-debug "$ird/lib/modules/$m.ko"
		echo "$m" >> "$ird/lib/modules/load-order"
	done
	for b in /usr/bin/ndctl /usr/bin/daxctl; do
		cp "$b" "$ird/usr/bin/"
		for l in $(ldd "$b" | awk '/=>/ { print $3 } /ld-linux/ { print $1 }'); do
			mkdir -p "$ird$(dirname "$l")"
			cp -L "$l" "$ird$l"
		done
	done
	cp -L /lib64/ld-linux-x86-64.so.2 "$ird/lib64/"
	install -m 755 "$T/guest/init" "$ird/init"
	(cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1 > "$KD.new/initramfs.cpio.gz")
}

setup_guest() {
	install_packages
	resolve_kernel
	KD=$CACHE/$KPKG
	local key
	key=$(cat "$T/guest/init" <(sed -n '/^build_initramfs()/,/^}/p' "$0") /bin/busybox | sha256sum | cut -c1-16)
	mkdir -p "$CACHE"
	exec 9> "$CACHE/lock"
	flock 9
	if [ ! -f "$KD/initramfs.cpio.gz" ] || [ "$(cat "$KD/key" 2> /dev/null)" != "$key" ]; then
		rm -rf "$KD.new"
		fetch_kernel
		log "building the initramfs"
		build_initramfs
		echo "$key" > "$KD.new/key"
		rm -rf "$KD" "$W/kernel" "$W/initramfs"
		mv "$KD.new" "$KD"
		# keep only this kernel
		find "$CACHE" -mindepth 1 -maxdepth 1 -type d -name 'linux-image-*' ! -name "$KPKG" -exec rm -rf {} +
	fi
	flock -u 9
	KERNEL=$KD/vmlinux
	[ -f "$KERNEL" ] || KERNEL=$KD/vmlinuz
	INITRD=$KD/initramfs.cpio.gz
}

# ---------------------------------------------------------------- our binaries
build_binaries() {
	local x=$W/extra b lib=
	mkdir -p "$x"
	if [ -n "$VM2_BIN" ]; then
		log "static binaries from $VM2_BIN"
		for b in famfs mkfs.famfs mapcat vmbench vmsum; do
			[ -f "$VM2_BIN/$b" ] || die "$VM2_BIN/$b is missing"
			cp "$VM2_BIN/$b" "$x/"
		done
	else
		log "building static binaries"
		(cd "$ROOT" && CGO_ENABLED=0 GOTOOLCHAIN=local go build -o "$x/" \
			-ldflags='-s -w' ./cmd/famfs ./cmd/mkfs.famfs ./test/vm2/mapcat ./test/vm2/vmbench ./test/vm2/vmsum)
	fi
	for b in famfs mkfs.famfs mapcat vmbench vmsum; do
		file "$x/$b" | grep -q 'statically linked' || die "$b is not statically linked: $(file "$x/$b")"
	done
	cp "$T"/guest/*.sh "$x/"
	# The preload steps of scenarios 3 and 4: the preload library (make, or
	# VM2_BIN's) beside famfs, where `famfs run` looks for it, and a small
	# dynamically linked reader, with the shared libraries both need.
	PRELOAD_WHY=
	if ! command -v gcc > /dev/null; then
		PRELOAD_WHY="gcc is not installed (the preload library and the reader are C)"
	elif [ -n "$VM2_BIN" ]; then
		if [ -f "$VM2_BIN/libfamfs-preload.so" ]; then
			lib=$VM2_BIN/libfamfs-preload.so
		else
			PRELOAD_WHY="$VM2_BIN has no libfamfs-preload.so"
		fi
	elif ! command -v make > /dev/null; then
		PRELOAD_WHY="make is not installed (it builds the preload library)"
	elif ! (cd "$ROOT" && make -s bin/libfamfs-preload.so) > "$W/make.log" 2>&1; then
		cat "$W/make.log"
		die "make bin/libfamfs-preload.so failed"
	else
		lib=$ROOT/bin/libfamfs-preload.so
	fi
	if [ -n "$lib" ]; then
		mkdir -p "$x/preload/lib"
		cp "$lib" "$x/libfamfs-preload.so"
		gcc -O2 -Wall -Wextra -Werror -o "$x/preload/preread" "$T/guest/preread.c"
		for l in $(ldd "$x/preload/preread" "$x/libfamfs-preload.so" | awk '/=>/ { print $3 }' | sort -u); do
			cp -L "$l" "$x/preload/lib/"
		done
	fi
	echo "$PRELOAD_WHY" > "$x/preload.skip"
}

# ---------------------------------------------------------------- the VMs
# qemu_cmd ID SHARE CONSOLE ACCEL CMDLINE -> QARGS
qemu_cmd() {
	local id=$1 share=$2 con=$3 accel=$4 extra=$5
	QARGS=(qemu-system-x86_64 -nodefaults -no-user-config -nographic -no-reboot
		-machine pc,nvdimm=on -smp 1
		-m "${MEM}M,slots=2,maxmem=$((MEM + SHM_MIB + 1024))M"
		-object "memory-backend-file,id=shm,share=on,mem-path=$SHM,size=${SHM_MIB}M,align=2M"
		-device nvdimm,memdev=shm,id=nv1
		-virtfs "local,path=$share,mount_tag=host,security_model=none"
		-virtfs "local,path=$W/extra,mount_tag=extra,security_model=none,readonly=on"
		-kernel "$KERNEL" -initrd "$INITRD"
		-serial "file:$con" -monitor none
		-append "console=ttyS0 panic=-1 loglevel=4 mitigations=off tsc=reliable no_timer_check vm2.id=$id $extra")
	if [ "$accel" = kvm ]; then
		QARGS+=(-accel kvm -cpu host)
	else
		QARGS+=(-accel tcg -cpu max)
	fi
}

# boot_vms DIR ACCEL NVMS LIMIT CMDLINE: boot NVMS guests at once, each killed
# after LIMIT seconds; when one ends with a failure, the flag sync/abort makes
# the other one stop waiting. Sets BOOT_RC[id] (qemu's status; 124 = timeout).
boot_vms() {
	local d=$1 accel=$2 n=$3 limit=$4 extra=$5 id
	mkdir -p "$d/share/out" "$d/share/sync"
	QPIDS=()
	BOOT_RC=()
	for id in $(seq 1 "$n"); do
		qemu_cmd "$id" "$d/share" "$d/vm$id.console" "$accel" "$extra"
		timeout -k 5 "$limit" "${QARGS[@]}" < /dev/null > /dev/null 2> "$d/vm$id.qemu" &
		QPIDS[id]=$!
	done
	local left=$n
	while [ "$left" -gt 0 ]; do
		for id in $(seq 1 "$n"); do
			[ -z "${BOOT_RC[id]:-}" ] || continue
			if [ "$accel" = kvm ] && grep -qE 'KVM internal error|emulation failure' "$d/vm$id.qemu" 2> /dev/null; then
				kill "${QPIDS[id]}" 2> /dev/null || true
			fi
			kill -0 "${QPIDS[id]}" 2> /dev/null && continue
			BOOT_RC[id]=0
			wait "${QPIDS[id]}" || BOOT_RC[id]=$?
			left=$((left - 1))
			if [ "$(cat "$d/share/out/vm$id.rc" 2> /dev/null)" != 0 ] && [ ! -e "$d/share/sync/abort" ]; then
				echo "vm$id ended (rc $(cat "$d/share/out/vm$id.rc" 2> /dev/null || echo none), qemu ${BOOT_RC[id]})" > "$d/share/sync/abort"
			fi
		done
		sleep 0.1
	done
	QPIDS=()
}

# The accelerator: KVM if it can run the guest kernel here, else TCG. Some
# hosts have a /dev/kvm that cannot: PVM hosts (module kvm_pvm) run only
# PVM-enabled guest kernels, and a stock kernel hangs at once there (tried).
# Elsewhere a first boot that only prints a word decides; its answer is kept
# in $CACHE for this host kernel and guest kernel.
pick_accel() {
	case $ACCEL in
	kvm | tcg)
		VM_ACCEL=$ACCEL
		return
		;;
	auto) ;;
	*) die "ACCEL must be kvm, tcg or auto" ;;
	esac
	VM_ACCEL=tcg
	[ -w /dev/kvm ] || return 0
	if [ -d /sys/module/kvm_pvm ]; then
		log "/dev/kvm is PVM's here (it runs only PVM-enabled guest kernels): using TCG"
		return 0
	fi
	local key f=$CACHE/accel
	key="host $(uname -r), guest $KPKG"
	if [ "$(sed -n 1p "$f" 2> /dev/null)" = "$key" ]; then
		VM_ACCEL=$(sed -n 2p "$f")
		return
	fi
	boot_vms "$W/probe" kvm 1 15 "vm2.probe=1"
	if grep -q PROBE-OK "$W/probe/vm1.console" 2> /dev/null; then
		VM_ACCEL=kvm
	else
		log "KVM cannot boot the guest kernel here (no sign of life in 15 s): using TCG"
	fi
	printf '%s\n%s\n' "$key" "$VM_ACCEL" > "$f"
}

# Format the shared file as one devdax namespace with a 2 MiB align (one
# boot; the namespace's info block lives in the shared file).
prep() {
	local d=$W/prep f
	boot_vms "$d" "$VM_ACCEL" 1 120 "vm2.prep=2M"
	grep -q 'prep rc=0' "$d/share/out/prep.log" 2> /dev/null && return 0
	for f in "$d/share/out/prep.log" "$d/vm1.console" "$d/vm1.qemu"; do
		[ -f "$f" ] && { echo "----- $f"; tail -50 "$f"; }
	done
	die "could not format the shared namespace"
}

# ---------------------------------------------------------------- scenarios
PASSED=0 FAILED=0 SKIPPED=0
FIGURES=()
show_vm() {
	local d=$1 id=$2
	echo "----- vm$id script output (rc $(cat "$d/share/out/vm$id.rc" 2> /dev/null || echo none), qemu ${BOOT_RC[id]:-?})"
	cat "$d/share/out/vm$id.log" 2> /dev/null || echo "(none)"
	echo "----- vm$id console (last 100 lines)"
	tail -100 "$d/vm$id.console" 2> /dev/null | tr -d '\r' || echo "(none)"
	if [ -s "$d/vm$id.qemu" ]; then
		echo "----- vm$id qemu stderr"
		tail -30 "$d/vm$id.qemu"
	fi
}
scenario() {
	local name=$1 script=$2 n=$3 d=$W/$1 t0 id ok=1 why=
	t0=$(date +%s.%N)
	boot_vms "$d" "$VM_ACCEL" "$n" "$VM_TIMEOUT" "vm2.script=$script"
	for id in $(seq 1 "$n"); do
		if [ "$(cat "$d/share/out/vm$id.rc" 2> /dev/null)" != 0 ]; then
			ok=0
			[ "${BOOT_RC[id]}" = 124 ] && why="$why vm$id timed out after ${VM_TIMEOUT}s;"
		fi
	done
	for id in $(seq 1 "$n"); do
		while IFS= read -r l; do FIGURES+=("$l"); done < <(grep '^FIGURE' "$d/share/out/vm$id.log" 2> /dev/null | sed 's/^FIGURE //')
		while IFS= read -r l; do
			echo "SKIP vm2/$name: ${l#SKIP: }"
			SKIPPED=$((SKIPPED + 1))
		done < <(grep '^SKIP: ' "$d/share/out/vm$id.log" 2> /dev/null)
	done
	if [ $ok = 1 ]; then
		PASSED=$((PASSED + 1))
		echo "PASS vm2/$name ($(secs "$t0") s)"
		if [ "$VERBOSE" = 1 ]; then for id in $(seq 1 "$n"); do show_vm "$d" "$id"; done; fi
	else
		FAILED=$((FAILED + 1))
		echo "FAIL vm2/$name ($(secs "$t0") s)${why:+:$why}"
		for id in $(seq 1 "$n"); do show_vm "$d" "$id"; done
		echo "FAIL vm2/$name (end of its output)"
	fi
}

if [ -n "$INSTALL_ONLY" ]; then
	install_packages
	exit 0
fi
setup_guest
build_binaries
truncate -s "${SHM_MIB}M" "$SHM"
pick_accel
prep
log "guests: $KPKG under $VM_ACCEL; setup took $(secs "$T0") s"
for c in "${CUSTOM[@]}"; do
	cp "$c" "$W/extra/"
	scenario "$(basename "$c" .sh)" "$(basename "$c")" "${NVMS:-2}"
done
for s in $SCEN; do
	case $s in
	1-visible) scenario "$s" s1-visible.sh 2 ;;
	2-refused) scenario "$s" s2-refused.sh 2 ;;
	3-rewrite) scenario "$s" s3-rewrite.sh 2 ;;
	4-remkfs) scenario "$s" s4-remkfs.sh 2 ;;
	5-figures) scenario "$s" s5-figures.sh 2 ;;
	6-align) scenario "$s" s6-align.sh 1 ;;
	esac
done
for f in "${FIGURES[@]}"; do echo "FIGURE $f"; done
log "total $(secs "$T0") s ($KPKG, $VM_ACCEL)"
echo "vm2: $PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" = 0 ]
