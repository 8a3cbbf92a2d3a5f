# wanxiang: one image for the API (`wanxiang serve`) and for workers (`wanxiang worker`).
# Build: docker build -t wanxiang .     Run: docker compose up (see compose.yaml)

# -- build: a virtualenv with wanxiang and its wheels (pyvips-binary and PyAV carry libvips/FFmpeg)
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m venv /opt/wanxiang && /opt/wanxiang/bin/pip install --upgrade pip && /opt/wanxiang/bin/pip install .

# -- run: the system packages the engines use (the same list as `make system-deps`), a non-root user
FROM python:3.11-slim-bookworm
ARG SYSTEM_DEPS="espeak-ng apertium apertium-eng-spa fonts-wqy-microhei fontconfig"
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${SYSTEM_DEPS} \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --create-home wanxiang
COPY --from=build /opt/wanxiang /opt/wanxiang
ENV PATH=/opt/wanxiang/bin:$PATH \
    WANXIANG_DATA_DIR=/data \
    WANXIANG_HOST=0.0.0.0 \
    WANXIANG_PORT=8080 \
    PYTHONUNBUFFERED=1
USER wanxiang
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
# SIGTERM: stop taking requests and claims, let running jobs finish (--shutdown-grace, default
# 30 s), hand the rest back. Give the container more than the grace: docker stop -t 40.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/-/ready', timeout=4).status != 200)"]
ENTRYPOINT ["wanxiang"]
CMD ["serve"]
