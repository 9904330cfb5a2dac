# One image for every service; the command chooses which (see docker-compose.yml).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml requirements.lock ./
COPY shared ./shared
COPY services ./services
RUN pip install --no-cache-dir -c requirements.lock . && useradd --system titp
USER titp
ENV TITP_HTTP_HOST=0.0.0.0
EXPOSE 8000
CMD ["sh", "-c", "exec uvicorn services.${TITP_SERVICE}.app:create_app --factory --host 0.0.0.0 --port 8000"]
