#!/usr/bin/env bash
# Set-up is code: every command installs what is missing, skips what is there, then runs.
#
#   ./run.sh video [MANIM FLAGS]   render scenes/delta.py (default -ql) into media/
#   ./run.sh test  [PYTEST ARGS]   lint, check the layers, type-check, run the whole suite
#   ./run.sh setup                 only install (apt packages as root, then .venv)
#
# apt packages: what pycairo and manimpango build against (no Linux wheels), and the
# LaTeX that MathTex and Matrix need. We use texlive-latex-base + preview-latex-style
# with our own template (backprop_anim/tex_template.tex, set in manim.cfg) instead of
# manim's default `standalone` template, which needs texlive-latex-extra: measured with
# `apt-get install -s` on Debian 12, 175 MB against 358 MB installed.
set -euo pipefail
cd "$(dirname "$0")"

APT_PACKAGES=(
  build-essential python3-dev python3-venv pkg-config
  libcairo2-dev libpango1.0-dev
  texlive-latex-base preview-latex-style dvisvgm
  espeak-ng  # the offline draft voice of `backprop lecture --voice espeak`
)

ensure_apt() {
  local missing=() p
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "run.sh: installing apt packages: ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

ensure_venv() {
  [ -x .venv/bin/python ] || python3 -m venv .venv
  local stamp
  stamp=".venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    echo "run.sh: installing backprop-anim and its dependencies into .venv" >&2
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".[dev]"
    rm -f .venv/.installed-*
    touch "$stamp"
  fi
}

cmd="${1:-}"
[ $# -gt 0 ] && shift
case "$cmd" in
  setup)
    ensure_apt
    ensure_venv
    ;;
  video)
    ensure_apt
    ensure_venv
    [ $# -gt 0 ] || set -- -ql
    exec .venv/bin/manim render "$@" scenes/delta.py </dev/null
    ;;
  test)
    ensure_apt
    ensure_venv
    .venv/bin/ruff check .
    .venv/bin/ruff format --check .
    .venv/bin/lint-imports
    .venv/bin/mypy
    exec .venv/bin/python -m pytest "$@"
    ;;
  *)
    echo "usage: ./run.sh video [MANIM FLAGS] | test [PYTEST ARGS] | setup" >&2
    exit 2
    ;;
esac
