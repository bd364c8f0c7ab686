# One image per app, from one Dockerfile:
#
#   docker build --build-arg APP=planner -t agentry-planner:local .    # planner | executor | api | cli
#
# The build stage installs the workspace from the lockfile and bundles the app with tsup into
# apps/<app>/dist (workspace packages and third-party code in one file). The runtime stage holds
# that bundle (without source maps), and a node_modules only for what the bundle leaves external
# (Bull Board's packages for the api and the cli), laid out by scripts/docker-prune.ts: no source,
# no dev dependencies, no package manager. The embedded database (PGlite) is not in the images:
# they always run with DATABASE_URL.

# planner | executor | api | cli
ARG APP=planner

FROM node:20-bookworm-slim AS build
ENV CI=true COREPACK_ENABLE_DOWNLOAD_PROMPT=0
RUN corepack enable pnpm && corepack prepare pnpm@10.34.8 --activate
WORKDIR /repo
# Download every package of the lockfile in a layer of its own: it is rebuilt only when the
# lockfile changes, not on every source change.
COPY pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
RUN pnpm fetch
COPY . .
RUN pnpm install --frozen-lockfile --offline
ARG APP
RUN case "${APP}" in planner|executor|api|cli) ;; \
      *) echo "APP must be planner, executor, api or cli, not '${APP}'" >&2; exit 1 ;; esac
RUN pnpm --filter "@agentry/${APP}" build
RUN node --import tsx scripts/docker-prune.ts "apps/${APP}" /out

FROM node:20-bookworm-slim AS runtime
ARG APP
# OCI annotations; CI passes the commit and the version (.github/workflows/deploy.yml).
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG SOURCE=https://github.com/agentry/agentry
LABEL org.opencontainers.image.title="agentry-${APP}" \
      org.opencontainers.image.description="agentry ${APP}: queue-driven worker fleet for LLM-agent work" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.version="${VERSION}"
# tini as PID 1: forwards SIGTERM to node (which drains) and reaps zombies.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 agentry \
 && useradd --system --uid 10001 --gid agentry --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin agentry
WORKDIR /app
# Owned by root and read-only to the app's user; nothing under /app is written at run time.
COPY --from=build /out/ /app/
COPY docker-healthcheck.mjs /app/docker-healthcheck.mjs
ENV NODE_ENV=production AGENTRY_ENV=production
USER 10001:10001
# The app drains in-flight jobs on SIGTERM for AGENTRY_SHUTDOWN_DEADLINE_MS (25 s by default):
# give the container longer than that (docker stop -t, compose stop_grace_period, the pod's
# terminationGracePeriodSeconds).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/main.js"]

# What differs per app: the port it serves and the health check on it.
FROM runtime AS runtime-planner
EXPOSE 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "/app/docker-healthcheck.mjs", "worker"]

FROM runtime AS runtime-executor
EXPOSE 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "/app/docker-healthcheck.mjs", "worker"]

FROM runtime AS runtime-api
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "/app/docker-healthcheck.mjs", "api"]

# The cli runs one-shot commands (migrate up, doctor …) or fake-llm: nothing to probe.
FROM runtime AS runtime-cli
HEALTHCHECK NONE

FROM runtime-${APP}
