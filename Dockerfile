# One image for every Fleetcore process; the command picks the service:
#   node bin/fleetcore.js inventory|updater|config|discovery|gateway
#   node bin/fleet-agent.js run --config /etc/fleet-agent/config.yaml
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY apps apps
COPY libs libs
COPY bench bench
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    NODE_OPTIONS=--import=/app/dist/libs/telemetry/src/otel.js
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY bin bin
USER node
ENTRYPOINT ["node"]
CMD ["bin/fleetcore.js", "--help"]
