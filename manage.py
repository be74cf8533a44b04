#!/usr/bin/env python
"""Django's manage.py, for developers; users run the `zhixiao` command."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhixiao.config.settings.local")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
