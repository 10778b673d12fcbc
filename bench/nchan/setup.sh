#!/usr/bin/env bash
# Fetches nginx + the nchan module from Debian's packages and extracts them under bench/nchan/root/
# (no system-wide install: nothing is configured, started or registered with dpkg).
#
#   bench/nchan/setup.sh          idempotent: does nothing but the check when root/ is already complete
#
# Needs apt-get (with package lists: run `apt-get update` once if `apt-cache policy nginx` shows no candidate)
# and dpkg-deb. Exits non-zero, saying why, when a package cannot be downloaded or the binary does not run.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PKGS="$HERE/pkgs"
ROOT="$HERE/root"
NGINX="$ROOT/usr/sbin/nginx"
MODULE="$ROOT/usr/lib/nginx/modules/ngx_nchan_module.so"

die() { echo "nchan setup: $*" >&2; exit 1; }

for tool in apt-get apt-cache dpkg-deb; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found: this script needs a Debian/Ubuntu system"
done

# Runs the extracted nginx with the extracted libraries first on the search path.
run_nginx() { LD_LIBRARY_PATH="$ROOT/usr/lib/x86_64-linux-gnu:$ROOT/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$NGINX" "$@"; }

# The package that ships /usr/sbin/nginx: on bookworm (1.22.1-9+deb12u*) that is "nginx" itself (nginx-core and
# nginx-light became transitional packages); on older releases it was nginx-core / nginx-light.
candidate() { apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}'; }

download() { # PACKAGE: into pkgs/ unless a .deb of that package is already there
  local p="$1"
  if compgen -G "$PKGS/${p}_*.deb" >/dev/null; then return 0; fi
  local c; c="$(candidate "$p")"
  if [[ -z "$c" || "$c" == "(none)" ]]; then
    die "package '$p' is not available from the configured Debian archives (apt-cache policy $p: no candidate). Run 'apt-get update' first; if it is still missing, this release does not ship it."
  fi
  echo "nchan setup: downloading $p $c"
  local sandbox=()
  # as root, apt drops to the _apt user for downloads, which cannot write into this tree: download as root
  [[ "$(id -u)" == 0 ]] && sandbox=(-o APT::Sandbox::User=root)
  (cd "$PKGS" && apt-get download -q "${sandbox[@]}" "$p") || die "apt-get download $p was refused or failed"
}

# Does the .deb of PACKAGE in pkgs/ contain PATH?
has_file() { dpkg-deb -c "$(ls "$PKGS/${1}"_*.deb | head -1)" | awk '{print $NF}' | grep -qx "./${2#/}"; }

# nchan's create_main_conf fixes its nchan_message_temp_path to the compiled-in client body temp path,
# /var/lib/nginx/body, before the configuration is read (so the directive is always "duplicate"), and nginx
# then insists on creating that directory: without /var/lib/nginx (no system-wide install) nginx will not
# start. The path is a string constant in the module; rewrite it, in our extracted copy only, to a relative
# path of the same length, which nginx resolves against its prefix (-p: the private run directory).
ORIG_TEMP="/var/lib/nginx/body"
PRIVATE_TEMP="nchan_msg_temp_body" # same length (19); ends up as RUN_DIR/nchan_msg_temp_body
patch_module_temp_path() {
  local offsets n
  offsets="$(grep -obUaF "$ORIG_TEMP" "$MODULE" | cut -d: -f1 || true)"
  n="$(printf '%s' "$offsets" | grep -c . || true)"
  if [[ "$n" == 0 ]]; then
    grep -qaF "$PRIVATE_TEMP" "$MODULE" && return 0 # already patched
    echo "nchan setup: note: $ORIG_TEMP not found in the module; not patched (nginx may need /var/lib/nginx)" >&2
    return 0
  fi
  [[ "$n" == 1 ]] || die "expected $ORIG_TEMP once in $MODULE, found it $n times; not patching"
  printf '%s' "$PRIVATE_TEMP" | dd of="$MODULE" bs=1 seek="$offsets" conv=notrunc status=none
  echo "nchan setup: patched the module's built-in temp path $ORIG_TEMP -> <nginx prefix>/$PRIVATE_TEMP (extracted copy only)"
}

is_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

if [[ -x "$NGINX" && -f "$MODULE" && -f "$HERE/root/.complete" ]]; then
  echo "nchan setup: already set up in $ROOT"
else
  mkdir -p "$PKGS"
  # 1. the nginx binary
  binpkg=""
  for p in nginx nginx-core nginx-light; do
    c="$(candidate "$p")"
    [[ -n "$c" && "$c" != "(none)" ]] || continue
    download "$p"
    if has_file "$p" /usr/sbin/nginx; then binpkg="$p"; break; fi
  done
  [[ -n "$binpkg" ]] || die "none of nginx, nginx-core, nginx-light ships /usr/sbin/nginx here (or none is available); cannot continue"
  # 2. the nchan module
  download libnginx-mod-nchan
  has_file libnginx-mod-nchan /usr/lib/nginx/modules/ngx_nchan_module.so \
    || die "libnginx-mod-nchan does not contain usr/lib/nginx/modules/ngx_nchan_module.so"
  # 3. shared-library dependencies of both that are not installed on this machine (normally none:
  #    libc6, libcrypt1, libpcre2-8-0, libssl3, zlib1g are in the base system). Package-only dependencies
  #    (nginx-common: config files and systemd units; iproute2) are not needed to run from root/.
  for p in "$binpkg" libnginx-mod-nchan; do
    deps="$(dpkg-deb -f "$(ls "$PKGS/${p}"_*.deb | head -1)" Depends | tr ',' '\n' | sed -E 's/\(.*\)//; s/\|.*//; s/[[:space:]]//g')"
    for d in $deps; do
      case "$d" in
        nginx|nginx-common|nginx-abi-*|iproute2|libnginx-mod-*) continue ;;
      esac
      if ! is_installed "$d"; then download "$d"; fi
    done
  done
  # 4. extract everything downloaded
  rm -rf "$ROOT"
  mkdir -p "$ROOT"
  for deb in "$PKGS"/*.deb; do
    echo "nchan setup: extracting $(basename "$deb")"
    dpkg-deb -x "$deb" "$ROOT"
  done
  [[ -x "$NGINX" ]] || die "$NGINX missing after extraction"
  [[ -f "$MODULE" ]] || die "$MODULE missing after extraction"
  patch_module_temp_path
  touch "$ROOT/.complete"
fi

# Check: the binary runs, and the module loads into it (a throw-away config that only loads the module).
if ! version="$(run_nginx -V 2>&1)"; then
  echo "$version" >&2
  die "$NGINX -V does not run"
fi
echo "$version" | head -1
check_dir="$(mktemp -d)"
trap 'rm -rf "$check_dir"' EXIT
mkdir -p "$check_dir/logs"
cat > "$check_dir/nginx.conf" <<CONF
load_module $MODULE;
pid $check_dir/nginx.pid;
error_log $check_dir/logs/error.log;
events { worker_connections 16; }
http {
  access_log off;
  client_body_temp_path $check_dir/body; proxy_temp_path $check_dir/proxy; fastcgi_temp_path $check_dir/fastcgi;
  uwsgi_temp_path $check_dir/uwsgi; scgi_temp_path $check_dir/scgi;
  server { listen 127.0.0.1:1; location /x { nchan_publisher; nchan_channel_id x; } } }
CONF
if ! out="$(run_nginx -t -q -p "$check_dir" -c "$check_dir/nginx.conf" 2>&1)"; then
  echo "$out" >&2
  die "the extracted nginx does not accept ngx_nchan_module.so (configuration test failed)"
fi
echo "nchan setup: ok: $NGINX with $(basename "$MODULE") (nchan $(dpkg-deb -f "$(ls "$PKGS"/libnginx-mod-nchan_*.deb | head -1)" Version))"
