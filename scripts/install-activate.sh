#!/usr/bin/env bash
# The part of scripts/install.sh (docs/deploy.md §3) that changes the running system rather than files: the `xrfedge`
# user and the groups the unit names, the udev rules reloaded and applied, the unit enabled, and with --start the
# service (re)started. install.sh runs it last, after the files are in place (never under DESTDIR); on its own it
# applies those steps again to what is installed:
#
#   sudo scripts/install-activate.sh            # user, groups, udev, daemon-reload, enable (not start)
#   sudo scripts/install-activate.sh --start    # … and reset-failed + restart, then show the status
#
# Every command is looked up on PATH, so InstallScriptTests.Activate.cs runs it with stand-ins that record their calls
# (and PATH holding nothing else) to pin the order of the systemctl calls without a real systemd.
set -euo pipefail
start=false
for arg in "$@"; do
  case "$arg" in
    --start) start=true ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "install-activate.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" -ne 0 ]; then
  echo "install-activate.sh: run as root (sudo): it creates a user and calls udevadm and systemctl" >&2
  exit 1
fi

for group in dialout gpio spi; do
  getent group "$group" >/dev/null || groupadd --system "$group"
done
if ! id xrfedge >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/xrfedge --no-create-home --shell /usr/sbin/nologin --user-group xrfedge
fi
usermod -a -G dialout,gpio,spi xrfedge
# Installs before 2026-11-24 gave xrfedge.env group xrfedge; the service never reads it (systemd does, as root).
[ "$(stat -L -c %G /etc/xrfedge/xrfedge.env)" = xrfedge ] && chgrp root /etc/xrfedge/xrfedge.env
# trigger only queues the events; settle waits for the rules to have set the device groups, so that a --start right
# after a first install does not open spidev/gpiochip before they are the service's (one failed start until 2026-11-24).
udevadm control --reload-rules && udevadm trigger --subsystem-match=gpio --subsystem-match=spidev --subsystem-match=tty && udevadm settle --timeout=10 || true
systemctl daemon-reload
systemctl enable xrfedge.service
if $start; then
  # Show the unit's state and last log lines whether or not the restart worked: under set -e a failed restart exited
  # here before the status that says why (until 2026-11-24).
  # reset-failed first: a unit that gave up less than StartLimitIntervalSec ago (the fault this install may be the fix
  # for) refused the restart ("Start request repeated too quickly"), and install.sh exited 1 (until 2026-11-24).
  restarted=0
  systemctl reset-failed xrfedge.service 2>/dev/null || true
  systemctl restart xrfedge.service || restarted=$?
  systemctl --no-pager status xrfedge.service || true
  if [ "$restarted" -ne 0 ]; then
    echo "install.sh: installed, but the service did not start (systemctl restart exit $restarted): journalctl -u xrfedge -n 50" >&2
    exit 1
  fi
elif systemctl --quiet is-active xrfedge.service; then
  echo "install.sh: installed; the running service keeps the previous release until: sudo systemctl restart xrfedge" >&2
elif systemctl --quiet is-failed xrfedge.service; then
  # Failed: it gave up restarting, and the retry timer starts it within 10 min (docs/deploy.md §4, "Restarts"); a plain
  # `start` is refused while its start limit holds.
  echo "install.sh: installed; the service had given up (failed). Start this release now: sudo systemctl reset-failed xrfedge && sudo systemctl start xrfedge (else the retry timer, where a give-up armed it, starts it within 10 min)" >&2
elif [[ "$(systemctl show -p SubState --value xrfedge.service 2>/dev/null || true)" == auto-restart* ]]; then
  # 'activating (auto-restart)' (auto-restart-queued since systemd 254): it failed, and systemd starts it again by itself
  # after RestartSec (5 s). Until 2026-11-24 it was told to edit xrfedge.env and start it, as after a first install.
  echo "install.sh: installed; the service had failed and waits to be restarted (activating, auto-restart): its next automatic restart runs this release. Why it failed: journalctl -u xrfedge -n 50; to restart it now: sudo systemctl restart xrfedge" >&2
elif [ "$(systemctl show -p ActiveState --value xrfedge.service 2>/dev/null || true)" = activating ]; then
  # Starting (ExecStartPre=, or Type=notify before READY=1): the process it starts was exec'd from the previous release.
  echo "install.sh: installed; the service is starting the previous release (activating): run this one with: sudo systemctl restart xrfedge" >&2
else
  echo "install.sh: installed and enabled; edit /etc/xrfedge/xrfedge.env, then: sudo systemctl start xrfedge" >&2
fi
