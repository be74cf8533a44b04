"""Settings shared by every environment. Secrets and locations come from the environment."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parents[2]  # src/zhixiao
DATA_DIR = Path(os.environ.get("ZHIXIAO_DATA_DIR", Path.cwd() / "var")).resolve()

SECRET_KEY = os.environ.get("ZHIXIAO_SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = [h for h in os.environ.get("ZHIXIAO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",  # /api/docs from the Swagger UI files django-ninja ships, not from a CDN
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "simple_history",
    "django_tasks",
    "django_tasks_db",
    "zhixiao.kernel",
    "zhixiao.notifications",
    "zhixiao.identity",
    "zhixiao.org",
    "zhixiao.people",
    "zhixiao.workflow",
    "zhixiao.devices",
    "zhixiao.faces",
    "zhixiao.attendance",
    "zhixiao.office",
    "zhixiao.timetable",
    "zhixiao.omr",
    "zhixiao.academics",
    "zhixiao.portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "zhixiao.kernel.locale.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "zhixiao.kernel.tenancy.TenancyMiddleware",
    "zhixiao.identity.middleware.AccountPolicyMiddleware",
    # axes last, as its documentation asks
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "zhixiao.config.urls"
WSGI_APPLICATION = "zhixiao.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "zhixiao.portal.context_processors.navigation",
                "zhixiao.notifications.context_processors.inbox",
            ],
        },
    },
]

# --- database: SQLite (WAL) in the data directory unless DATABASE_URL says otherwise ---------------
_default_sqlite = f"sqlite:///{DATA_DIR / 'zhixiao.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL", _default_sqlite), conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- identity ---------------------------------------------------------------------------------------
AUTH_USER_MODEL = "identity.Account"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "zhixiao.identity.backends.LoginNameBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "zhixiao.identity.validators.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "zhixiao.identity.validators.CharacterClassValidator"},
]
LOGIN_URL = "identity:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "identity:login"

# 等保2.0 level 3: lock out after repeated failures, expire idle sessions.
AXES_FAILURE_LIMIT = int(os.environ.get("ZHIXIAO_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.5  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
# A whole school often shares one NAT address: locking by IP would lock every teacher out at once.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "zhixiao.identity.views.locked_out"  # a page for people, JSON for the API
AXES_VERBOSE = False
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
SESSION_COOKIE_AGE = int(os.environ.get("ZHIXIAO_IDLE_MINUTES", "30")) * 60
SESSION_SAVE_EVERY_REQUEST = True  # idle expiry: every request pushes the deadline forward
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
OTP_TOTP_ISSUER = "智校 zhixiao"
API_TOKEN_MAX_AGE = 3600  # seconds; bearer tokens from /api/v1/auth/token

# --- i18n: zh-Hans by default, English switchable -----------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- static files: served by the app itself (whitenoise); no CDN ---------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]  # the site's own stylesheet lives outside any app
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- background jobs ------------------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- notifications: e-mail (SMTP), SMS provider, delivery policy ---------------------------------------
EMAIL_BACKEND = os.environ.get("ZHIXIAO_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("ZHIXIAO_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("ZHIXIAO_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("ZHIXIAO_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("ZHIXIAO_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("ZHIXIAO_EMAIL_TLS", "") == "1"
EMAIL_USE_SSL = os.environ.get("ZHIXIAO_EMAIL_SSL", "") == "1"
EMAIL_TIMEOUT = int(os.environ.get("ZHIXIAO_EMAIL_TIMEOUT", "30"))
DEFAULT_FROM_EMAIL = os.environ.get("ZHIXIAO_EMAIL_FROM", "zhixiao@localhost")
ZHIXIAO_MAIL_DOMAIN = os.environ.get("ZHIXIAO_MAIL_DOMAIN", "zhixiao.local")  # right-hand side of Message-IDs
ZHIXIAO_SITE_URL = os.environ.get("ZHIXIAO_SITE_URL", "")  # links in e-mails, SMS and robot messages
ZHIXIAO_SMS_PROVIDER = os.environ.get("ZHIXIAO_SMS_PROVIDER", "zhixiao.notifications.channels.HttpSmsProvider")
ZHIXIAO_SMS_URL = os.environ.get("ZHIXIAO_SMS_URL", "")
ZHIXIAO_SMS_SECRET = os.environ.get("ZHIXIAO_SMS_SECRET", "")
ZHIXIAO_SMS_SIGN_NAME = os.environ.get("ZHIXIAO_SMS_SIGN_NAME", "智校")
ZHIXIAO_NOTIFY_MAX_ATTEMPTS = int(os.environ.get("ZHIXIAO_NOTIFY_MAX_ATTEMPTS", "5"))
ZHIXIAO_NOTIFY_BACKOFF_SECONDS = int(os.environ.get("ZHIXIAO_NOTIFY_BACKOFF_SECONDS", "30"))  # doubles per attempt
ZHIXIAO_NOTIFY_LEASE_SECONDS = int(os.environ.get("ZHIXIAO_NOTIFY_LEASE_SECONDS", "120"))
ZHIXIAO_NOTIFY_ROBOT_MAX_WAIT_SECONDS = int(os.environ.get("ZHIXIAO_NOTIFY_ROBOT_MAX_WAIT", "900"))

# --- uploads: refuse oversized files early ------------------------------------------------------------
ZHIXIAO_MAX_UPLOAD_BYTES = int(os.environ.get("ZHIXIAO_MAX_UPLOAD_MB", "20")) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

NINJA_PAGINATION_PER_PAGE = 50

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
CSRF_COOKIE_HTTPONLY = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("ZHIXIAO_LOG_LEVEL", "WARNING")},
}
