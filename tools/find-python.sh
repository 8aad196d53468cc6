#!/usr/bin/env bash
# Print the path of a real Python 3.12 interpreter (the Lambda runtime's minor version).
# pyenv's `python3.12` shim fails unless PYENV_VERSION is set, so look for real binaries first.
set -u
want="${1:-3.12}"
candidates=()
root="$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")"
for p in $(ls -d "$root"/versions/"$want".*/bin/python"$want" 2>/dev/null | sort -V -r); do candidates+=("$p"); done
for p in /usr/local/bin/python"$want" /usr/bin/python"$want" "$(command -v python"$want" 2>/dev/null)"; do
  [ -n "$p" ] && candidates+=("$p")
done
for p in "${candidates[@]}"; do
  if [ -x "$p" ] && "$p" -c "import sys; sys.exit(0 if '%d.%d' % sys.version_info[:2] == '$want' else 1)" 2>/dev/null; then
    echo "$p"
    exit 0
  fi
done
echo "error: no working Python $want interpreter found (the Lambda runtime is python$want)." >&2
echo "       install one (e.g. 'pyenv install $want' or your OS package) and retry." >&2
exit 1
