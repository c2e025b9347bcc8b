# xsell image: the `xsell` command (worker, topics, replay, neighbors, ...): the product only;
# the harness (demo, eval, bench, chaos ...) is not in the wheel (docs/architecture.md).
#   docker build -t xsell:local .
#   docker run --rm xsell:local --help

# --- build: a wheel of xsell only (dependencies come from PyPI in the final stage) -----------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . .
RUN pip wheel --no-deps --wheel-dir /wheels .

# --- runtime -----------------------------------------------------------------------------------
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels
# Non-root; the working directory is writable because Faust keeps its data directory there.
RUN useradd --create-home --home-dir /app --uid 10001 --shell /usr/sbin/nologin xsell
USER xsell
WORKDIR /app
ENTRYPOINT ["xsell"]
CMD ["--help"]
