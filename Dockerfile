# homelab-hub container image: a wheel built in the first stage, installed into a slim runtime as a non-root user.
# BASE picks the Python base image; scripts/test-image passes a locally built Debian one where none can be pulled.
ARG BASE=python:3.12-slim

FROM ${BASE} AS build
WORKDIR /src
RUN python3 -m venv /opt/build && /opt/build/bin/pip install --no-cache-dir --quiet setuptools wheel
COPY pyproject.toml README.md ./
COPY hub ./hub
COPY integrations ./integrations
# hub/www links to www/: the wheel carries the dashboard as package data.
COPY www ./www
RUN /opt/build/bin/pip wheel --no-cache-dir --quiet --wheel-dir /wheels '.[postgres]'

FROM ${BASE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="homelab-hub" \
      org.opencontainers.image.description="Monitoring hub for homelabs that speaks Home Assistant's protocols" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT"
COPY --from=build /wheels /tmp/wheels
RUN python3 -m venv /opt/hub \
    && /opt/hub/bin/pip install --no-cache-dir --quiet --no-index --find-links /tmp/wheels 'homelab-hub[postgres]' \
    && rm -rf /tmp/wheels \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin hub \
    && mkdir -p /config /data \
    && chown hub /data
COPY deploy/container/hub.yaml /config/hub.yaml
ENV PATH=/opt/hub/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HUB_PROCFS=/proc
USER hub
WORKDIR /data
VOLUME ["/config", "/data"]
EXPOSE 8130
# Asks the hub where its config says it listens (HUB_HTTP_HOST/HUB_HTTP_PORT included): healthy only when RUNNING.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["homelab-hub", "health", "-c", "/config"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["homelab-hub"]
CMD ["run", "-c", "/config"]
