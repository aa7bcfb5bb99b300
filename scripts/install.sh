#!/usr/bin/env bash
# Build famfs and install it:
#
#   scripts/install.sh [PREFIX]        (default PREFIX: /usr/local)
#
#   PREFIX/bin/famfs                          the program
#   PREFIX/sbin/mkfs.famfs, fsck.famfs        links to it: mkfs(8) and fsck(8) run them
#   MOUNT_HELPER_DIR/mount.famfs              link to it: mount(8) runs it (and looks only
#                                             in /sbin): /sbin for PREFIX /usr/local or /usr,
#                                             else PREFIX/sbin
#   PREFIX/lib/libfamfs-preload.so            the preload library (famfs run finds it there)
#   PREFIX/share/man/man1, man8               man pages (from the commands' own help)
#   PREFIX/share/bash-completion/completions/famfs
#   PREFIX/share/zsh/site-functions/_famfs
#   PREFIX/share/fish/vendor_completions.d/famfs.fish
#
# DESTDIR=dir stages everything under dir (links still name the final
# paths), as packagers expect. MOUNT_HELPER_DIR overrides where mount.famfs
# goes. Needs Go 1.26, gcc and make; writing to /usr/local and /sbin needs
# root. `make install PREFIX=...` runs this script.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local

PREFIX=${1:-${PREFIX:-/usr/local}}
PREFIX=${PREFIX%/}
case "$PREFIX" in
/*) ;;
*) echo "install.sh: PREFIX must be an absolute path, not $PREFIX" >&2; exit 16 ;;
esac
if [ -z "${MOUNT_HELPER_DIR:-}" ]; then
	case "$PREFIX" in
	/usr/local | /usr) MOUNT_HELPER_DIR=/sbin ;;
	*) MOUNT_HELPER_DIR=$PREFIX/sbin ;;
	esac
fi
D=${DESTDIR:-}
BIN=$PREFIX/bin
SBIN=$PREFIX/sbin
LIB=$PREFIX/lib
MAN=$PREFIX/share/man

step() { printf '== %s\n' "$*"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The commit goes in with -X as well as through Go's VCS stamp, which a build
# from a git worktree or with GOFLAGS=-buildvcs=false lacks.
commit=$(git rev-parse HEAD 2>/dev/null || true)
if [ -n "$commit" ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
	commit=$commit-dirty
fi
step "building famfs (a first build fetches and compiles the dependencies: about 2 minutes)"
CGO_ENABLED=0 go build -ldflags "-X github.com/famfs-go/famfs/cli.buildCommit=$commit" -o "$tmp/famfs" ./cmd/famfs

step "generating man pages and shell completions"
go run ./scripts/gendoc "$tmp/man"
mkdir -p "$tmp/completions"
for sh in bash zsh fish; do
	"$tmp/famfs" completion "$sh" >"$tmp/completions/$sh"
done

step "installing into ${D}$PREFIX (mount.famfs into ${D}$MOUNT_HELPER_DIR)"
install -d "$D$BIN" "$D$SBIN" "$D$MOUNT_HELPER_DIR" "$D$MAN/man1" "$D$MAN/man8"
install -m 0755 "$tmp/famfs" "$D$BIN/famfs"
# One program; argv[0] chooses what it is.
ln -sfn "$BIN/famfs" "$D$SBIN/mkfs.famfs"
ln -sfn "$BIN/famfs" "$D$SBIN/fsck.famfs"
ln -sfn "$BIN/famfs" "$D$BIN/pcq"
ln -sfn "$BIN/famfs" "$D$MOUNT_HELPER_DIR/mount.famfs"
install -m 0644 "$tmp"/man/man1/*.1 "$D$MAN/man1/"
install -m 0644 "$tmp"/man/man8/*.8 "$D$MAN/man8/"
install -D -m 0644 "$tmp/completions/bash" "$D$PREFIX/share/bash-completion/completions/famfs"
install -D -m 0644 "$tmp/completions/zsh" "$D$PREFIX/share/zsh/site-functions/_famfs"
install -D -m 0644 "$tmp/completions/fish" "$D$PREFIX/share/fish/vendor_completions.d/famfs.fish"

# The preload library (zero-copy access for unmodified programs, C, libc
# only) goes to PREFIX/lib, where `famfs run` (PREFIX/bin/famfs) finds it.
step "building the preload library"
make --no-print-directory bin/libfamfs-preload.so
install -D -m 0755 bin/libfamfs-preload.so "$D$LIB/libfamfs-preload.so"

step "installed"
"$D$BIN/famfs" --version
echo "commands: $BIN/famfs, $BIN/pcq, $SBIN/mkfs.famfs, $SBIN/fsck.famfs, $MOUNT_HELPER_DIR/mount.famfs"
echo "man pages: $MAN/man1/famfs.1 ..., completions for bash, zsh and fish"
