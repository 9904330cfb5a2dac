# One image for every service; the command names the service's app factory, e.g.
#   docker run titp services.inspection.app:create_app
# One process per container: scale out with more containers (one consumer-group member and
# one relay candidate each), not with uvicorn workers.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml requirements.lock ./
COPY shared ./shared
COPY services ./services
COPY contracts ./contracts
COPY tools ./tools
RUN pip install --no-cache-dir -c requirements.lock . && useradd --system --uid 10001 titp \
    && mkdir -p /var/lib/titp && chown titp /var/lib/titp
USER 10001
ENV TITP_HTTP_HOST=0.0.0.0 TITP_HTTP_PORT=8000 TITP_DATA_DIR=/var/lib/titp
EXPOSE 8000
# uvicorn with deadlines for slow clients' headers and bodies (shared/web/serve.py).
ENTRYPOINT ["python", "-m", "shared.web.serve"]
CMD ["services.registry.app:create_app"]
