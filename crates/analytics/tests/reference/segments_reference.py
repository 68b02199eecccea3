#!/usr/bin/env python3
"""Independent reference outputs for the segmentation, churn, value-focus and cross-sell models.

Run from anywhere (it writes next to itself); needs a virtual environment OUTSIDE the repository:

    python3 -m venv /tmp/venv-b
    /tmp/venv-b/bin/pip install scikit-learn mlxtend pandas
    /tmp/venv-b/bin/python crates/analytics/tests/reference/segments_reference.py

The Rust tests read the files it writes (never Python itself). Versions used are recorded in
segments_versions.json. Every dataset is made here from a fixed seed, so re-running reproduces
the fixtures exactly (up to the libraries' own numerics).

Fixtures:
  segments_rfm_quintiles.csv     RFM quintile scores by pandas rank(method="min") and the
                                 median-split segment (src/rfm.rs, equation 1)
  segments_pareto_*.csv/.json    deciles by numpy.array_split over the ranking, top-20% shares,
                                 customers for 80%, Gini by the rank formula (src/pareto.rs)
  segments_logit_*.csv/.json     scikit-learn StandardScaler + LogisticRegression(C = 1/lambda);
                                 sklearn minimises 0.5*|w|^2 + C*sum(loss), which is our
                                 sum(loss) + (lambda/2)*|w|^2 divided by C (src/churn.rs)
  segments_survey*.csv/.json     scikit-learn LinearRegression on standardised data
                                 (src/value_focus.rs, equation 1)
  segments_baskets.csv,
  segments_fpgrowth_mlxtend.json mlxtend fpgrowth + association_rules (src/cross_sell.rs)
"""

import json
import math
import os
import sys

import mlxtend
import numpy as np
import pandas as pd
import sklearn
from mlxtend.frequent_patterns import association_rules, fpgrowth
from mlxtend.preprocessing import TransactionEncoder
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))


def out(name):
    return os.path.join(HERE, name)


def write_json(name, obj):
    with open(out(name), "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, ensure_ascii=False)
        f.write("\n")


def rfm():
    rng = np.random.default_rng(20240601)
    n = 73
    df = pd.DataFrame(
        {
            "customer_id": [f"r{i:03d}" for i in range(n)],
            "recency_days": rng.integers(0, 60, n) * 5,  # many ties
            "frequency": np.minimum(rng.geometric(0.35, n), 12),  # mostly 1-3
            "monetary": np.round(rng.lognormal(6.0, 1.0, n), 2),
        }
    )
    df.loc[5, "monetary"] = df.loc[9, "monetary"]  # an exact tie
    k = 5

    def score(values):
        # min rank (1-based), then 1 + floor(k * (rank - 1) / n)
        r = values.rank(method="min").astype(int)
        return 1 + (k * (r - 1)) // n

    df["r_score"] = score(-df["recency_days"])
    df["f_score"] = score(df["frequency"])
    df["m_score"] = score(df["monetary"])
    r_hi = df["recency_days"] < df["recency_days"].median()
    f_hi = df["frequency"] > df["frequency"].median()
    m_hi = df["monetary"] > df["monetary"].median()
    names = {
        (True, True, True): "important_value",
        (True, False, True): "important_development",
        (False, True, True): "important_retention",
        (False, False, True): "important_win_back",
        (True, True, False): "general_value",
        (True, False, False): "general_development",
        (False, True, False): "general_retention",
        (False, False, False): "general_win_back",
    }
    df["segment"] = [names[(a, b, c)] for a, b, c in zip(r_hi, f_hi, m_hi)]
    df.to_csv(out("segments_rfm_quintiles.csv"), index=False, float_format="%.17g")


def pareto():
    rng = np.random.default_rng(7)
    n = 137
    revenue = np.round(rng.lognormal(8.0, 1.3, n), 2)
    rate = rng.normal(0.25, 0.15, n)
    margin = np.round(revenue * rate, 2)
    df = pd.DataFrame(
        {"customer_id": [f"p{i:03d}" for i in range(n)], "revenue": revenue, "gross_margin": margin}
    )
    df.to_csv(out("segments_pareto_customers.csv"), index=False, float_format="%.17g")
    ranked = df.sort_values(["revenue", "customer_id"], ascending=[False, True]).reset_index(drop=True)
    parts = np.array_split(np.arange(n), 10)
    rows = []
    for d, idx in enumerate(parts, start=1):
        sub = ranked.iloc[idx]
        rows.append(
            {
                "decile": d,
                "customers": len(sub),
                "revenue": float(sub["revenue"].sum()),
                "gross_margin": float(sub["gross_margin"].sum()),
            }
        )
    pd.DataFrame(rows).to_csv(out("segments_pareto_deciles.csv"), index=False, float_format="%.17g")
    top_n = math.ceil(0.2 * n)
    total_r = ranked["revenue"].sum()
    total_m = ranked["gross_margin"].sum()
    cum = ranked["revenue"].cumsum() / total_r
    k80 = int(np.argmax(cum.values >= 0.8 - 1e-12)) + 1
    x = np.sort(revenue)
    i = np.arange(1, n + 1)
    gini = 2.0 * np.sum(i * x) / (n * x.sum()) - (n + 1.0) / n
    write_json(
        "segments_pareto_summary.json",
        {
            "customers": n,
            "top20_customers": top_n,
            "top20_revenue_share": float(ranked["revenue"][:top_n].sum() / total_r),
            "top20_margin_share": float(ranked["gross_margin"][:top_n].sum() / total_m),
            "customers_for_80_percent": k80,
            "gini_revenue": float(gini),
        },
    )


def logit():
    rng = np.random.default_rng(42)
    n = 400
    x1 = rng.normal(0.0, 1.0, n)
    x2 = rng.normal(50.0, 10.0, n)
    x3 = rng.exponential(100.0, n)
    x4 = rng.integers(0, 6, n).astype(float)
    eta = -0.5 + 0.8 * x1 - 0.05 * (x2 - 50.0) + 0.01 * (x3 - 100.0) + 0.3 * (x4 - 2.5)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-eta))).astype(int)
    X = np.column_stack([x1, x2, x3, x4])
    df = pd.DataFrame(X, columns=["x1", "x2", "x3", "x4"])
    df.insert(0, "customer_id", [f"l{i:03d}" for i in range(n)])
    df["churned"] = y
    df.to_csv(out("segments_logit_data.csv"), index=False, float_format="%.17g")
    Z = StandardScaler().fit_transform(X)  # population sd (ddof = 0), as in the Rust model
    fits = []
    for lam in [20.0, 1.0, 0.01]:
        C = 1.0 / lam
        m = LogisticRegression(C=C, solver="newton-cholesky", tol=1e-12, max_iter=1000)
        m.fit(Z, y)
        # cross-check with a second solver so the fixture is not one solver's quirk
        m2 = LogisticRegression(C=C, solver="lbfgs", tol=1e-12, max_iter=100000).fit(Z, y)
        assert np.allclose(m.coef_, m2.coef_, atol=1e-5), (m.coef_, m2.coef_)
        p = m.predict_proba(Z)[:, 1]
        k = math.ceil(0.1 * n)
        top = np.argsort(-p, kind="stable")[:k]
        hits = y[top].sum()
        fits.append(
            {
                "lambda": lam,
                "C": C,
                "intercept": float(m.intercept_[0]),
                "coef": [float(c) for c in m.coef_[0]],
                "auc": float(roc_auc_score(y, p)),
                "precision_top_decile": float(hits / k),
                "recall_top_decile": float(hits / y.sum()),
                "brier": float(brier_score_loss(y, p)),
                "log_loss": float(log_loss(y, p)),
            }
        )
    s = np.round(rng.random(60), 1)  # heavy ties
    lab = (rng.random(60) < s).astype(int)
    write_json(
        "segments_logit_sklearn.json",
        {
            "note": "sklearn LogisticRegression(C=1/lambda) on StandardScaler output; coefficients on the standardised scale",
            "fits": fits,
            "auc_ties": {
                "scores": [float(v) for v in s],
                "labels": [int(v) for v in lab],
                "auc": float(roc_auc_score(lab, s)),
            },
        },
    )


def survey():
    rng = np.random.default_rng(99)
    n = 150
    dims = ["reliability", "assurance", "tangibles", "empathy", "responsiveness"]
    base = rng.normal(0.0, 1.0, n)  # a halo shared by all dimensions (realistic collinearity)
    X = np.column_stack(
        [np.clip(np.round(3.5 + 0.6 * base + rng.normal(0, 0.8, n)), 1, 5) for _ in dims]
    )
    w = np.array([0.45, 0.2, 0.05, 0.1, 0.3])
    y = np.round(X @ w + rng.normal(0, 0.4, n), 1)
    df = pd.DataFrame(X, columns=dims)
    df.insert(0, "customer_id", [f"s{i:03d}" for i in range(n)])
    df["overall"] = y
    df.to_csv(out("segments_survey.csv"), index=False, float_format="%.17g")
    Zx = StandardScaler().fit_transform(X)
    zy = StandardScaler().fit_transform(y.reshape(-1, 1)).ravel()
    lr = LinearRegression().fit(Zx, zy)
    write_json(
        "segments_survey_sklearn.json",
        {
            "dimensions": dims,
            "standardized_coef": [float(c) for c in lr.coef_],
            "r_squared": float(lr.score(Zx, zy)),
        },
    )


def baskets():
    rng = np.random.default_rng(2000)
    products = ["打印机", "墨盒", "纸张", "laptop", "mouse", "keyboard", "monitor", "cable", "desk", "chair", "lamp", "headset"]
    rows = []
    n_orders = 300
    for o in range(n_orders):
        cust = f"c{rng.integers(0, 80):02d}"
        items = set()
        if rng.random() < 0.3:
            items.add("打印机")
            if rng.random() < 0.7:
                items.add("墨盒")
            if rng.random() < 0.5:
                items.add("纸张")
        if rng.random() < 0.35:
            items.add("laptop")
            for extra, p in [("mouse", 0.6), ("keyboard", 0.3), ("monitor", 0.4), ("headset", 0.2)]:
                if rng.random() < p:
                    items.add(extra)
        if rng.random() < 0.2:
            items.update(["desk", "chair"] if rng.random() < 0.6 else ["desk"])
            if rng.random() < 0.4:
                items.add("lamp")
        for p in products:
            if rng.random() < 0.05:
                items.add(p)
        if not items:
            items.add(products[rng.integers(0, len(products))])
        for it in sorted(items):
            rows.append({"order_id": f"o{o:04d}", "customer_id": cust, "product": it})
    df = pd.DataFrame(rows)
    df.to_csv(out("segments_baskets.csv"), index=False)
    tx = df.groupby("order_id")["product"].apply(list).tolist()
    te = TransactionEncoder()
    onehot = pd.DataFrame(te.fit(tx).transform(tx), columns=te.columns_)
    min_support, min_conf = 0.04, 0.3
    fi = fpgrowth(onehot, min_support=min_support, use_colnames=True)
    rules = association_rules(fi, num_itemsets=len(onehot), metric="confidence", min_threshold=min_conf)

    def conv(v):
        return None if not np.isfinite(v) else float(v)

    write_json(
        "segments_fpgrowth_mlxtend.json",
        {
            "min_support": min_support,
            "min_confidence": min_conf,
            "baskets": len(tx),
            "itemsets": [
                {"items": sorted(s), "support": float(sup)} for s, sup in zip(fi["itemsets"], fi["support"])
            ],
            "rules": [
                {
                    "antecedents": sorted(r.antecedents),
                    "consequents": sorted(r.consequents),
                    "support": float(r.support),
                    "confidence": float(r.confidence),
                    "lift": float(r.lift),
                    "leverage": float(r.leverage),
                    "conviction": conv(r.conviction),
                }
                for r in rules.itertuples()
            ],
        },
    )


def main():
    rfm()
    pareto()
    logit()
    survey()
    baskets()
    write_json(
        "segments_versions.json",
        {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "scikit-learn": sklearn.__version__,
            "mlxtend": mlxtend.__version__,
        },
    )


if __name__ == "__main__":
    main()
