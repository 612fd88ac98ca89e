# One image per function from one parameterised Dockerfile:
#   docker build --build-arg FUNCTION=route-private -t im-functions/route-private .
# FUNCTION is one of route-private, route-group, fanout-group, persist-offline,
# mark-read, cleanup-expired, or migrate (the chart's migration Job).
#
# The build stage bundles the function with esbuild (build.mjs); the runtime image holds
# only that bundle and the assets it reads at run time (dist/<function>/: index.js, the
# launcher, and bundle.js; package.json; migrate's migrations) on a distroless Node 22
# LTS base, as the non-root user 65532 — no shell, no npm, no node_modules.

ARG NODE_BUILD_IMAGE=node:22-bookworm-slim
ARG NODE_RUNTIME_IMAGE=gcr.io/distroless/nodejs22-debian12:nonroot

FROM ${NODE_BUILD_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY build.mjs tsconfig.json ./
COPY proto ./proto
COPY migrations ./migrations
COPY shared ./shared
COPY functions ./functions
ARG FUNCTION
RUN test -n "${FUNCTION}" || (echo "--build-arg FUNCTION=<name> is required" >&2 && exit 1)
RUN node build.mjs "${FUNCTION}" && test -f "dist/${FUNCTION}/index.js"

FROM ${NODE_RUNTIME_IMAGE}
ARG FUNCTION
LABEL org.opencontainers.image.title="im-functions-${FUNCTION}" \
      org.opencontainers.image.description="IM Functions: ${FUNCTION}" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /app
# Files stay owned by root and read-only for the process: it never writes here.
COPY --from=build /src/dist/${FUNCTION}/ /app/
# The bundle's V8 code cache, /app/index.js.cache (docs/deploy.md, "Cold start"): about
# half of a cold start's CPU is parsing and compiling the bundle. Written here by the
# image's own node because V8 takes a cache only from the same node build and V8 flags
# (heap-size flags in NODE_OPTIONS count: pass the same ones with --build-arg
# NODE_OPTIONS=...). The run compiles the whole bundle, evaluates its modules and starts
# nothing; migrate's bundle exits at once. As root: /app is root's.
ARG NODE_OPTIONS
USER 0
RUN ["/nodejs/bin/node", "/app/index.js", "--write-compile-cache"]
ENV NODE_ENV=production
USER 65532:65532
# HTTP_PORT (health, readiness, metrics, mark-read's API) and GRPC_PORT (route-*).
EXPOSE 8080 9094
ENTRYPOINT ["/nodejs/bin/node", "/app/index.js"]
