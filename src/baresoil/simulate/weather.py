"""One daily weather series shared by the whole world: rain, temperature, snow, soil moisture.

The world is a few kilometres wide, so one series is enough; the wetness of the
terrain modulates soil moisture per pixel later (:mod:`.surface`).  Rain comes
from a two-state Markov chain whose wet-day chances rise in autumn, winter and
spring; the topsoil is a bucket filled by rain and snowmelt and emptied by
evaporation that is fast in summer and slow in winter, so wet spells darken
bare soil for days and summer showers dry off quickly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from .fields import rng_for
from .physics import WeatherPhysics


@dataclass(frozen=True)
class Weather:
    """Daily series from ``first`` on, one value per day."""

    first: date
    rain_mm: np.ndarray
    temperature_c: np.ndarray
    snow_mm: np.ndarray
    """Snow water equivalent on the ground (mm)."""
    moisture: np.ndarray
    """Topsoil wetness index, 0 dry … 1 saturated."""

    @property
    def n_days(self) -> int:
        return int(self.rain_mm.size)

    def index(self, day: date) -> int:
        return (day - self.first).days

    @property
    def snow_cover(self) -> np.ndarray:
        """Share of open land under snow: full cover from about 10 mm water equivalent."""
        return np.clip(self.snow_mm / 10.0, 0.0, 1.0)

    def dates(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range(self.n_days)]


def simulate_weather(
    seed: int,
    first: date,
    last: date,
    climate: WeatherPhysics = WeatherPhysics(),  # noqa: B008
) -> Weather:
    """Daily weather from ``first`` to ``last`` (both included).

    Each variable draws from its own generator, one value per day in order, so a longer
    span extends the same weather: the days both spans share are identical.
    """
    n = (last - first).days + 1
    doy = np.array([(first + timedelta(days=i)).timetuple().tm_yday for i in range(n)], dtype=float)
    season = np.cos(2 * np.pi * (doy - 15) / 365.25)  # +1 mid-January, -1 mid-July
    temperature = _temperature(rng_for(seed, "weather", "temperature"), doy, climate)
    wet_days, amounts = rng_for(seed, "weather", "wet-day"), rng_for(seed, "weather", "rain-amount")
    rain = _precipitation(wet_days, amounts, season, climate)
    snow, liquid = _snowpack(rain, temperature)
    moisture = _topsoil_moisture(liquid, season, climate)
    return Weather(
        first,
        rain.astype(np.float32),
        temperature.astype(np.float32),
        snow.astype(np.float32),
        moisture.astype(np.float32),
    )


def _temperature(rng: np.random.Generator, doy: np.ndarray, climate: WeatherPhysics) -> np.ndarray:
    """Mean daily temperature: a seasonal wave (in the demo world −1 °C in January, 18 °C in July)
    plus AR(1) weather."""
    mean = climate.temperature_mean - climate.temperature_amplitude * np.cos(2 * np.pi * (doy - 15) / 365.25)
    anomaly = np.zeros_like(mean)
    shocks = rng.normal(0.0, 2.2, mean.size)
    for i in range(1, mean.size):
        anomaly[i] = 0.82 * anomaly[i - 1] + shocks[i]
    return mean + anomaly


def _precipitation(
    wet_rng: np.random.Generator, amount_rng: np.random.Generator, season: np.ndarray, climate: WeatherPhysics
) -> np.ndarray:
    """Wet/dry Markov chain; wet spells are likelier and longer in the cold half-year (the more so the
    larger ``wet_seasonality``; negative: in the warm half-year)."""
    p_wet_after_dry = np.clip(climate.wet_after_dry + 0.08 * climate.wet_seasonality * season, 0.02, 0.9)
    p_wet_after_wet = np.clip(climate.wet_after_wet + 0.10 * climate.wet_seasonality * season, 0.05, 0.95)
    u = wet_rng.random(season.size)
    amounts = amount_rng.gamma(0.8, climate.rain_scale_mm, season.size)
    wet = np.zeros(season.size, bool)
    for i in range(1, season.size):
        wet[i] = u[i] < (p_wet_after_wet[i] if wet[i - 1] else p_wet_after_dry[i])
    return np.where(wet, amounts, 0.0)


def _snowpack(rain: np.ndarray, temperature: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Snow water equivalent and the liquid water reaching the soil (rain plus melt)."""
    snow = np.zeros_like(rain)
    liquid = np.zeros_like(rain)
    pack = 0.0
    for i in range(rain.size):
        if temperature[i] < 0.5:
            pack += rain[i]
            melt = 0.0
        else:
            melt = min(pack, 3.0 * (temperature[i] - 0.5) + 0.2 * rain[i])
            pack -= melt
            liquid[i] = rain[i]
        liquid[i] += melt
        snow[i] = pack
    return snow, liquid


def _topsoil_moisture(liquid: np.ndarray, season: np.ndarray, climate: WeatherPhysics) -> np.ndarray:
    """A bucket: water fills the remaining room, evaporation empties it (in the demo world e-folding
    3 days in July, 14 in January), so the topsoil stays wet through winter and dries fast in summer."""
    tau = climate.drying_days + 5.5 * (climate.drying_days / 8.5) * season
    keep = np.exp(-1.0 / tau)
    fill = 1.0 - np.exp(-liquid / 8.0)
    m = np.zeros_like(liquid)
    level = 0.4
    for i in range(liquid.size):
        level = level * keep[i]
        level = level + (1.0 - level) * fill[i]
        m[i] = level
    return m
