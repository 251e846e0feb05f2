"""FCOVER (fraction of vegetation cover) from Sentinel-2: the SNAP S2 Toolbox biophysical network.

The network of the Sentinel-2 Toolbox biophysical processor (Weiss & Baret, ATBD
"S2ToolBox Level 2 products: LAI, FAPAR, FCOVER", version 3.0 coefficients for S2A,
the set Sen4CAP's markers use): 11 inputs — surface reflectance of B03, B04, B05,
B06, B07, B8A, B11, B12 and the cosines of the view zenith, the sun zenith and the
relative azimuth — each normalised to [−1, 1] by the training database's range,
one hidden layer of 5 tansig (tanh) neurons, a linear output neuron, and the
output denormalised from [−1, 1] to FCOVER.  The coefficients below are the
published ones; the unit tests check them against the toolbox's published test
cases (``FCOVER_TestCases``: inputs and expected output per row).

Outputs slightly outside the valid range [0, 1] are clamped to it; outputs
further away than :data:`OUTPUT_TOLERANCE` (inputs the network was not trained
for, e.g. water or cloud) are NaN.

Angles: the observation cube carries the scene's sun elevation but no view
angles, so :func:`fcover_nadir` assumes a nadir view (cos view zenith = 1, at the
top of the training range) and a relative azimuth of 90° (cos = 0, the centre
of its range: at nadir the azimuth has no physical effect).
"""

from __future__ import annotations

import numpy as np

INPUT_BANDS: tuple[str, ...] = ("B03", "B04", "B05", "B06", "B07", "B8A", "B11", "B12")
"""Reflectance inputs, in the network's order (then cos view zenith, cos sun zenith, cos rel. azimuth)."""

# Input normalisation: training-database minimum and maximum of each of the 11 inputs.
INPUT_MIN = np.array([0.0, 0.0, 0.0, 0.00871736433031, 0.0196931604306, 0.0262178282821, 0.0189319348944,
                      0.0, 0.979624800125, 0.342108564072, -0.999999998674])  # fmt: skip
INPUT_MAX = np.array([0.239015274639, 0.291727364715, 0.326526714593, 0.593890391037, 0.746690992721,
                      0.758239377971, 0.492933719058, 0.48774992171, 0.999999999969, 0.927484749175,
                      0.999999999887])  # fmt: skip
# Hidden layer: 5 neurons x 11 inputs, and their biases.
W1 = np.array(
    [
        [
            -0.09299549787532572,
            0.03711751310275837,
            0.35917948087916934,
            -2.0327599053936245,
            -0.3004739931440174,
            5.081364269387806,
            -0.5509229514856009,
            -1.8459014400791363,
            0.04210879716286216,
            -0.1433820536680042,
            -0.0919637992244123,
        ],
        [
            0.17782538722557306,
            -0.3793824396587722,
            -0.18316058499587165,
            -0.8546862528226032,
            -0.07553090207841909,
            2.1968612305059834,
            -0.1734580018542482,
            -0.89158072360678,
            0.017977829778812265,
            0.19161704265110313,
            -0.020341567456493917,
        ],
        [
            -0.8964833683739212,
            -0.6038768961220443,
            -0.5995953059405849,
            -0.15212446911598965,
            0.3889544003539062,
            1.9871015442471918,
            -0.9746781245763875,
            -0.28459612830995773,
            -0.7195016395928718,
            0.4628341672035696,
            1.652035259226453,
        ],
        [
            -0.15296262636768043,
            0.17628558201043018,
            0.11212126329600514,
            1.5711153194443364,
            0.5209619736717268,
            -3.068192837466073,
            0.1483332044127799,
            1.2331177561153577,
            -0.02091226761957991,
            -0.23041694611129848,
            0.0031568086031440803,
        ],
        [
            1.7234228895153363,
            -2.906528582039084,
            -1.3938598383149996,
            -1.6262956756929428,
            0.3326361580291295,
            -0.8862583674506147,
            -0.2185426118098439,
            0.5660635905206617,
            -0.09949171171933309,
            -0.35271418843339297,
            0.06514559686105968,
        ],
    ]
)
B1 = np.array([-1.88600728336, -0.024986196419, 0.295104856285, 0.00293009964996, -3.35944991107])
# Output neuron (linear): weights of the 5 hidden neurons and bias.
W2 = np.array([0.21418510066217855, 2.354410480678047, 0.039929632100371135, 1.5480571230482811,
               -0.11310020940549115])  # fmt: skip
B2 = -0.15076057408085747
OUTPUT_MIN, OUTPUT_MAX = 0.0001143371095669865, 0.9994883064311412
"""Denormalisation range of the output neuron."""
VALID_RANGE = (0.0, 1.0)
OUTPUT_TOLERANCE = 0.1
"""Outputs within this distance outside the valid range are clamped to it, others are NaN."""
NADIR_COS_RELATIVE_AZIMUTH = 0.0


def fcover(
    B03: np.ndarray,
    B04: np.ndarray,
    B05: np.ndarray,
    B06: np.ndarray,
    B07: np.ndarray,
    B8A: np.ndarray,
    B11: np.ndarray,
    B12: np.ndarray,
    cos_view_zenith: np.ndarray | float,
    cos_sun_zenith: np.ndarray | float,
    cos_relative_azimuth: np.ndarray | float,
) -> np.ndarray:
    """FCOVER (0 … 1, float32) of surface reflectance (0 … 1) and geometry; NaN propagates.

    All arguments broadcast together (e.g. bands (time, pixel) and angles (time, 1)).
    The hidden layer is accumulated input by input in float32, so memory stays at
    about six arrays of the output's size however many inputs there are.
    """
    inputs = (B03, B04, B05, B06, B07, B8A, B11, B12, cos_view_zenith, cos_sun_zenith, cos_relative_azimuth)
    shape = np.broadcast_shapes(*(np.shape(v) for v in inputs))
    hidden = np.empty((W1.shape[0], *shape), dtype=np.float32)
    hidden[:] = B1.reshape(-1, *([1] * len(shape)))
    for j, value in enumerate(inputs):
        span = INPUT_MAX[j] - INPUT_MIN[j]
        normalised = (2.0 / span) * (np.asarray(value, dtype=np.float32) - np.float32(INPUT_MIN[j])) - 1.0
        for k in range(W1.shape[0]):
            hidden[k] += np.float32(W1[k, j]) * normalised
    output = np.full(shape, B2, dtype=np.float32)
    for k in range(W1.shape[0]):
        output += np.float32(W2[k]) * np.tanh(hidden[k])
    value = 0.5 * (output + 1.0) * (OUTPUT_MAX - OUTPUT_MIN) + OUTPUT_MIN
    return _clamp(value).astype(np.float32)


def fcover_nadir(bands: dict[str, np.ndarray], sun_elevation_deg: np.ndarray | float) -> np.ndarray:
    """FCOVER with a nadir view and the scene's sun elevation (see the module docstring).

    ``bands`` maps the names of :data:`INPUT_BANDS` to reflectance arrays;
    ``sun_elevation_deg`` broadcasts against them (e.g. shape (time, 1)).
    """
    cos_sun_zenith = np.sin(np.radians(np.asarray(sun_elevation_deg, dtype=np.float64)))
    B03, B04, B05, B06, B07, B8A, B11, B12 = (bands[b] for b in INPUT_BANDS)
    return fcover(B03, B04, B05, B06, B07, B8A, B11, B12, 1.0, cos_sun_zenith, NADIR_COS_RELATIVE_AZIMUTH)


def _clamp(value: np.ndarray) -> np.ndarray:
    low, high = VALID_RANGE
    with np.errstate(invalid="ignore"):
        outside = (value < low - OUTPUT_TOLERANCE) | (value > high + OUTPUT_TOLERANCE)
        return np.where(outside, np.nan, np.clip(value, low, high))
