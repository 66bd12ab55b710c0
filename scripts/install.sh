#!/usr/bin/env bash
# Installs XrfEdge as a systemd service (docs/deploy.md): a framework-dependent build in /opt/xrfedge, the unit,
# udev rules, the `xrfedge` system user (groups dialout, gpio, spi) and /etc/xrfedge/xrfedge.env for site settings.
# Needs the .NET 10 SDK to build (or XRFEDGE_PREBUILT=DIR with a `dotnet publish` output) and the .NET 10 runtime to run.
# Checks the target's prerequisites first (docs/deploy.md §1) and changes nothing when one is missing.
#
#   sudo scripts/install.sh                     # check, build, install, enable (not start)
#   sudo scripts/install.sh --start             # … and start it
#   scripts/install.sh --check                  # only check the prerequisites (exit 1 listing each missing one)
#   DESTDIR=/mnt/img scripts/install.sh         # into an image's root: checks that root, no user, systemctl or udevadm
#   DESTDIR=/tmp/stage scripts/install.sh --skip-preflight   # stage the files into a folder that is no OS root
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
destdir="${DESTDIR:-}"
prefix="/opt/xrfedge"
start=false
check_only=false
preflight=true
for arg in "$@"; do
  case "$arg" in
    --start) start=true ;;
    --check) check_only=true ;;
    --skip-preflight) preflight=false ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done
if ! $check_only && [ -z "$destdir" ] && [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (sudo), or set DESTDIR to stage the files" >&2
  exit 1
fi

# ---- Preflight (docs/deploy.md §1): what the installed unit needs to start, checked in the root it is installed into
# ($DESTDIR, or /), before anything there is changed. Each problem is collected, so one run names all of them.
target="${destdir:-/}"
problems=()
problem() { problems+=("$1"); }

# The CPU architecture of the target's userland, by its dynamic loader (the apphost's ELF interpreter): a 64-bit kernel
# under 32-bit Raspberry Pi OS reports aarch64 in `uname -m` but has no /lib/ld-linux-aarch64.so.1.
target_arch() {
  local native found=()
  case "$(uname -m)" in aarch64|arm64) native=arm64 ;; x86_64) native=x64 ;; *) native="" ;; esac
  { [ -e "$destdir/lib/ld-linux-aarch64.so.1" ] || [ -L "$destdir/lib/ld-linux-aarch64.so.1" ]; } && found+=(arm64)
  { [ -e "$destdir/lib64/ld-linux-x86-64.so.2" ] || [ -L "$destdir/lib64/ld-linux-x86-64.so.2" ]; } && found+=(x64)
  case "${#found[@]}" in
    0) echo "" ;;
    1) echo "${found[0]}" ;;
    *) if [ -n "$native" ]; then echo "$native"; else echo "${found[0]}"; fi ;;
  esac
}

# Paths of SONAME ($1) that the dynamic loader would find for the target: on / the loader's own cache (`ldconfig -p`,
# what the service's dlopen searches: the unit sets no LD_LIBRARY_PATH); under DESTDIR the image's library folders.
find_library() {
  local soname="$1" tag="" triplet="" dir f line
  case "$arch" in arm64) tag="AArch64"; triplet=aarch64-linux-gnu ;; x64) tag="x86-64"; triplet=x86_64-linux-gnu ;; esac
  if [ -z "$destdir" ]; then
    # Lines read "\tlibmosquitto.so.1 (libc6,AArch64) => /lib/aarch64-linux-gnu/libmosquitto.so.1".
    "$(command -v ldconfig || echo /sbin/ldconfig)" -p 2>/dev/null | while IFS= read -r line; do
      line="${line#"${line%%[![:space:]]*}"}"
      [[ "$line" == "$soname ("* ]] || continue
      [ -z "$tag" ] || [[ "$line" == *",$tag"[,\)]* ]] || continue
      echo "${line##* => }"
    done
    return 0
  fi
  local dirs=()
  if [ -n "$triplet" ]; then
    dirs+=("/usr/lib/$triplet" "/lib/$triplet")
  else
    for dir in "$destdir"/usr/lib/*-linux-gnu "$destdir"/lib/*-linux-gnu; do [ -d "$dir" ] && dirs+=("${dir#"$destdir"}"); done
  fi
  dirs+=(/usr/local/lib /usr/lib /lib)
  if compgen -G "$destdir/etc/ld.so.conf.d/*.conf" >/dev/null; then
    while IFS= read -r dir; do dirs+=("$dir"); done < <(grep -hv -e '^[[:space:]]*#' -e '^[[:space:]]*include' -e '^[[:space:]]*$' "$destdir"/etc/ld.so.conf.d/*.conf)
  fi
  for dir in "${dirs[@]}"; do
    f="$destdir$dir/$soname"
    { [ -e "$f" ] || [ -L "$f" ]; } && echo "$dir/$soname"
  done
  return 0
}

# A variable from the xrfedge.env the unit will read (the target's, when it already exists), or empty; read the way
# systemd reads an EnvironmentFile= (systemd.exec(5); parse_env_file): a carriage return ends a line, blanks around
# the name and after '=' and at the end of an unquoted value are dropped, # and ; start comments, the last one wins.
# Until 2026-11-24 a trailing blank or a CRLF file (edited on Windows) made a good DOTNET_ROOT look missing, and
# "DOTNET_ROOT = /old" was not seen at all, so /usr/share/dotnet was checked instead of the folder the service uses.
env_setting() {
  local file="$destdir/etc/xrfedge/xrfedge.env" line key value="" found=""
  [ -f "$file" ] || return 0
  [ -r "$file" ] || return 0   # check_device said so
  while IFS= read -r line || [ -n "$line" ]; do
    line="${line#"${line%%[![:space:]]*}"}"
    case "$line" in '#'*|';'*|'') continue ;; *=*) ;; *) continue ;; esac
    key="${line%%=*}"
    key="${key%"${key##*[![:space:]]}"}"
    [ "$key" = "$1" ] || continue
    value="${line#*=}"
    value="${value#"${value%%[![:space:]]*}"}"
    value="${value%"${value##*[![:space:]]}"}"
    case "$value" in
      \"*\"|\'*\') value="${value:1:${#value}-2}" ;;
    esac
    found="$value"
  done < <(tr '\r' '\n' < "$file")
  echo "$found"
}

# Where the apphost /opt/xrfedge/xrfedge looks for .NET (dotnet/runtime's hostmisc, Linux): DOTNET_ROOT_<ARCH> or
# DOTNET_ROOT in its environment (only xrfedge.env can set one), else the folder registered in
# /etc/dotnet/install_location_<arch> or /etc/dotnet/install_location, else /usr/share/dotnet. Not PATH: a `dotnet`
# that a shell finds is not necessarily where the service looks.
dotnet_root() {
  local upper dir
  upper="$(echo "$arch" | tr '[:lower:]' '[:upper:]')"
  if [ -n "$upper" ]; then dir="$(env_setting "DOTNET_ROOT_$upper")"; [ -n "$dir" ] && { echo "$dir (DOTNET_ROOT_$upper in /etc/xrfedge/xrfedge.env)"; return; }; fi
  dir="$(env_setting DOTNET_ROOT)"; [ -n "$dir" ] && { echo "$dir (DOTNET_ROOT in /etc/xrfedge/xrfedge.env)"; return; }
  for f in "/etc/dotnet/install_location_$arch" /etc/dotnet/install_location; do
    if [ -f "$destdir$f" ]; then
      dir="$(grep -m1 -v '^[[:space:]]*$' "$destdir$f" || true)"
      [ -n "$dir" ] && { echo "$dir (registered in $f)"; return; }
    fi
  done
  echo "/usr/share/dotnet (the default; no /etc/dotnet/install_location)"
}

# The shared frameworks a build needs, one "NAME VERSION" a line, from its runtimeconfig.json; none when self-contained.
frameworks_of() {
  local config="$1/xrfedge.runtimeconfig.json"
  grep -q '"includedFrameworks"' "$config" && return 0
  paste -d' ' <(grep -o '"name": *"[^"]*"' "$config" | sed 's/.*"\([^"]*\)"$/\1/') \
              <(grep -o '"version": *"[^"]*"' "$config" | sed 's/.*"\([^"]*\)"$/\1/')
}

# Whether $1 is an ELF file (its first four bytes).
is_elf() {
  [ -f "$1" ] && [ "$(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' \n')" = '177ELF' ]
}

# The CPU an ELF file is built for, as target_arch names it (arm64, x64, arm32, x86 or the e_machine number; ELF
# header: e_machine, a little-endian u16 at byte 18), or empty for a file that is no ELF.
elf_arch() {
  is_elf "$1" || return 0
  local m
  m="$(od -An -t u2 -j 18 -N 2 "$1" | tr -d ' ')"
  case "$m" in 183) echo arm64 ;; 62) echo x64 ;; 40) echo arm32 ;; 3) echo x86 ;; *) echo "machine $m" ;; esac
}

check_framework() {
  local name="$1" version="$2" where dir have=() v
  where="$(dotnet_root)"
  dir="${where%% (*}"
  for v in "$destdir$dir/shared/$name"/*/; do
    [ -d "$v" ] && have+=("$(basename "$v")")
  done
  # The host's default roll-forward (Minor): any installed $major.x.y at or above the version asked for. A pre-release
  # of the very version asked for (10.0.0-rc.2 for 10.0.0) is below it in SemVer, though `sort -V` puts it above: until
  # 2026-11-24 a device with only the release candidate passed, and the host refused to start the service.
  local major="${version%%.*}" ok=false
  for v in "${have[@]}"; do
    [ "$v" != "${v%%-*}" ] && [ "${v%%-*}" = "${version%%-*}" ] && [ "$version" = "${version%%-*}" ] && continue
    if [ "${v%%.*}" = "$major" ] && [ "$(printf '%s\n%s\n' "$version" "$v" | sort -V | head -n 1)" = "$version" ]; then ok=true; fi
  done
  if ! compgen -G "$destdir$dir/host/fxr/*/libhostfxr.so" >/dev/null; then
    ok=false
  fi
  # A runtime of another CPU (the arm32 tarball of many Raspberry Pi guides under a 64-bit OS) has every folder above,
  # and the apphost fails to load its libhostfxr.so at every start; until 2026-11-24 it passed.
  local fxr machine
  if $ok && [ -n "$arch" ]; then
    for fxr in "$destdir$dir"/host/fxr/*/libhostfxr.so; do
      machine="$(elf_arch "$fxr")"
      if [ -n "$machine" ] && [ "$machine" != "$arch" ]; then
        problem ".NET runtime: $dir/host/fxr/$(basename "$(dirname "$fxr")")/libhostfxr.so (in $where) is built for $machine; this $target runs $arch programs. Install the $arch runtime: curl -sSL https://dot.net/v1/dotnet-install.sh | sudo bash -s -- --channel $major.0 --runtime dotnet --install-dir /usr/share/dotnet"
        return 0
      fi
    done
  fi
  $ok && return 0
  local found="none"
  [ ${#have[@]} -gt 0 ] && found="only ${have[*]}"
  problem ".NET $major runtime: $name $version or a later $major.x for ${arch:-this CPU} is not in $where: $found. Install it: curl -sSL https://dot.net/v1/dotnet-install.sh | sudo bash -s -- --channel $major.0 --runtime dotnet --install-dir /usr/share/dotnet (or register another install folder in /etc/dotnet/install_location)"
}

check_device() {
  arch="$(target_arch)"
  if [ -f "$destdir/etc/xrfedge/xrfedge.env" ] && [ ! -r "$destdir/etc/xrfedge/xrfedge.env" ]; then
    # `--check` as a user: the file is root's, 0640. Say that its settings were not seen rather than judge silently.
    echo "install.sh: note: cannot read /etc/xrfedge/xrfedge.env as $(id -un): DOTNET_ROOT and the ONNX Runtime path set there are not considered; run as root for a complete check" >&2
  fi
  if [ -z "$arch" ]; then
    problem "64-bit userland: $target has neither /lib/ld-linux-aarch64.so.1 (arm64) nor /lib64/ld-linux-x86-64.so.2 (x64); XrfEdge needs 64-bit Raspberry Pi OS (arm64) or JetPack (32-bit Raspberry Pi OS is not supported)"
  fi

  local libs lib real version
  libs="$(find_library libmosquitto.so.1)"
  if [ -z "$libs" ]; then
    problem "libmosquitto.so.1 (MQTT client library, 2.0 or later) is not on the library path of $target: sudo apt-get install libmosquitto1"
  else
    lib="$(echo "$libs" | head -n 1)"
    real="$(readlink -f "$destdir$lib" 2>/dev/null || echo "$destdir$lib")"
    # The build names the file after its version (Debian 12: libmosquitto.so.1 -> libmosquitto.so.2.0.11); 1.x had none.
    version="$(basename "$real" | sed -n 's/^libmosquitto\.so\.\([0-9][0-9.]*\)$/\1/p')"
    if [ -n "$version" ] && [ "$version" != 1 ] && [ "${version%%.*}" -lt 2 ]; then
      problem "libmosquitto.so.1 at $lib is version $version; XrfEdge needs 2.0 or later (Debian 12 and Ubuntu 22.04 ship 2.0.11): sudo apt-get install libmosquitto1 from a release that has 2.0"
    elif { [ -z "$version" ] || [ "$version" = 1 ]; } && is_elf "$real" && ! grep -qaF 'MOSQ_1.7' "$real"; then
      # A file named only libmosquitto.so.1 is what 1.x's Makefile build installs (Ubuntu 20.04's 1.6.9, Debian 10's
      # 1.5.7); it was taken for "version unknown, ok" until 2026-11-24. Every 2.x exports its 2.0 symbols
      # (mosquitto_ssl_get, mosquitto_property_next …) under the version node MOSQ_1.7 (lib/linker.version); 1.x has none.
      problem "libmosquitto.so.1 at $lib is older than 2.0 (it has no MOSQ_1.7 symbols: a 1.x build); XrfEdge needs 2.0 or later (Debian 12 and Ubuntu 22.04 ship 2.0.11): sudo apt-get install libmosquitto1 from a release that has 2.0"
    fi
  fi

  if $building; then
    if ! command -v dotnet >/dev/null 2>&1 || ! dotnet --list-sdks 2>/dev/null | grep -q '^10\.'; then
      problem ".NET 10 SDK (to build the service here): \`dotnet --list-sdks\` shows no 10.x. Install it: curl -sSL https://dot.net/v1/dotnet-install.sh | sudo bash -s -- --channel 10.0 --install-dir /usr/share/dotnet, or build elsewhere and set XRFEDGE_PREBUILT=DIR to a \`dotnet publish\` output"
    fi
    # install.sh's own build is framework-dependent (below): it needs the shared framework.
    check_framework Microsoft.NETCore.App 10.0.0
  fi
}

# What only the build can tell: the frameworks it was published against and the ONNX Runtime it carries.
check_build() {
  local dir="$1" name version
  if [ ! -f "$dir/xrfedge.dll" ]; then
    problem "XRFEDGE_PREBUILT: $dir has no xrfedge.dll: not a \`dotnet publish\` output of src/XrfEdge.Service"
    return 0
  fi
  if [ ! -f "$dir/xrfedge.runtimeconfig.json" ]; then
    problem "XRFEDGE_PREBUILT: $dir has no xrfedge.runtimeconfig.json: not a \`dotnet publish\` output of src/XrfEdge.Service"
  elif ! $building; then
    while read -r name version; do
      [ -n "$name" ] && check_framework "$name" "$version"
    done < <(frameworks_of "$dir")
  fi
  # OnnxRuntime.LocateLibrary: Model:OnnxRuntimeLibraryPath, else XRFEDGE_ONNXRUNTIME_PATH, else the build's
  # runtimes/<rid>/native/ or its own folder, else the loader's path. Without one the service exits 1 at every start.
  local configured
  configured="$(env_setting XRFEDGE_Model__OnnxRuntimeLibraryPath)"
  [ -n "$configured" ] || configured="$(env_setting XRFEDGE_ONNXRUNTIME_PATH)"
  if [ -n "$configured" ]; then
    [ -e "$destdir$configured" ] || problem "ONNX Runtime: $configured, named in /etc/xrfedge/xrfedge.env, does not exist on $target"
  elif [ -n "$arch" ] && [ ! -e "$dir/runtimes/linux-$arch/native/libonnxruntime.so.1" ] && [ ! -e "$dir/libonnxruntime.so.1" ] \
      && [ -z "$(find_library libonnxruntime.so.1)" ]; then
    problem "ONNX Runtime: the build in $dir has no runtimes/linux-$arch/native/libonnxruntime.so.1 and $target has no libonnxruntime.so.1 on its library path: build with the ONNX Runtime fetch on (scripts/fetch-onnxruntime.sh, needs npm: scripts/install-deps.sh), or set XRFEDGE_ONNXRUNTIME_PATH=/path/to/libonnxruntime.so.1 in /etc/xrfedge/xrfedge.env"
  fi
}

report_problems() {
  [ ${#problems[@]} -eq 0 ] && return 0
  echo "install.sh: $target is missing what xrfedge.service needs to start (docs/deploy.md §1); nothing was installed:" >&2
  local p
  for p in "${problems[@]}"; do echo "  - $p" >&2; done
  echo "install.sh: fix these and run it again (or --skip-preflight to install regardless, e.g. into a staging folder)" >&2
  exit 1
}

building=true
[ -n "${XRFEDGE_PREBUILT:-}" ] && building=false
arch=""
if $preflight; then
  check_device
  $building || check_build "$XRFEDGE_PREBUILT"
  report_problems
  if $check_only; then
    $building && echo "install.sh: $target has what xrfedge.service needs (the ONNX Runtime in the build is checked after it is built)" >&2 \
      || echo "install.sh: $target has what xrfedge.service needs" >&2
    exit 0
  fi
else
  echo "install.sh: preflight skipped (--skip-preflight): nothing checked on $target" >&2
  $check_only && exit 0
fi

# On every exit: the temporary build, and a staged release that was not swapped in (below). Cut off between the swap's two
# renames, /opt/xrfedge is missing and its previous release lies whole beside it: put it back.
scratch_build=""; staging=""; keeping=""; app=""; previous=""
cleanup() {
  [ -n "$scratch_build" ] && rm -rf "$scratch_build"
  [ -n "$staging" ] && rm -rf "$staging"
  if [ -n "$app" ] && [ ! -e "$app" ] && [ -d "$previous" ]; then mv -T "$previous" "$app"; fi
  # The kept links are spare names only while the old release is in place. Cut off after the swap's second rename (a
  # signal is handled once the running mv is done), their other names are in .NAME.old, which the next run deletes:
  # until 2026-11-24 they were removed here too, the operator's files with them.
  if [ -n "$keeping" ]; then
    if [ -e "$previous" ]; then
      echo "install.sh: the files kept from $prefix (not put there by an install, or changed since) are in ${keeping#"$destdir"}" >&2
    else
      rm -rf "$keeping"
    fi
  fi
  return 0
}
trap cleanup EXIT
build="${XRFEDGE_PREBUILT:-}"
if [ -z "$build" ]; then
  build="$(mktemp -d)"
  scratch_build="$build"
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
if $building && $preflight; then
  check_build "$build"
  report_problems
fi
[ -f "$build/xrfedge.dll" ] || { echo "install.sh: $build has no xrfedge.dll" >&2; exit 1; }

# ---- The app folder. Since 2026-11-24 the new release is staged whole in a folder beside /opt/xrfedge and the two are
# swapped by rename, so that /opt/xrfedge holds exactly this release's files. Until then cp copied over the old folder:
# an assembly or native library that a release no longer ships stayed beside the new ones (loadable, and misleading in a
# support bundle), and a step that failed half-way left half of each release. Carried over from the old folder: all of
# models/ (a model the operator placed there for Model:Path) and what firmware-config/ holds besides this release's
# profiles (edited copies, the record, a site's file). The operator's other data is outside it (/etc/xrfedge,
# /var/lib/xrfedge) and never touched. A running service keeps the files it has open (the old inodes) until it restarts.
app="$destdir$prefix"
if [ -L "$app" ]; then
  # A site that keeps the app on another partition behind a link: the swap happens where it points, and the link stays.
  # Under DESTDIR an absolute link names a folder of the image, which this host would read as its own.
  if [ -n "$destdir" ] && [[ "$(readlink "$app")" == /* ]]; then
    echo "install.sh: $prefix in $destdir is a link to $(readlink "$app"), a path inside the image: install with DESTDIR pointing there, or make the link relative (nothing was changed)" >&2
    app=""
    exit 1
  fi
  # A link whose folder is missing: the partition it is on not mounted (its mount point, an empty folder on the root
  # partition, is left), or a typo. Until 2026-11-24 install.sh installed a fresh release under the mount point, a second
  # app on the root card that the partition hides again once it mounts (exit 0, not a word); with the mount point missing
  # too, `readlink -f` failed and the run ended with exit 1 and no message. Not when the folder is missing because an
  # install was cut off between the swap's renames: its release is whole beside it as .NAME.old, and is put back below.
  target_app="$(readlink -m "$app")"
  if [ ! -d "$target_app" ] && [ ! -d "$(dirname "$target_app")/.$(basename "$target_app").old" ]; then
    missing="does not exist"
    [ -e "$target_app" ] && missing="is not a folder"
    echo "install.sh: $prefix is a symbolic link to $(readlink "$app"), and ${target_app#"$destdir"} $missing: nothing was changed (installing there would put a second app on the partition that holds the mount point). Mount the partition that holds it (see findmnt and /etc/fstab) or correct the link (sudo ln -sfn /FOLDER $prefix), and run install.sh again; to install onto that partition for the first time, create the folder first: sudo mkdir ${target_app#"$destdir"}" >&2
    app=""
    exit 1
  fi
  app="$target_app"
fi
next="$(dirname "$app")/.$(basename "$app").new"
previous="$(dirname "$app")/.$(basename "$app").old"
# One install at a time: flock(2) on the folder that holds the app folder (/opt; where a link points, that folder), held
# from here to the end (the unit and /etc files too). Until 2026-11-24 two runs at once (a provisioning tool and someone
# at the console) deleted each other's staged folder, and one could put the old release back between the other's renames.
install -d "$(dirname "$app")"
command -v flock >/dev/null || { echo "install.sh: needs flock (util-linux, or busybox's) to keep a second install out; nothing was changed" >&2; app=""; exit 1; }
exec 9<"$(dirname "$app")"
if ! flock -n 9; then
  echo "install.sh: another install.sh is installing into $(dirname "$app") (it holds a lock on that folder); nothing was changed: run this one again once it is done" >&2
  app=""
  exit 1
fi
if [ ! -e "$app" ] && [ -d "$previous" ]; then
  mv -T "$previous" "$app"
  echo "install.sh: restored $prefix from $previous, left by an install that was cut off during the swap" >&2
fi
rm -rf "$next" "$previous"   # what an interrupted run left
# Room for the staged copy: on a Raspberry Pi's one-partition card /opt shares the partition with the outbox and the
# journal, which the running service keeps writing while the staged copy exists (a full card is a fault it restarts
# over, §4 of docs/deploy.md). Until 2026-11-24 staging could fill it, and cp's "No space left" came only then. What is
# staged: the build, the models/ and firmware-config/ carried over, this release's model and profiles; 64 MiB must stay
# free beside it for what the service and the system write meanwhile (a margin, not a measured figure).
staged=("$build")
for f in "$app/models" "$app/firmware-config" "$root"/models/xrf-line-encoder.* "$root/firmware-config"; do
  [ -e "$f" ] && staged+=("$f")
done
need_kib=$(( $(du -sk "${staged[@]}" | awk '{ s += $1 } END { print s }') + 64 * 1024 ))
free_kib="$(df -Pk "$(dirname "$app")" | awk 'NR == 2 { print $4 }')"
if [ -n "$free_kib" ] && [ "$free_kib" -lt "$need_kib" ]; then
  echo "install.sh: $(dirname "$app") has $(( free_kib / 1024 )) MiB free; staging this release needs $(( need_kib / 1024 )) MiB there (a second copy until the swap, and 64 MiB left for the running service's outbox and journal): nothing was changed. Free space (sudo journalctl --vacuum-size=50M, sudo apt-get clean) and run it again" >&2
  exit 1
fi
install -d "$destdir/etc/systemd/system" "$destdir/etc/udev/rules.d" "$destdir/etc/xrfedge"
staging="$next"
mkdir "$next"
cp -a "$build/." "$next/"
# The release's files are root's and readable by all. `cp -a` of install.sh's own build (mktemp -d: mode 0700, owned by
# $SUDO_USER under sudo) gave /opt/xrfedge that mode and owner until 2026-11-24: User=xrfedge could not reach the apphost.
if [ "$(id -u)" -eq 0 ]; then chown -R root:root "$next"; fi
chmod -R u+rwX,go+rX,go-w "$next"
install -d -m 0755 "$next/firmware-config" "$next/models" "$next/docs" "$next/systemd"
if [ -d "$app/firmware-config" ]; then cp -a "$app/firmware-config/." "$next/firmware-config/"; fi
if [ -d "$app/models" ]; then cp -a "$app/models/." "$next/models/"; fi
# release_files DIR ADVICE FILE…: puts this release's FILEs into DIR of the staged release (which holds what the old
# release's DIR held, carried over above) and records them in DIR/.installed.sha256, so that the next install can tell
# the files an install put there from the operator's. A file the last install put there that this release no longer
# ships goes with that release, unless it was changed since. A file changed in place (a profile that ExecStart names
# edited, a site model written over the shipped one) is kept beside this release's as NAME.edited-<UTC> with a warning
# (ADVICE: where such a change belongs); until 2026-11-24 an upgrade overwrote it silently. Changed = differs from what
# the last install wrote; after an install that kept no record, every file that differs from this release's is kept.
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
release_files() {
  local dir="$1" advice="$2" record="$1/.installed.sha256" f name sum old how shipped edited n
  shift 2
  if [ -f "$record" ]; then
    while read -r sum name; do
      [ -n "$name" ] && [ -f "$dir/$name" ] || continue
      shipped=false
      for f in "$@"; do [ "$(basename "$f")" = "$name" ] && shipped=true; done
      $shipped && continue
      if [ "$(sha256sum < "$dir/$name" | cut -d' ' -f1)" = "$sum" ]; then rm -f "$dir/$name"; fi
    done < "$record"
  fi
  for f in "$@"; do
    name="$(basename "$f")"
    old="$dir/$name"
    [ -f "$old" ] || continue
    cmp -s "$old" "$f" && continue
    sum="$(sha256sum < "$old" | cut -d' ' -f1)"
    if [ -f "$record" ] && grep -qxF "$sum  $name" "$record"; then
      continue
    fi
    # A name of its own: a second install within the same second wrote over the first one's copy until 2026-11-24.
    edited="$old.edited-$stamp"
    n=1
    while [ -e "$edited" ] || [ -L "$edited" ]; do n=$(( n + 1 )); edited="$old.edited-$stamp-$n"; done
    cp -p "$old" "$edited"
    how="had been changed"
    [ -f "$record" ] || how="differs from this release's (a change, or an older release's: that install kept no record)"
    echo "install.sh: $prefix/${dir#"$next/"}/$name $how; the file is kept as $(basename "$edited") and this release's replaces it: $advice" >&2
  done
  if [ $# -gt 0 ]; then install -m 0644 "$@" "$dir/"; fi
  for f in "$@"; do printf '%s  %s\n' "$(sha256sum < "$f" | cut -d' ' -f1)" "$(basename "$f")"; done > "$record"
}
release_files "$next/firmware-config" "put site settings in /etc/xrfedge/xrfedge.env or a copy under /etc/xrfedge (docs/deploy.md §3)" \
  "$root"/firmware-config/*.json
[ -f "$root/firmware-config/README.md" ] && install -m 0644 "$root/firmware-config/README.md" "$next/firmware-config/"
# The shipped model (xrf-line-encoder.*, when the checkout has it: `make model`); a site's model goes beside it under
# another name, which Model:Path names (docs/deploy.md §3).
shipped_models=()
for f in "$root"/models/xrf-line-encoder.*; do
  [ -e "$f" ] && shipped_models+=("$f")
done
release_files "$next/models" "give a site's model its own name in $prefix/models/ and name it in Model:Path (docs/deploy.md §3)" \
  "${shipped_models[@]}"
if [ ! -e "$next/models/xrf-line-encoder.int8.onnx" ]; then
  echo "install.sh: WARNING: models/xrf-line-encoder.int8.onnx is missing; the service will measure without analysis (every result 'analysis failed: no model loaded') until $prefix/models/ holds the model and its card (\`make model\` makes them)" >&2
fi
for f in "$root"/docs/deploy.md "$root"/docs/service.md; do
  [ -e "$f" ] && install -m 0644 "$f" "$next/docs/"
done
install -m 0644 "$root/systemd/60-xrfedge.rules" "$root/systemd/xrfedge.service" "$root/systemd/xrfedge-retry.timer" "$next/systemd/"
# Example drop-ins (mca-on-ttyS0.conf): beside the unit for a site to copy into xrfedge.service.d/, never active here.
for f in "$root"/systemd/*.conf; do
  [ -e "$f" ] && install -m 0644 "$f" "$next/systemd/"
done
# The udev rule is meant to be edited (the MCA adapter's ids, docs/deploy.md §2): replace it only when it is absent or
# still what an install shipped (the old release's copy, read before the swap); otherwise keep the site's edit and put
# the new rule beside it under a name udev ignores.
rules="$destdir/etc/udev/rules.d/60-xrfedge.rules"
shipped="$app/systemd/60-xrfedge.rules"
replace_rule=false
if [ ! -e "$rules" ] || cmp -s "$rules" "$root/systemd/60-xrfedge.rules" || { [ -e "$shipped" ] && cmp -s "$rules" "$shipped"; }; then
  replace_rule=true
fi
# The operator's files in the release folder. It is replaced whole, and site files belong elsewhere (docs/deploy.md §3:
# /etc/xrfedge, /var/lib/xrfedge, a site's model in models/, which is carried like firmware-config/ above); until
# 2026-11-24 a file put there anyway was deleted at the swap and only named afterwards, among the "removed" ones. The
# install records every file it puts there outside models/ and firmware-config/ (.installed.sha256, as those two
# folders have theirs); a file of the old release that its record does not list with that content (added, or changed
# since) is kept in /opt/xrfedge.kept-<UTC> beside it, by hard links made before the swap (a copy where the partition
# has none), with a warning naming each. After an install that kept no record, every file this release does not ship.
# Names are passed NUL-separated: a name may hold a line break, which no line of the record can (such a file is never
# recorded, so always kept). Until 2026-11-24 one such name split into two that exist nowhere and an empty one, and the
# empty one copied the whole release (models/ too) into the kept folder, or ended the install half-way.
top_files() { (cd "$1" && find . ! -type d ! -path './models/*' ! -path './firmware-config/*' ! -path ./.installed.sha256 -printf '%P\0' | LC_ALL=C sort -z); }
# sum_of FILE: the SHA-256 of its content, of its target for a symbolic link, or of its kind for anything else that is
# no regular file: reading a named pipe an operator made there blocked the install for good (until 2026-11-24).
sum_of() {
  if [ -L "$1" ]; then readlink -- "$1" | sha256sum | cut -d' ' -f1
  elif [ -f "$1" ]; then sha256sum < "$1" | cut -d' ' -f1
  else stat -c %F -- "$1" | sha256sum | cut -d' ' -f1; fi
}
release_sums() {
  top_files "$1" | while IFS= read -r -d '' f; do
    [[ "$f" == *$'\n'* ]] || printf '%s  %s\n' "$(sum_of "$1/$f")" "$f"
  done
}
release_sums "$next" > "$next/.installed.sha256"
chmod 0644 "$next/.installed.sha256"
# shipped_by_next NAME: whether this release puts a file (or link) at NAME.
shipped_by_next() { [ -L "$next/$1" ] || { [ -e "$next/$1" ] && [ ! -d "$next/$1" ]; }; }
# shown NAME: as the warnings print it; a name with a control character (a line break) in $'…' quoting.
shown() { if [[ "$1" == *[[:cntrl:]]* ]]; then printf '%q' "$1"; else printf '%s' "$1"; fi; }
kept=()
kept_how=""
if [ -f "$app/.installed.sha256" ]; then
  declare -A recorded=()
  while IFS= read -r line; do recorded["$line"]=1; done < "$app/.installed.sha256"
  while IFS= read -r -d '' f; do
    if [[ "$f" != *$'\n'* ]] && [ -n "${recorded["$(sum_of "$app/$f")  $f"]+set}" ]; then continue; fi
    kept+=("$f")
  done < <(top_files "$app")
elif [ -d "$app" ]; then
  while IFS= read -r -d '' f; do
    shipped_by_next "$f" || kept+=("$f")
  done < <(top_files "$app")
  kept_how=" (the install before this one kept no record of its files, so every file this release does not ship is kept, this once)"
fi
# A folder of its own for each install, root's and closed to others (0700): a file there may be a secret that a folder of
# /opt/xrfedge kept from other users, and the kept tree's folders are made anew. Until 2026-11-24 the folder was 0755, and
# a second install within the same second (its name's resolution) wrote over the first one's kept copies, the only ones.
kept_dir="$(dirname "$app")/$(basename "$app").kept-$stamp"
n=1
while [ -e "$kept_dir" ] || [ -L "$kept_dir" ]; do
  n=$(( n + 1 ))
  kept_dir="$(dirname "$app")/$(basename "$app").kept-$stamp-$n"
done
if [ ${#kept[@]} -gt 0 ]; then
  mkdir -m 0700 "$kept_dir"
  keeping="$kept_dir"
  # Hard links take no room. Where the partition has none (FAT, exFAT behind a link) the files are copied, and the
  # copies must leave the staging check's 64 MiB margin free too: until 2026-11-24 they were not counted.
  if ln -- "$next/.installed.sha256" "$kept_dir/.hard-link-probe" 2>/dev/null; then
    rm -f "$kept_dir/.hard-link-probe"
  else
    copy_kib="$(cd "$app" && printf '%s\0' "${kept[@]}" | du -sk --files0-from=- | awk '{ s += $1 } END { print s + 0 }')"
    free_kib="$(df -Pk "$(dirname "$app")" | awk 'NR == 2 { print $4 }')"
    if [ -n "$free_kib" ] && [ "$free_kib" -lt $(( copy_kib + 64 * 1024 )) ]; then
      list=""
      for f in "${kept[@]:0:10}"; do list+="$(shown "$f"), "; done
      echo "install.sh: $(dirname "$app") has $(( free_kib / 1024 )) MiB free after staging; $prefix holds ${#kept[@]} file(s) no install put there (${list%, }), which must be kept and, on a partition without hard links, copied: $(( (copy_kib + 1023) / 1024 )) MiB, and 64 MiB must stay free for the running service: nothing was changed. Move those files out of $prefix (site files belong in /etc/xrfedge or /var/lib/xrfedge, docs/deploy.md §3) or free space, and run it again" >&2
      exit 1
    fi
  fi
  for f in "${kept[@]}"; do
    mkdir -p "$(dirname "$kept_dir/$f")"
    cp -al "$app/$f" "$kept_dir/$f" 2>/dev/null || cp -a "$app/$f" "$kept_dir/$f"
  done
fi
# The swap: two renames within one folder, each atomic. Only for the time between them is there no /opt/xrfedge; a run
# cut off there puts the previous release back (cleanup above, or the next run), never a mix of the two.
retired=()
if [ -d "$app" ]; then
  declare -A is_kept=()
  for f in "${kept[@]}"; do is_kept["$f"]=1; done
  while IFS= read -r -d '' f; do
    [ -n "${is_kept["$f"]+set}" ] || shipped_by_next "$f" || retired+=("$(shown "$f")")
  done < <(cd "$app" && find . ! -type d -printf '%P\0' | LC_ALL=C sort -z)
  mv -T "$app" "$previous"
fi
mv -T "$next" "$app"
staging=""
keeping=""
rm -rf "$previous"
if [ ${#kept[@]} -gt 0 ]; then
  list=""
  for f in "${kept[@]:0:10}"; do list+="$(shown "$f"), "; done
  list="${list%, }"
  [ ${#kept[@]} -gt 10 ] && list+=", …"
  echo "install.sh: WARNING: ${#kept[@]} file(s) in $prefix were not put there by an install, or were changed since$kept_how; the release folder is replaced whole, so they are kept in ${kept_dir#"$destdir"} (open to root only): $list. Site settings and profiles belong in /etc/xrfedge, a site's model in $prefix/models/ (named in Model:Path), data in /var/lib/xrfedge (docs/deploy.md §3): move what is still needed there, then delete that folder" >&2
fi
if [ ${#retired[@]} -gt 0 ]; then
  list="${retired[*]:0:10}"
  [ ${#retired[@]} -gt 10 ] && list+=" …"
  echo "install.sh: removed ${#retired[@]} file(s) from $prefix that this release does not ship: $list" >&2
fi

install -m 0644 "$root/systemd/xrfedge.service" "$destdir/etc/systemd/system/xrfedge.service"
# Started by the unit's OnFailure= after it gave up restarting (docs/deploy.md §4, "Restarts"); never enabled.
install -m 0644 "$root/systemd/xrfedge-retry.timer" "$destdir/etc/systemd/system/xrfedge-retry.timer"
# The user and groups the unit runs with, declared for systemd-sysusers: an image staged with DESTDIR gets no useradd
# below, and its unit failed at first boot with status 217/USER (docs/deploy.md §3, "Image builds").
install -D -m 0644 "$root/systemd/xrfedge.sysusers" "$destdir/etc/sysusers.d/xrfedge.conf"
if $replace_rule; then
  install -m 0644 "$root/systemd/60-xrfedge.rules" "$rules"
  rm -f "$rules.dist"
else
  install -m 0644 "$root/systemd/60-xrfedge.rules" "$rules.dist"
  echo "install.sh: kept the edited /etc/udev/rules.d/60-xrfedge.rules; this release's rule is in 60-xrfedge.rules.dist beside it (udev ignores that name): merge it, then udevadm control --reload-rules" >&2
fi
envfile="$destdir/etc/xrfedge/xrfedge.env"
if [ ! -e "$envfile" ]; then
  # umask 077 while writing: the file is never readable by other users, not even between cat and chmod.
  (umask 077; cat > "$envfile") <<'ENV'
# Site settings for xrfedge.service (any profile key: XRFEDGE_Section__Key=value). Edit, then `systemctl restart xrfedge`.
XRFEDGE_PROFILE=pi-dp5-uart
#XRFEDGE_Mqtt__Host=mqtt.example.internal
#XRFEDGE_Mqtt__Fleet=site-a
#XRFEDGE_Mqtt__DeviceId=XRF-PI-0001
#XRFEDGE_Mqtt__Username=
#XRFEDGE_Mqtt__Password=
ENV
  chmod 0640 "$envfile"
elif [ -n "$(find -L "$envfile" -maxdepth 0 -perm /027)" ]; then
  # It holds Mqtt:Password and Mqtt:KeyPassword. systemd reads it as root; nobody else needs it. An editor or a copy
  # from a 0644 template had left it readable by every local user, and install.sh never looked again (until 2026-11-24).
  # -L: the file a symlinked xrfedge.env names (a read-only root keeps it on a data partition) is what systemd reads
  # and chmod changes; the link's own 777 was reported on every run until 2026-11-24.
  was="$(stat -L -c %a "$envfile")"
  chmod g-w,o-rwx "$envfile"
  echo "install.sh: /etc/xrfedge/xrfedge.env was mode $was (it holds the MQTT password); now $(stat -L -c %a "$envfile"), its contents kept" >&2
fi

if [ -n "$destdir" ]; then
  echo "install.sh: staged under $destdir (no user, udev or systemd changes)" >&2
  exit 0
fi

# The steps on the running system (user and groups, udev, systemd; --start), in their own script so that the sequence
# of commands they run can be tested with stand-ins for systemctl and the rest (InstallScriptTests.Activate.cs). The
# lock above is inherited and held until this script ends.
activate=(bash "$root/scripts/install-activate.sh")
$start && activate+=(--start)
"${activate[@]}"
