"""The daily weather: seasonal, wetter in winter, and the same days whatever the span."""

from __future__ import annotations

from datetime import date

import numpy as np

from baresoil.simulate.weather import simulate_weather


def test_a_longer_span_extends_the_same_weather():
    short = simulate_weather(42, date(2020, 3, 1), date(2022, 12, 31))
    long = simulate_weather(42, date(2020, 3, 1), date(2023, 6, 30))
    assert long.n_days == short.n_days + 181
    for name in ("rain_mm", "temperature_c", "snow_mm", "moisture"):
        np.testing.assert_array_equal(getattr(short, name), getattr(long, name)[: short.n_days], err_msg=name)


def test_winters_are_cold_and_wet_summers_warm():
    weather = simulate_weather(7, date(2020, 1, 1), date(2023, 12, 31))
    months = np.array([d.month for d in weather.dates()])
    winter, summer = np.isin(months, (12, 1, 2)), np.isin(months, (6, 7, 8))
    assert weather.temperature_c[winter].mean() < 2.0 < 15.0 < weather.temperature_c[summer].mean()
    wet_share = (weather.rain_mm > 0).mean()
    assert 0.3 < wet_share < 0.6
    assert (weather.rain_mm[winter] > 0).mean() > (weather.rain_mm[summer] > 0).mean()
    assert weather.snow_mm[summer].max() == 0.0 and weather.snow_mm[winter].max() > 0.0
