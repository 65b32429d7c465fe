"""The [metrics] table."""

import pytest

from nyquestro.config.instruments import ConfigError
from nyquestro.config.metrics import MetricsConfig, metrics_from
from nyquestro.config.venue import default_venue


def test_absent_means_off_and_the_default_venue_serves_them_locally() -> None:
    assert metrics_from(None) is None
    assert default_venue().metrics == MetricsConfig(port=9882, host="127.0.0.1")
    assert default_venue({"NYQUESTRO_METRICS__PORT": "9999"}).metrics == MetricsConfig(port=9999)


@pytest.mark.parametrize(
    ("table", "field", "expected"),
    [
        ({}, "metrics.port", "port number"),
        ({"port": "9882"}, "metrics.port", "port number"),
        ({"port": 1, "host": ""}, "metrics.host", "host"),
        ({"port": 1, "path": "/m"}, "metrics.path", "a known field"),
        ([], "metrics", "a table"),
    ],
)
def test_errors_name_field_value_and_expectation(table: object, field: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        metrics_from(table)
    assert caught.value.field == field
    assert expected in caught.value.expected
