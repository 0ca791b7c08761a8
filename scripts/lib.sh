# Shared by the project's shell scripts: install dependencies when needed, and load settings.

# Installs node_modules when they are missing or older than package-lock.json.
ensure_node_modules() {
  local marker=node_modules/.package-lock.json
  if [ ! -f "$marker" ] || [ package-lock.json -nt "$marker" ]; then
    echo "installing dependencies (npm ci)" >&2
    npm ci --no-audit --no-fund --loglevel=error >&2
  fi
}

# Node.js 20.19 or later (Prisma 7 needs it).
require_node() {
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' || {
    echo "Node.js 20.19 or later is required (found $(node --version 2>/dev/null || echo none))" >&2
    exit 1
  }
}

# Exports the URLs that scripts/services.sh found or started.
load_services_env() {
  local file=${MAILROOM_SERVICES_DIR:-.mailroom/services}/services.env
  set -a
  # shellcheck disable=SC1090
  . "$file"
  set +a
}
