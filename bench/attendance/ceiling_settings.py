"""Bench-only settings: the product's local settings with the bench urlconf (the site plus two do-nothing
django-ninja endpoints, the framework's ceiling), so both are served by the same gunicorn in the same run.
Used by bench_gates.py through DJANGO_SETTINGS_MODULE=ceiling_settings and PYTHONPATH=bench/attendance."""

from zhixiao.config.settings.local import *  # noqa: F403

ROOT_URLCONF = "ceiling_urls"
