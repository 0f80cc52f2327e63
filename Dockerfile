# syntax=docker/dockerfile:1
# seaworthy's container image: one statically linked binary (musl) on an empty base. No shell, no
# package manager, no libc to patch; runs as the non-root user 65532 (the chart's runAsUser) and
# needs nothing writable (the chart mounts the root filesystem read-only).
#
#   docker build -t ghcr.io/seaworthy-dev/seaworthy:0.1.0 \
#     --build-arg SEAWORTHY_COMMIT=$(git rev-parse --short=12 HEAD) \
#     --build-arg SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) .
#
# The release workflow builds the binaries first (cross-compiled, checksummed, with an SBOM) and
# puts the very same files in the image: `--build-arg BINARY=prebuilt` with
# dist/linux-amd64/seaworthy and dist/linux-arm64/seaworthy in the build context.

ARG RUST_VERSION=1.89
# `source` compiles in the build stage below; `prebuilt` copies dist/linux-$TARGETARCH/seaworthy.
ARG BINARY=source

FROM docker.io/library/rust:${RUST_VERSION}-alpine AS source
# musl-dev: the C parts (mimalloc, ring) link statically against musl.
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY . .
ARG SEAWORTHY_COMMIT=unknown
ARG SOURCE_DATE_EPOCH
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    SEAWORTHY_COMMIT="$SEAWORTHY_COMMIT" SOURCE_DATE_EPOCH="$SOURCE_DATE_EPOCH" \
    cargo build --release --locked --bin seaworthy \
 && mkdir -p /out && cp target/release/seaworthy /out/seaworthy

FROM scratch AS prebuilt
ARG TARGETARCH
COPY dist/linux-${TARGETARCH}/seaworthy /out/seaworthy

FROM ${BINARY} AS binary

FROM scratch
ARG VERSION=0.1.0
ARG SEAWORTHY_COMMIT=unknown
ARG CREATED=""
# The labels the OCI image spec recommends (annotations.md, pre-defined annotation keys).
LABEL org.opencontainers.image.title="seaworthy" \
      org.opencontainers.image.description="Kubernetes policy and conformance checker: lint manifests and validate admission with one Rego rule engine" \
      org.opencontainers.image.url="https://github.com/seaworthy-dev/seaworthy" \
      org.opencontainers.image.source="https://github.com/seaworthy-dev/seaworthy" \
      org.opencontainers.image.documentation="https://github.com/seaworthy-dev/seaworthy#readme" \
      org.opencontainers.image.vendor="seaworthy-dev" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${SEAWORTHY_COMMIT}" \
      org.opencontainers.image.created="${CREATED}"
COPY --from=binary /out/seaworthy /usr/local/bin/seaworthy
COPY LICENSE /usr/share/doc/seaworthy/LICENSE
# Numeric, so Kubernetes can check runAsNonRoot without an /etc/passwd.
USER 65532:65532
# The policy cache has nowhere to go on a read-only root and is not needed by `serve`.
ENV SEAWORTHY_NO_CACHE=1
ENTRYPOINT ["/usr/local/bin/seaworthy"]
CMD ["--help"]
