# The dealtracker image: the API (gunicorn), the worker and the CLI, run as a non-root user.
# It needs a PostgreSQL server in DATABASE_URL; see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies from pyproject.toml alone (with a stub package), so that a change to
# the code reuses this layer instead of downloading everything again.
COPY pyproject.toml README.md ./
RUN mkdir app && touch app/__init__.py \
    && pip install . \
    && pip uninstall -y dealtracker \
    && rm -rf app build *.egg-info

COPY app ./app
COPY migrations ./migrations
RUN pip install --no-deps . && rm -rf build *.egg-info

# migrations/ lives beside the package, not in it: importing the package from /app
# (rather than site-packages) is what lets Alembic find it.
ENV PYTHONPATH=/app \
    DEALTRACKER_ENV=production \
    PORT=8000 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/dealtracker-metrics

RUN useradd --system --create-home --uid 10001 dealtracker
USER dealtracker

EXPOSE 8000
CMD ["gunicorn", "-c", "python:app.gunicorn_conf", "app:create_app()"]
