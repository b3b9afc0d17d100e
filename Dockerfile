# The bot in HTTP mode by default (the Procfile's web: line); `docker run IMAGE run` starts Socket Mode.
#   docker build -t yunxin-conversation-bot .
#   docker run --rm -p 3000:3000 --env-file .env yunxin-conversation-bot
# Settings come from the environment (see .env.example); nothing secret is baked into the image.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# The dependencies at the versions CI tested (constraints.txt), installed into a venv the next stage copies.
COPY pyproject.toml README.md LICENSE constraints.txt ./
COPY bot/ bot/
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --constraint constraints.txt .

FROM python:3.11-slim
# A fixed, unprivileged ID: Kubernetes' runAsNonRoot can check a numeric user.
RUN groupadd --system --gid 10001 bot \
    && useradd --system --uid 10001 --gid bot --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin bot
COPY --from=build /opt/venv /opt/venv
COPY deploy/healthcheck.py deploy/docker-entrypoint.sh /app/
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PORT=3000
WORKDIR /app
USER 10001:10001
EXPOSE 3000
# /livez: the process answers. (Socket Mode has an HTTP port only when METRICS_PORT is set, which the
# check then asks; without it run the container with --no-healthcheck.)
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["python", "/app/healthcheck.py", "/livez"]
ENTRYPOINT ["/app/docker-entrypoint.sh"]
# The Procfile's web: line, word for word; exec makes uvicorn PID 1, so it gets SIGTERM and drains.
CMD ["sh", "-c", "exec uvicorn bot.slack.web:create_asgi_app --factory --host 0.0.0.0 --port ${PORT:-3000} --http bot.slack.server:GuardedProtocol"]
