#!/bin/sh
# build-image.sh - build burette's guest image (kernel + initramfs) from Debian packages only
#
# Usage: build-image.sh AGENT_BINARY OUT_DIR
#
# The kernel comes from the current package behind the linux-image-cloud-amd64 metapackage,
# fetched with 'apt-get download' into OUT_DIR/debs (a cache kept across builds) and unpacked
# with 'dpkg -x', so no root is needed. The initramfs holds busybox (busybox-static), iperf3 with
# the shared libraries the dynamic loader resolves for it (iperf3/libiperf0 as installed on this
# machine), the kernel modules the NIC and the agent's virtio-serial port need (taken from the
# same kernel package, so their version always matches the kernel), the init script and the
# agent.
#
# The build is skipped when nothing that goes into the image changed: OUT_DIR/inputs.key records
# a digest of this script, init, the udhcpc script, the agent binary and every package version,
# and a rebuild happens only when the freshly computed key differs. The outputs are
# OUT_DIR/vmlinuz, OUT_DIR/initramfs.cpio.gz and OUT_DIR/image.json (what `burette image --info`
# shows). Every failure names what is missing and what to do.
set -eu

KERNEL_META=linux-image-cloud-amd64
# Modules the guest needs, in any order: dependencies are resolved from each module's .modinfo.
MODULES="virtio_pci virtio_net virtio_console"

die() {
    echo "build-image: $*" >&2
    exit 1
}

[ $# -eq 2 ] || die "usage: build-image.sh AGENT_BINARY OUT_DIR"
agent=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
[ -x "$agent" ] || die "guest agent binary '$agent' not found (build the burette-agent target first)"

for tool in apt-cache apt-get dpkg dpkg-query cpio gzip objcopy sha256sum; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "'$tool' not found: install it (scripts/install-deps installs everything the build needs)"
done

# --- resolve every input's version --------------------------------------------------------
kpkg=$(apt-cache depends "$KERNEL_META" 2>/dev/null |
    sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | head -n 1)
[ -n "$kpkg" ] || die "apt does not know the package $KERNEL_META, or it names no kernel: \
add Debian's main archive to the apt sources and run 'apt-get update' (as root), then rebuild"
kver=$(apt-cache show --no-all-versions "$kpkg" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1)
[ -n "$kver" ] || die "apt knows no version of $kpkg (named by $KERNEL_META): run 'apt-get update' \
(as root), then rebuild"

hostpkg_version() {
    v=$(dpkg-query -W -f '${Status} ${Version}\n' "$1" 2>/dev/null |
        sed -n 's/^install ok installed //p')
    [ -n "$v" ] || die "the Debian package $1 is not installed: run 'apt-get install $1' \
(as root; scripts/install-deps installs it)"
    echo "$v"
}
busybox_ver=$(hostpkg_version busybox-static)
iperf3_ver=$(hostpkg_version iperf3)
libiperf_ver=$(hostpkg_version libiperf0)
busybox_bin=$(dpkg -L busybox-static | grep -m1 '/busybox$') ||
    die "the busybox-static package has no busybox binary: reinstall it"
iperf3_bin=$(dpkg -L iperf3 | grep -m1 '/bin/iperf3$') || die "the iperf3 package has no iperf3"

key=$( {
    cat "$0" "$here/init" "$here/udhcpc.script"
    cat "$agent"
    echo "$kpkg $kver busybox-static $busybox_ver iperf3 $iperf3_ver libiperf0 $libiperf_ver"
} | sha256sum | cut -d' ' -f1)

mkdir -p "$out"
if [ -f "$out/inputs.key" ] && [ "$(cat "$out/inputs.key")" = "$key" ] &&
    [ -f "$out/vmlinuz" ] && [ -f "$out/initramfs.cpio.gz" ] && [ -f "$out/image.json" ]; then
    exit 0
fi
echo "build-image: building the guest image ($kpkg $kver)"

# --- fetch and unpack the kernel ----------------------------------------------------------
debs="$out/debs"
mkdir -p "$debs"
deb=$(ls "$debs/${kpkg}_"*.deb 2>/dev/null | while read -r f; do
    [ "$(dpkg-deb -f "$f" Version)" = "$kver" ] && echo "$f"; done | head -n 1)
if [ -z "$deb" ]; then
    # As root, apt drops privileges to _apt for downloads, which cannot write to a build
    # directory owned by someone else: download as the caller instead.
    sandbox=
    [ "$(id -u)" -eq 0 ] && sandbox="-o APT::Sandbox::User=root"
    # shellcheck disable=SC2086
    (cd "$debs" && apt-get download -q $sandbox "$kpkg=$kver" >/dev/null) ||
        die "could not download $kpkg=$kver with apt-get: check the apt sources and run \
'apt-get update' (as root)"
    deb=$(ls "$debs/${kpkg}_"*.deb | head -n 1)
fi
# Keep only the .deb in use, so the cache does not grow with every kernel update.
for f in "$debs"/*.deb; do [ "$f" = "$deb" ] || rm -f "$f"; done

work=$(mktemp -d "$out/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
dpkg -x "$deb" "$work/kpkg"
vmlinuz=$(ls "$work"/kpkg/boot/vmlinuz-* 2>/dev/null | head -n 1)
[ -n "$vmlinuz" ] || die "$deb holds no /boot/vmlinuz-*: not a kernel image package?"
krel=${vmlinuz##*/vmlinuz-}
moddir="$work/kpkg/lib/modules/$krel"
[ -d "$moddir" ] || die "$deb holds no modules for $krel"

# --- the initramfs tree -------------------------------------------------------------------
root="$work/root"
mkdir -p "$root/bin" "$root/sbin" "$root/etc" "$root/proc" "$root/sys" "$root/dev" \
    "$root/run" "$root/tmp" "$root/lib/modules" "$root/usr/bin"
cp "$busybox_bin" "$root/bin/busybox"
for applet in $("$busybox_bin" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
cp "$here/init" "$root/init"
cp "$here/udhcpc.script" "$root/etc/udhcpc.script"
chmod 0755 "$root/init" "$root/etc/udhcpc.script"
cp "$agent" "$root/sbin/burette-agent"

# iperf3 and what the dynamic loader resolves for it, at the same paths as on this machine.
cp "$iperf3_bin" "$root/usr/bin/iperf3"
libs=$(ldd "$iperf3_bin" | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) .*/\1/p')
[ -n "$libs" ] || die "could not list the shared libraries of $iperf3_bin with ldd"
for lib in $libs; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
done

# Modules in dependency order: a module is listed only after everything it depends on.
modpath() {
    local p
    p=$(find "$moddir/kernel" -name "$1.ko" -o -name "$(echo "$1" | tr _ -).ko" | head -n 1)
    [ -n "$p" ] || die "kernel module $1 is not in $kpkg $kver"
    echo "$p"
}
ordered=""
# (dash's 'local' keeps the recursion from clobbering the caller's variables.)
add_module() {
    local path deps d
    case " $ordered " in *" $1 "*) return 0 ;; esac
    path=$(modpath "$1")
    deps=$(objcopy -O binary --only-section=.modinfo "$path" /dev/stdout | tr '\0' '\n' |
        sed -n 's/^depends=//p' | tr , ' ')
    for d in $deps; do add_module "$d"; done
    cp "$path" "$root/lib/modules/$1.ko"
    ordered="$ordered $1"
}
for m in $MODULES; do add_module "$m"; done
echo $ordered | tr ' ' '\n' >"$root/lib/modules/order"

(cd "$root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) | gzip -6 -n \
    >"$work/initramfs.cpio.gz"
cp "$vmlinuz" "$work/vmlinuz"

# --- manifest -----------------------------------------------------------------------------
size() { stat -c %s "$1"; }
json_list() {
    first=1
    for x in "$@"; do
        [ $first -eq 1 ] || printf ', '
        printf '"%s"' "$x"
        first=0
    done
}
# shellcheck disable=SC2086
cat >"$work/image.json" <<JSON
{
  "format": 1,
  "kernel_release": "$krel",
  "packages": {
    "$KERNEL_META": "$kpkg",
    "$kpkg": "$kver",
    "busybox-static": "$busybox_ver",
    "iperf3": "$iperf3_ver",
    "libiperf0": "$libiperf_ver"
  },
  "modules": [$(json_list $ordered)],
  "iperf3_libraries": [$(json_list $libs)],
  "kernel": "vmlinuz",
  "kernel_bytes": $(size "$work/vmlinuz"),
  "initramfs": "initramfs.cpio.gz",
  "initramfs_bytes": $(size "$work/initramfs.cpio.gz"),
  "agent_bytes": $(size "$agent"),
  "inputs_key": "$key"
}
JSON

# Replace the outputs only now that all of them exist, so a failed build never leaves a mix.
mv "$work/vmlinuz" "$out/vmlinuz"
mv "$work/initramfs.cpio.gz" "$out/initramfs.cpio.gz"
mv "$work/image.json" "$out/image.json"
echo "$key" >"$out/inputs.key"
echo "build-image: $out/vmlinuz ($krel), $out/initramfs.cpio.gz ($(size "$out/initramfs.cpio.gz") bytes)"
