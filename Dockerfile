# akar-gate: the screening service with its default model baked in.
# Build: docker build -t akar-gate .   Run: docker run -p 8000:8000 akar-gate
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 akar
WORKDIR /srv/akar-gate

# Dependencies first (from pyproject's pins, with empty packages), so a code change
# does not reinstall them; then the code itself without touching the dependencies.
COPY pyproject.toml README.md ./
RUN mkdir -p app training && touch app/__init__.py training/__init__.py \
    && pip install . && pip uninstall --yes akar-gate && rm -rf app training build
COPY app ./app
COPY training ./training
RUN pip install --no-deps . && rm -rf build

# The model (verified by sha256 at start-up); mount another and set AKAR_MODEL_DIR to change it.
COPY models ./models

USER akar
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
CMD ["python", "-m", "app", "--host", "0.0.0.0", "--port", "8000"]
