# One image per app, all from this file: docker build --build-arg APP=gateway .
# (docker-compose.yml builds every app this way.) APP is a folder under apps/.

# Build stage: the same for every app, so Docker builds it once and reuses it for the others.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Runtime stage: production dependencies, the compiled tree and the launcher that maps the
# @ulo/* aliases onto dist/ (it reads them from tsconfig.json).
FROM node:20-bookworm-slim
ARG APP
ENV NODE_ENV=production \
    APP=${APP}
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json /app/tsconfig.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/scripts/run-node.js ./scripts/run-node.js
RUN test -n "$APP" || { echo "build with --build-arg APP=<folder under apps/>" >&2; exit 1; }; \
    test -f "dist/apps/$APP/src/main.js" || { echo "no compiled entry dist/apps/$APP/src/main.js" >&2; exit 1; }
USER node
EXPOSE 3000
# exec: node receives the stop signal itself (compose adds an init process for reaping).
CMD ["sh", "-c", "exec node scripts/run-node.js \"apps/$APP/src/main\""]
