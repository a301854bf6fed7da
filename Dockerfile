# akar-gate: the screening service with its default model baked in.
# Build: docker build -t akar-gate .
# Run:   docker run -p 8000:8000 -p 8001:8001 -e AKAR_WORKERS=2 akar-gate
# Another model: docker run -v /srv/models/akar-1.8.0:/models/akar-1.8.0:ro \
#                  -e AKAR_MODEL_DIR=/models/akar-1.8.0 -p 8000:8000 akar-gate
# Checked in CI without an engine: hadolint, and tests/test_container.py runs this CMD from
# the wheel installed in a clean virtual environment.

# --- builder: a virtual environment with the pinned dependencies, then the code as a wheel.
FROM python:3.11-slim AS builder

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/akar-gate/bin:$PATH

RUN python -m venv /opt/akar-gate
WORKDIR /build

# Dependencies first (pyproject's pins, installed with empty packages), so a code change
# does not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir -p app training && touch app/__init__.py training/__init__.py \
    && pip install . && pip uninstall --yes akar-gate && rm -rf app training build
COPY app ./app
COPY training ./training
RUN pip wheel --no-deps --wheel-dir /wheels . && pip install --no-deps /wheels/*.whl

# --- final: the virtual environment and the model, no compilers, no build files, not root.
FROM python:3.11-slim

# AKAR_WORKERS and AKAR_PORT are read by the shell in CMD; each worker holds the model
# (about 270 MB RSS). Metrics of all workers are summed through PROMETHEUS_MULTIPROC_DIR.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/akar-gate/bin:$PATH \
    AKAR_WORKERS=2 \
    AKAR_PORT=8000 \
    AKAR_GRPC_PORT=8001 \
    AKAR_GRPC_HOST=0.0.0.0 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/akar-gate-metrics

RUN useradd --create-home --uid 10001 akar
COPY --from=builder /opt/akar-gate /opt/akar-gate
WORKDIR /srv/akar-gate

# The model (its sha256 is verified at start-up): models/DEFAULT names the one served.
# Mount another and set AKAR_MODEL_DIR to serve it instead.
COPY models ./models

USER 10001
# 8000: HTTP (/v1, /v2, /metrics); 8001: the Open Inference Protocol over gRPC, every worker.
EXPOSE 8000 8001
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["sh", "-c", "python -c \"import sys, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + sys.argv[1] + '/healthz', timeout=2)\" \"${AKAR_PORT:-8000}\""]
# Stale metric files of an earlier run would be summed in: empty the folder first.
CMD ["sh", "-c", "if [ -n \"$PROMETHEUS_MULTIPROC_DIR\" ]; then mkdir -p \"$PROMETHEUS_MULTIPROC_DIR\" && rm -rf \"$PROMETHEUS_MULTIPROC_DIR\"/*; fi; exec python -m app --host 0.0.0.0 --port \"${AKAR_PORT:-8000}\" --workers \"${AKAR_WORKERS:-2}\""]
