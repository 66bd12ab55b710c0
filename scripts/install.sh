#!/usr/bin/env bash
# Installs XrfEdge as a systemd service (docs/deploy.md): a framework-dependent build in /opt/xrfedge, the unit,
# udev rules, the `xrfedge` system user (groups dialout, gpio, spi) and /etc/xrfedge/xrfedge.env for site settings.
# Needs the .NET 10 SDK to build (or XRFEDGE_PREBUILT=DIR with a `dotnet publish` output) and the .NET 10 runtime to run.
#
#   sudo scripts/install.sh                     # build, install, enable (not start)
#   sudo scripts/install.sh --start             # … and start it
#   DESTDIR=/tmp/stage scripts/install.sh       # stage the files only (no user, no systemctl/udevadm; for packaging/tests)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
destdir="${DESTDIR:-}"
prefix="/opt/xrfedge"
start=false
for arg in "$@"; do
  case "$arg" in
    --start) start=true ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done
if [ -z "$destdir" ] && [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (sudo), or set DESTDIR to stage the files" >&2
  exit 1
fi

build="${XRFEDGE_PREBUILT:-}"
if [ -z "$build" ]; then
  build="$(mktemp -d)"
  trap 'rm -rf "$build"' EXIT
  # Under sudo, build as the user who called it when the checkout is theirs: a root build leaves root-owned obj/ and bin/
  # folders (and NuGet cache) in their checkout, and their next `make build` / `make test` fails on "Access to the path
  # … is denied". A checkout they do not own (cloned by root) is built as root, as before.
  builder=()
  if [ "$(id -u)" -eq 0 ] && [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ] && [ "$(stat -c %U "$root")" = "$SUDO_USER" ]; then
    chown "$SUDO_USER" "$build"
    builder=(runuser -u "$SUDO_USER" --)
  fi
  echo "install.sh: building (framework-dependent, Release) …" >&2
  # Framework-dependent and RID-neutral: runs on any Linux with the .NET 10 runtime (arm64 runtime packs are not needed);
  # the native libraries travel in runtimes/<rid>/native/ (ONNX Runtime for linux-x64 and linux-arm64).
  "${builder[@]}" dotnet publish "$root/src/XrfEdge.Service/XrfEdge.Service.csproj" -c Release --self-contained false -o "$build" --nologo -v quiet -clp:ErrorsOnly >&2
fi
[ -f "$build/xrfedge.dll" ] || { echo "install.sh: $build has no xrfedge.dll" >&2; exit 1; }

install -d "$destdir$prefix" "$destdir$prefix/firmware-config" "$destdir$prefix/models" "$destdir$prefix/docs" \
  "$destdir/etc/systemd/system" "$destdir/etc/udev/rules.d" "$destdir/etc/xrfedge"
# An upgrade replaces files, never rewrites them in place: --remove-destination unlinks each old file first, so a running
# service keeps the inodes it has mapped until it restarts. In place, cp failed on the running executable ("Text file
# busy") half-way through, after it had already overwritten assemblies and native libraries under the live process.
cp -a --remove-destination "$build/." "$destdir$prefix/"
install -m 0644 "$root"/firmware-config/*.json "$destdir$prefix/firmware-config/"
[ -f "$root/firmware-config/README.md" ] && install -m 0644 "$root/firmware-config/README.md" "$destdir$prefix/firmware-config/"
for f in "$root"/models/xrf-line-encoder.*; do
  [ -e "$f" ] && install -m 0644 "$f" "$destdir$prefix/models/"
done
if [ ! -e "$destdir$prefix/models/xrf-line-encoder.int8.onnx" ]; then
  echo "install.sh: WARNING: models/xrf-line-encoder.int8.onnx is missing; the service will measure without analysis (every result 'analysis failed: no model loaded') until $prefix/models/ holds the model and its card (\`make model\` makes them)" >&2
fi
for f in "$root"/docs/deploy.md "$root"/docs/service.md; do
  [ -e "$f" ] && install -m 0644 "$f" "$destdir$prefix/docs/"
done
install -m 0644 "$root/systemd/xrfedge.service" "$destdir/etc/systemd/system/xrfedge.service"
# The udev rule is meant to be edited (the MCA adapter's ids, docs/deploy.md §2): replace it only when it is absent or
# still what an install shipped; otherwise keep the site's edit and put the new rule beside it under a name udev ignores.
rules="$destdir/etc/udev/rules.d/60-xrfedge.rules"
shipped="$destdir$prefix/systemd/60-xrfedge.rules"
if [ ! -e "$rules" ] || cmp -s "$rules" "$root/systemd/60-xrfedge.rules" || { [ -e "$shipped" ] && cmp -s "$rules" "$shipped"; }; then
  install -m 0644 "$root/systemd/60-xrfedge.rules" "$rules"
  rm -f "$rules.dist"
else
  install -m 0644 "$root/systemd/60-xrfedge.rules" "$rules.dist"
  echo "install.sh: kept the edited /etc/udev/rules.d/60-xrfedge.rules; this release's rule is in 60-xrfedge.rules.dist beside it (udev ignores that name): merge it, then udevadm control --reload-rules" >&2
fi
install -d "$destdir$prefix/systemd"
install -m 0644 "$root/systemd/60-xrfedge.rules" "$root/systemd/xrfedge.service" "$destdir$prefix/systemd/"
if [ ! -e "$destdir/etc/xrfedge/xrfedge.env" ]; then
  cat > "$destdir/etc/xrfedge/xrfedge.env" <<'ENV'
# Site settings for xrfedge.service (any profile key: XRFEDGE_Section__Key=value). Edit, then `systemctl restart xrfedge`.
XRFEDGE_PROFILE=pi-dp5-uart
#XRFEDGE_Mqtt__Host=mqtt.example.internal
#XRFEDGE_Mqtt__Fleet=site-a
#XRFEDGE_Mqtt__DeviceId=XRF-PI-0001
#XRFEDGE_Mqtt__Username=
#XRFEDGE_Mqtt__Password=
ENV
  chmod 0640 "$destdir/etc/xrfedge/xrfedge.env"
fi

if [ -n "$destdir" ]; then
  echo "install.sh: staged under $destdir (no user, udev or systemd changes)" >&2
  exit 0
fi

for group in dialout gpio spi; do
  getent group "$group" >/dev/null || groupadd --system "$group"
done
if ! id xrfedge >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/xrfedge --no-create-home --shell /usr/sbin/nologin --user-group xrfedge
fi
usermod -a -G dialout,gpio,spi xrfedge
chgrp xrfedge /etc/xrfedge/xrfedge.env
udevadm control --reload-rules && udevadm trigger --subsystem-match=gpio --subsystem-match=spidev --subsystem-match=tty || true
systemctl daemon-reload
systemctl enable xrfedge.service
if $start; then
  # Show the unit's state and last log lines whether or not the restart worked: under set -e a failed restart exited
  # here before the status that says why (until 2026-11-24).
  restarted=0
  systemctl restart xrfedge.service || restarted=$?
  systemctl --no-pager status xrfedge.service || true
  if [ "$restarted" -ne 0 ]; then
    echo "install.sh: installed, but the service did not start (systemctl restart exit $restarted): journalctl -u xrfedge -n 50" >&2
    exit 1
  fi
elif systemctl --quiet is-active xrfedge.service; then
  echo "install.sh: installed; the running service keeps the previous release until: sudo systemctl restart xrfedge" >&2
else
  echo "install.sh: installed and enabled; edit /etc/xrfedge/xrfedge.env, then: sudo systemctl start xrfedge" >&2
fi
