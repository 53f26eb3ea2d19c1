"""How far a rule for k can go on the planted families (issue 16, item 4).

Reads the catalogues written by `cargo bench --bench planted -- --dump DIR` and prints, in
scikit-learn, the adjusted Rand index against the families of: k-means at the true k (a rule that
always guessed k right), k-means at each catalogue's best k (knowing the families), the
parsimonious silhouette rule Strata uses, a subsample-stability rule, and spectral clustering at
the true k and with its eigengap k. Needs numpy, scipy and scikit-learn.

Run: python3 benches/planted_ceiling.py DIR
"""

import sys
import warnings

import numpy as np
from scipy.sparse.csgraph import laplacian
from sklearn.cluster import KMeans, SpectralClustering
from sklearn.metrics import adjusted_rand_score as ari
from sklearn.metrics import silhouette_score
from sklearn.neighbors import kneighbors_graph

warnings.filterwarnings("ignore")
TOLERANCE = 0.06


def load(folder, seed):
    x = np.fromfile(f"{folder}/seed-{seed}.f32", dtype="<f4").reshape(-1, 384)
    y = np.loadtxt(f"{folder}/seed-{seed}.families", dtype=int)
    return x, y


def stability(x, k, rng):
    """Mean ARI between k-means fits of two 80% subsamples, over 8 pairs."""
    n = len(x)
    scores = []
    for b in range(8):
        fits = [
            KMeans(k, n_init=10, random_state=b + 100 * side).fit(
                x[rng.choice(n, int(0.8 * n), replace=False)]
            )
            for side in range(2)
        ]
        scores.append(ari(fits[0].predict(x), fits[1].predict(x)))
    return float(np.mean(scores))


def main(folder):
    results = {}
    for seed in range(1, 25):
        x, y = load(folder, seed)
        families = len(set(y))
        rng = np.random.default_rng(seed)
        ks = range(4, min(16, int(np.sqrt(len(x)))) + 1)
        fits = {k: KMeans(k, n_init=10, random_state=0).fit(x).labels_ for k in ks}
        sil = {k: silhouette_score(x, fits[k]) for k in ks}
        best = max(sil.values())
        parsimonious = next(k for k in ks if sil[k] >= best - TOLERANCE * abs(best))
        stable = max(ks, key=lambda k: sil[k] * stability(x, k, rng))
        graph = kneighbors_graph(x, 20, include_self=False)
        values = np.sort(np.linalg.eigvalsh(laplacian(0.5 * (graph + graph.T), normed=True).toarray()))
        eigengap = max(ks, key=lambda k: values[k] - values[k - 1])

        def spectral(k):
            return SpectralClustering(
                k, affinity="nearest_neighbors", n_neighbors=20, random_state=0
            ).fit_predict(x)

        row = {
            "k-means, true k": ari(y, fits[families]),
            "k-means, best k (knowing the families)": max(ari(y, fits[k]) for k in ks),
            f"k-means, smallest k within {TOLERANCE:.0%} of the best silhouette": ari(y, fits[parsimonious]),
            "k-means, silhouette x subsample stability": ari(y, fits[stable]),
            "spectral (20-NN), true k": ari(y, spectral(families)),
            "spectral (20-NN), eigengap k": ari(y, spectral(eigengap)),
        }
        for name, value in row.items():
            results.setdefault(name, []).append(value)
        print(f"seed {seed:2d}: {families} families", flush=True)
    for name, values in results.items():
        values = np.array(values)
        print(f"{name:62s} mean ARI {values.mean():.3f}, {np.sum(values >= 0.9):2d} of 24 at >= 0.9")


if __name__ == "__main__":
    main(sys.argv[1])
