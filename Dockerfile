# atone: one image for every role (serve, command, projector, query, migrate).
#   docker build -t atone:local .
# The build needs no protoc: the protos are compiled by protox inside build.rs.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p atone \
 && cp target/release/atone /usr/local/bin/atone

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/atone --create-home atone \
 && install -d -o atone -g atone -m 700 /var/lib/atone/auth
COPY --from=build /usr/local/bin/atone /usr/local/bin/atone
USER atone
# The SQLite default (atone.db) lands here when no database URL is given.
WORKDIR /var/lib/atone
EXPOSE 50051
HEALTHCHECK --interval=5s --timeout=4s --retries=5 CMD ["atone", "healthcheck", "--addr", "127.0.0.1:50051"]
ENTRYPOINT ["atone"]
CMD ["serve", "--listen", "0.0.0.0:50051"]
