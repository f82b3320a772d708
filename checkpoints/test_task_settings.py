"""Checkpoint task-settings: configuration from the environment, and .env.example (step 2.8)."""

import pytest
from pydantic import SecretStr, ValidationError


@pytest.fixture
def settings_module(load_service, monkeypatch, tmp_path):
    """The settings module, read in an empty folder with none of its variables set."""
    import os

    for name in list(os.environ):
        if name.startswith(("TASK_SERVICE_", "OTEL_")) or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return load_service("task-service", "src.config.settings")


def test_defaults_need_no_configuration(settings_module):
    """with no environment at all, the service runs on embedded SQLite"""
    settings = settings_module.Settings()
    assert settings.database_url.get_secret_value().startswith("sqlite:///")
    assert settings.cors_origins and "*" not in settings.cors_origins
    assert settings.db_pool_size >= 1


def test_every_setting_typed_and_documented(settings_module):
    """every setting has a type annotation and a description"""
    for name, field in settings_module.Settings.model_fields.items():
        assert field.annotation is not None, name
        assert (field.description or "").strip(), f"{name} has no description"


def test_environment_names(settings_module, monkeypatch):
    """TASK_SERVICE_* for the app's own settings; DATABASE_URL and OTEL_* as they are"""
    monkeypatch.setenv("TASK_SERVICE_DB_POOL_SIZE", "7")
    monkeypatch.setenv("TASK_SERVICE_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("DATABASE_URL", "sqlite:///from-env.db")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "tasks-from-env")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "0.25")
    settings = settings_module.Settings()
    assert settings.db_pool_size == 7 and settings.log_level == "DEBUG"
    assert settings.database_url.get_secret_value() == "sqlite:///from-env.db"
    assert settings.otel_service_name == "tasks-from-env"
    assert settings.otel_exporter_otlp_endpoint == "http://collector:4318"
    assert settings.otel_sample_ratio == 0.25


def test_dotenv_file_read_and_environment_wins(settings_module, monkeypatch, tmp_path):
    """a .env file in the working folder is read; a real environment variable wins over it"""
    (tmp_path / ".env").write_text("TASK_SERVICE_APP_NAME=from-dotenv\nTASK_SERVICE_DB_POOL_SIZE=3\n")
    monkeypatch.setenv("TASK_SERVICE_DB_POOL_SIZE", "9")
    settings = settings_module.Settings()
    assert settings.app_name == "from-dotenv" and settings.db_pool_size == 9


def test_database_url_is_secret(settings_module):
    """the database URL is a SecretStr: its password never shows in reprs or logs"""
    settings = settings_module.Settings(database_url="postgresql+psycopg://app:s3cret@db/tasks")
    assert isinstance(settings.database_url, SecretStr)
    assert "s3cret" not in repr(settings) and "s3cret" not in str(settings.model_dump())


def test_env_example_matches_settings(settings_module, env_example_mismatch):
    """.env.example lists exactly the variables Settings reads"""
    missing, unknown = env_example_mismatch("task-service")
    assert not missing and not unknown, f"missing: {missing}, unknown: {unknown}"


def test_cors_origins_comma_separated(settings_module, monkeypatch):
    """TASK_SERVICE_CORS_ORIGINS accepts comma-separated origins, trimmed, without trailing slash"""
    monkeypatch.setenv("TASK_SERVICE_CORS_ORIGINS", " https://a.example/ ,https://b.example,")
    assert settings_module.Settings().cors_origins == ["https://a.example", "https://b.example"]


def test_cors_origins_list_cleaned(settings_module):
    """a list of origins is cleaned the same way: trimmed, without trailing slash, no empty entries"""
    given = [" https://a.example/ ", "", "  ", "https://b.example"]
    cleaned = settings_module.Settings(cors_origins=given).cors_origins
    assert cleaned == [
        "https://a.example",
        "https://b.example",
    ], f"Settings(cors_origins={given}) kept {cleaned}"


def test_wildcard_with_credentials_refused(settings_module, monkeypatch):
    """a wildcard origin, alone or beside others, is refused while credentials are allowed, saying why"""
    for origins in (["*"], ["https://a.example", "*"]):
        with pytest.raises(ValidationError) as refused:
            settings_module.Settings(cors_origins=origins)
        messages = [problem["msg"] for problem in refused.value.errors()]
        assert any(
            "wildcard" in message.lower() for message in messages
        ), f"cors_origins={origins} was refused with {messages}: the message must name the wildcard"
    monkeypatch.setenv("TASK_SERVICE_CORS_ORIGINS", "https://a.example, *")
    with pytest.raises(ValidationError):
        settings_module.Settings()
    monkeypatch.delenv("TASK_SERVICE_CORS_ORIGINS")
    relaxed = settings_module.Settings(cors_origins=["*"], cors_allow_credentials=False)
    assert relaxed.cors_origins == ["*"]


def test_postgres_urls_use_psycopg(settings_module, monkeypatch):
    """postgres:// and postgresql:// URLs are read as postgresql+psycopg://"""
    for given in ["postgres://u:p@db:5432/tasks", "postgresql://u:p@db:5432/tasks"]:
        monkeypatch.setenv("DATABASE_URL", given)
        url = settings_module.Settings().database_url.get_secret_value()
        assert url == "postgresql+psycopg://u:p@db:5432/tasks"
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u:p@db/tasks")
    assert settings_module.Settings().database_url.get_secret_value() == "postgresql+psycopg://u:p@db/tasks"
