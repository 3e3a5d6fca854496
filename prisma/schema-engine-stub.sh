#!/bin/sh
# Stand-in for Prisma's native schema engine, which cannot be downloaded on this project's
# machines. `prisma generate/validate/format` never run it; anything that would gets this hint.
echo "The native Prisma schema engine is not installed. Use 'npm run db:migrate' to apply" >&2
echo "migrations and 'npm run db:migrate:create -- <name>' to create one (see README)." >&2
echo "On a machine with the real binary, set PRISMA_SCHEMA_ENGINE_BINARY to its path." >&2
exit 1
