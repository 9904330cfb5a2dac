import pytest

from shared.settings import InvalidSettings, load_settings


def test_defaults_follow_the_service(monkeypatch):
    monkeypatch.delenv("TITP_DATA_DIR", raising=False)  # `make test` sets it: the suite's stack of its own
    monkeypatch.delenv("TITP_KAFKA_BOOTSTRAP_SERVERS", raising=False)  # `stack.sh env` sets it too
    settings = load_settings("inspection")

    assert settings.database_url == "postgresql://titp:titp@127.0.0.1:5432/titp_inspection"
    assert settings.http_port == 8003
    assert settings.kafka_bootstrap_servers == "127.0.0.1:9092"
    assert settings.auth_jwks_url.startswith("file:///") and settings.auth_jwks_url.endswith(
        "/.data/dev-keys/jwks.json"
    )
    assert settings.auth_algorithms == ["RS256", "EdDSA", "ES256"]
    assert settings.auth_hs256_secret is None
    assert settings.log_json is True
    assert settings.max_request_bytes == 1024 * 1024


@pytest.mark.parametrize(
    ("service", "port"), [("registry", 8001), ("accreditation", 8002), ("inspection", 8003), ("visa", 8004)]
)
def test_each_service_has_its_own_port(service, port):
    assert load_settings(service).http_port == port


def test_environment_overrides_defaults_and_keyword_overrides_environment(monkeypatch):
    monkeypatch.setenv("TITP_HTTP_PORT", "9001")
    monkeypatch.setenv("TITP_AUTH_ALGORITHMS", "EdDSA, RS256")
    monkeypatch.setenv("TITP_LOG_LEVEL", "debug")
    monkeypatch.setenv("TITP_DATA_DIR", "/srv/titp")

    settings = load_settings("visa", http_port=9100)

    assert settings.http_port == 9100
    assert settings.auth_algorithms == ["EdDSA", "RS256"]
    assert settings.log_level == "DEBUG"
    assert settings.auth_jwks_url == "file:///srv/titp/dev-keys/jwks.json"


def test_a_bad_port_is_refused_naming_the_variable(monkeypatch):
    monkeypatch.setenv("TITP_HTTP_PORT", "70000")

    with pytest.raises(InvalidSettings) as refused:
        load_settings("registry")

    assert "TITP_HTTP_PORT" in str(refused.value)
    assert "65535" in str(refused.value)


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("database_url", "mysql://titp:titp@127.0.0.1/titp", "URL scheme"),
        ("database_url", "not a url", "TITP_DATABASE_URL"),
        ("auth_jwks_url", "ftp://keys.example/jwks.json", "http(s):// or file://"),
        ("auth_jwks_url", "keys.json", "TITP_AUTH_JWKS_URL"),
        ("kafka_bootstrap_servers", "localhost", "host:port"),
        ("auth_algorithms", ["none"], "HS256 is enabled only"),
        ("auth_algorithms", ["HS256"], "TITP_AUTH_HS256_SECRET"),
        ("auth_hs256_secret", "short", "at least 32 bytes"),
        ("otel_exporter", "jaeger", "TITP_OTEL_EXPORTER"),
        ("relay_poll_interval_s", 0, "greater than 0"),
        ("relay_linger_s", -0.001, "greater than or equal to 0"),
        ("relay_linger_s", 5, "less than or equal to 1"),
        ("consumer_max_retries", -1, "greater than or equal to 0"),
        ("service_name", "registry", "Extra inputs are not permitted"),
    ],
)
def test_a_bad_value_is_refused_with_a_clear_message(field, value, says):
    with pytest.raises(InvalidSettings) as refused:
        load_settings("registry", **{field: value})

    assert says in str(refused.value)


def test_an_unknown_service_is_refused():
    with pytest.raises(InvalidSettings, match="'registry', 'accreditation', 'inspection' or 'visa'"):
        load_settings("payroll")


def test_passwords_are_not_echoed_in_the_error():
    with pytest.raises(InvalidSettings) as refused:
        load_settings("registry", database_url="mysql://titp:hunter2@db/titp", auth_hs256_secret="hunter2")

    assert "hunter2" not in str(refused.value)


def test_the_hs256_secret_stays_secret():
    settings = load_settings("registry", auth_hs256_secret="x" * 32)

    assert "x" * 32 not in repr(settings)
    assert settings.auth_hs256_secret.get_secret_value() == "x" * 32


def test_migrations_run_as_the_owner_and_grant_the_service_role():
    app, owner = "postgresql://titp_app:a@db/titp_visa", "postgresql://titp_owner:o@db/titp_visa"
    settings = load_settings("visa", database_url=app, migration_database_url=owner)
    assert (settings.migration_url(), settings.app_role()) == (owner, "titp_app")
    named = load_settings("visa", database_url=app, migration_database_url=owner, database_app_role="svc")
    assert named.app_role() == "svc"
    # One role for everything (a dev database): it migrates, and grants nothing to itself.
    alone = load_settings("visa", database_url=app)
    assert (alone.migration_url(), alone.app_role()) == (app, None)


def test_a_bad_migration_url_is_named_without_its_password():
    with pytest.raises(InvalidSettings) as refused:
        load_settings("visa", migration_database_url="mysql://titp_owner:hunter2@db/titp_visa")
    assert "TITP_MIGRATION_DATABASE_URL" in str(refused.value) and "hunter2" not in str(refused.value)


# Traces: the standard OpenTelemetry variables win over TITP_* when set; a keyword override wins over both.

OTEL_VARIABLES = (
    "OTEL_TRACES_EXPORTER",
    "OTEL_SERVICE_NAME",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTEL_SDK_DISABLED",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
)


@pytest.fixture
def no_otel(monkeypatch):
    for name in OTEL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_standard_otel_variables_win_over_titp_ones(no_otel):
    no_otel.setenv("TITP_OTEL_EXPORTER", "console")
    no_otel.setenv("TITP_OTEL_SAMPLE_RATIO", "0.5")
    no_otel.setenv("TITP_OTEL_SERVICE_NAME", "titp-side")
    settings = load_settings("registry")
    assert (settings.otel_exporter, settings.otel_sample_ratio, settings.otel_service_name) == (
        "console",
        0.5,
        "titp-side",
    )
    assert settings.otel_sampler == "parentbased_traceidratio"

    no_otel.setenv("OTEL_TRACES_EXPORTER", "otlp")
    no_otel.setenv("OTEL_TRACES_SAMPLER", "traceidratio")
    no_otel.setenv("OTEL_TRACES_SAMPLER_ARG", "0.125")
    no_otel.setenv("OTEL_SERVICE_NAME", "registry-eu")
    settings = load_settings("registry")
    assert (settings.otel_exporter, settings.otel_sampler, settings.otel_sample_ratio, settings.otel_service_name) == (
        "otlp",
        "traceidratio",
        0.125,
        "registry-eu",
    )
    # Check: an explicit override (tests, tools) wins over both.
    assert load_settings("registry", otel_exporter="memory").otel_exporter == "memory"
    # Check: an empty standard variable counts as unset.
    no_otel.setenv("OTEL_TRACES_EXPORTER", "")
    assert load_settings("registry").otel_exporter == "console"


def test_otel_sdk_disabled_means_no_exporter(no_otel):
    no_otel.setenv("TITP_OTEL_EXPORTER", "otlp")
    no_otel.setenv("OTEL_SDK_DISABLED", "true")
    assert load_settings("registry").otel_exporter == "none"


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("OTEL_TRACES_EXPORTER", "zipkin", "otel_exporter (OTEL_TRACES_EXPORTER): Input should be 'none', 'console'"),
        ("OTEL_TRACES_EXPORTER", "otlp,console", "(OTEL_TRACES_EXPORTER)"),
        ("OTEL_TRACES_SAMPLER", "jaeger_remote", "otel_sampler (OTEL_TRACES_SAMPLER): Input should be 'always_on'"),
        ("OTEL_TRACES_SAMPLER_ARG", "2", "otel_sample_ratio (OTEL_TRACES_SAMPLER_ARG): Input should be less than"),
        ("OTEL_SERVICE_NAME", " ", None),  # blank: unset, the default applies
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", "(OTEL_EXPORTER_OTLP_PROTOCOL): Input should be 'http/protobuf'"),
    ],
)
def test_a_bad_standard_variable_is_refused_naming_it(no_otel, variable, value, says):
    no_otel.setenv(variable, value)
    if says is None:
        assert load_settings("registry").otel_service_name is None
        return
    with pytest.raises(InvalidSettings) as refused:
        load_settings("registry")
    assert says in str(refused.value)
