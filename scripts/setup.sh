#!/usr/bin/env bash
# Installs what the workbench needs on a fresh machine; idempotent, seconds when already done.
#   - MuJoCo 3.17.0's shared library, taken from the PyPI wheel (sha256-checked) into third_party/mujoco/
#   - with --gui-test: the Debian packages the headless UI tests need (EGL + Mesa's llvmpipe)
#   - with --gui: those plus what the screenshot script uses (Xvfb, xdotool, xwd, ImageMagick)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$here/third_party/mujoco"
version="3.17.0"
wheel_sha256="d66928d86a2d1b601bbaa4dc11db50214d17d5301bb8afd84721313b67ff0874"
lib_sha256="23496b023ee80fb61ab71167e94bc649f9941710fde96b18bb8204fb332523ad"
lib="libmujoco.so.$version"

pkgs=()
for arg in "$@"; do
  case "$arg" in
    --gui-test) pkgs+=(libegl1 libgl1-mesa-dri libxkbcommon-x11-0) ;;
    --gui) pkgs+=(libegl1 libgl1-mesa-dri libxkbcommon-x11-0 xvfb xauth x11-apps imagemagick xdotool) ;;
    *) echo "setup.sh: unknown option '$arg' (known: --gui-test, --gui)" >&2; exit 2 ;;
  esac
done

have_lib() {
  [ -f "$dest/$lib" ] && [ -L "$dest/libmujoco.so" ] &&
    echo "$lib_sha256  $dest/$lib" | sha256sum --check --status
}

if ! have_lib; then
  echo "setup: fetching MuJoCo $version from the PyPI wheel" >&2
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --quiet --no-deps --no-input --only-binary=:all: \
    --platform manylinux_2_28_x86_64 --python-version 3.11 --implementation cp --abi cp311 \
    "mujoco==$version" -d "$tmp"
  wheel="$(ls "$tmp"/mujoco-"$version"-*.whl)"
  echo "$wheel_sha256  $wheel" | sha256sum --check --status || {
    echo "setup: sha256 mismatch for $wheel" >&2; exit 1; }
  python3 - "$wheel" "$tmp" "$lib" <<'PY'
import sys, zipfile
wheel, out, lib = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    with z.open("mujoco/" + lib) as src, open(out + "/" + lib, "wb") as dst:
        dst.write(src.read())
PY
  echo "$lib_sha256  $tmp/$lib" | sha256sum --check --status || {
    echo "setup: sha256 mismatch for $lib" >&2; exit 1; }
  mkdir -p "$dest"
  mv -f "$tmp/$lib" "$dest/$lib.part" && mv -f "$dest/$lib.part" "$dest/$lib"
  ln -sfn "$lib" "$dest/libmujoco.so"
  echo "setup: MuJoCo installed in $dest" >&2
fi

if [ "${#pkgs[@]}" -gt 0 ]; then
  missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}" >&2
    sudo_cmd=""
    [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi
