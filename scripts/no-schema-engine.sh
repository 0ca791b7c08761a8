#!/bin/sh
# Stands in for Prisma's native schema-engine binary, which machines that reach only the npm
# registry cannot download. `prisma generate` does not run it; migrations go through
# scripts/prisma-wasm.mjs (the same engine as WebAssembly).
echo "prisma's native schema engine is not installed here: use npm run db:migrate / db:migration:new" >&2
exit 1
