"""Train the parcels' residue veto (``products/parcels/residue.py``) on the tuning worlds.

    python benchmarks/train_residue_veto.py [--markers-cache DIR] [--out PATH] [--leave-one-out]

For every tuning world (never a held-out one): the markers table of its parcels at 10 m, 2021–2022
(optical), each mostly clear view's features (``residue.view_features``, computed over all the
world's views as the product computes them over a run's) and the truth of that day (the parcel is a
bare day as the scoring contract defines it: ``truth/parcel_daily.parquet``).  Gradient-boosted trees
(scikit-learn's ``HistGradientBoostingClassifier``, fixed seed) learn the bare day from the
features, and their nodes are written as plain arrays (``kernels.trees``).  With ``--leave-one-out``
the script first prints, per world, the view-level F1 of the trees trained on the other worlds
against that of the cover classifier alone.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from baresoil.config import Config  # noqa: E402
from baresoil.kernels.trees import ensemble_arrays, from_gradient_boosting  # noqa: E402
from baresoil.products.parcels.bare_periods import _mostly_clear, wide_means  # noqa: E402
from baresoil.products.parcels.residue import BANDS, FEATURES, MODEL, view_features  # noqa: E402
from worlds import TUNING, World, ensure  # noqa: E402

OUT = HERE.parent / "src" / "baresoil" / "products" / "parcels" / MODEL
ITERATIONS, SEED = 200, 0


def markers_of(world: World, cache: Path | None) -> pd.DataFrame:
    stored = cache / f"markers_{world.name}.pkl" if cache else None
    if stored is not None and stored.exists():
        with stored.open("rb") as file:
            return pickle.load(file).markers
    from bench_parcel_analytics import prepare

    inputs = prepare(ensure(world), 10.0, with_s1=False)  # the parcels product's own cube
    if stored is not None:
        stored.parent.mkdir(parents=True, exist_ok=True)
        with stored.open("wb") as file:
            pickle.dump(inputs, file)
    return inputs.markers


def world_views(world: World, cache: Path | None) -> pd.DataFrame:
    """Features and truth of every mostly clear view of the world's parcels."""
    markers = markers_of(world, cache)
    share = Config().parcels.bs_min_clear_share
    views = _mostly_clear(wide_means(markers, "S2", ["NDVI", "NDTI", *BANDS]), share).reset_index(drop=True)
    features = pd.DataFrame(view_features(views), columns=list(FEATURES))
    features["parcel_id"] = views["parcel_id"].to_numpy()
    features["date"] = pd.to_datetime(views["date"].to_numpy())
    truth = world.path / "truth" / "parcel_daily.parquet"
    daily = pd.read_parquet(truth, columns=["parcel_id", "date", "bare"])
    daily["date"] = pd.to_datetime(daily["date"])
    table = features.merge(daily, on=["parcel_id", "date"], how="inner")
    table["world"] = world.name
    return table[np.isfinite(table[list(FEATURES)]).all(axis=1)]


def train(table: pd.DataFrame):  # type: ignore[no-untyped-def]
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=ITERATIONS, random_state=SEED).fit(
        table[list(FEATURES)].to_numpy(), table["bare"].to_numpy(bool)
    )


def leave_one_out(table: pd.DataFrame) -> None:
    for name in table["world"].unique():
        train_rows, test_rows = table[table["world"] != name], table[table["world"] == name]
        found = train(train_rows).predict(test_rows[list(FEATURES)].to_numpy()).astype(bool)
        truth = test_rows["bare"].to_numpy(bool)
        f1 = 2 * (found & truth).sum() / max(found.sum() + truth.sum(), 1)
        print(f"{name}: {len(test_rows)} views, {truth.mean():.2f} bare, trees of the others F1 {f1:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markers-cache", type=Path, help="folder caching markers_<world>.pkl")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--leave-one-out", action="store_true")
    args = parser.parse_args()
    table = pd.concat([world_views(world, args.markers_cache) for world in TUNING], ignore_index=True)
    print(f"{len(table)} views of {table['world'].nunique()} tuning worlds, {table['bare'].mean():.2f} bare")
    if args.leave_one_out:
        leave_one_out(table)
    model = from_gradient_boosting(train(table))
    np.savez_compressed(args.out, **ensemble_arrays(model))
    print(f"wrote {args.out}: {len(model.roots)} trees, {model.feature.size} nodes")


if __name__ == "__main__":
    main()
