#!/usr/bin/env python3
"""Reference fixtures for the BTYD models (BG/NBD, Pareto/NBD, Gamma-Gamma, CLV).

Generates a small deterministic transactions file, summarises and fits it with the independent
`lifetimes` library, and writes the inputs and outputs next to this script:

  btyd_transactions.csv   customer_id,date,amount (the input our Rust code reads)
  btyd_expected.json      lifetimes' summary per customer, fitted parameters, and per-customer
                          p_alive, conditional expected purchases, expected spend and CLV

Run (outside cargo; the tests only read the checked-in fixtures):

  python3 -m venv /tmp/venv-lifetimes
  /tmp/venv-lifetimes/bin/pip install lifetimes==0.11.3 numpy==1.26.4 pandas==2.0.3 scipy==1.11.4
  /tmp/venv-lifetimes/bin/python crates/analytics/tests/reference/btyd_reference.py

(lifetimes 0.11.3 does not work with pandas 3 / numpy 2, hence the pins.)
"""
import json
import os
import sys

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter
from lifetimes.utils import calibration_and_holdout_data

HERE = os.path.dirname(os.path.abspath(__file__))
N_CUSTOMERS = 600
START = pd.Timestamp("2022-01-01")
CAL_END = pd.Timestamp("2022-12-31")
HOLDOUT_END = pd.Timestamp("2023-06-30")
HORIZON_WEEKS = 13.0


def simulate(rng):
    """BG/NBD purchase process in days; spend per purchase from Gamma-Gamma."""
    r, alpha, a, b = 0.8, 30.0, 0.8, 3.0  # alpha in days
    p, q, gamma = 6.0, 4.0, 15.0
    rows = []
    horizon_days = (HOLDOUT_END - START).days
    cal_days = (CAL_END - START).days
    for c in range(N_CUSTOMERS):
        lam = rng.gamma(r, 1.0 / alpha)
        drop = rng.beta(a, b)
        nu = rng.gamma(q, 1.0 / gamma)
        first = int(rng.integers(0, cal_days - 30))
        t = float(first)
        while True:
            day = int(t)
            if day > horizon_days:
                break
            amount = round(float(rng.gamma(p, 1.0 / nu)), 2)
            rows.append((f"C{c:04d}", (START + pd.Timedelta(days=day)).strftime("%Y-%m-%d"), amount))
            # Some same-day second purchases, which must merge into one transaction.
            if rng.random() < 0.05:
                rows.append((f"C{c:04d}", (START + pd.Timedelta(days=day)).strftime("%Y%m%d"), 1.5))
            if rng.random() < drop:
                break
            t += rng.exponential(1.0 / lam)
    rng.shuffle(rows)
    return rows


def main():
    rng = np.random.default_rng(20240601)
    rows = simulate(rng)
    tx_path = os.path.join(HERE, "btyd_transactions.csv")
    with open(tx_path, "w") as f:
        f.write("customer_id,date,amount\n")
        for cid, d, amt in rows:
            f.write(f"{cid},{d},{amt:.2f}\n")

    df = pd.read_csv(tx_path, dtype={"customer_id": str, "date": str})
    df["date"] = pd.to_datetime(df["date"].str.replace("-", ""), format="%Y%m%d")
    summ = calibration_and_holdout_data(
        df, "customer_id", "date",
        calibration_period_end=CAL_END, observation_period_end=HOLDOUT_END,
        freq="D", freq_multiplier=7, monetary_value_col="amount",
    ).sort_index()
    f, rec, T = summ["frequency_cal"], summ["recency_cal"], summ["T_cal"]
    m = summ["monetary_value_cal"]

    bg = BetaGeoFitter().fit(f.values, rec.values, T.values)
    pn = ParetoNBDFitter().fit(f.values, rec.values, T.values)
    rep = f > 0
    gg = GammaGammaFitter().fit(f[rep], m[rep])

    bg_ll = float(BetaGeoFitter._negative_log_likelihood(
        np.log(bg._unload_params("r", "alpha", "a", "b")), f.values, rec.values, T.values,
        np.ones(len(f)), 0.0)) * -len(f)
    bg_p = bg._unload_params("r", "alpha", "a", "b")
    pn_p = pn._unload_params("r", "alpha", "s", "beta")
    pn_ll = float(pn._conditional_log_likelihood(pn_p, f.values, rec.values, T.values).sum())
    gg_p = gg._unload_params("p", "q", "v")

    # CLV as lifetimes defines it: 12 monthly cash flows of 4.345 weeks, 1% a month.
    clv = gg.customer_lifetime_value(bg, f, rec, T, m, time=12, discount_rate=0.01, freq="W")

    per = []
    for cid in summ.index:
        x, tx, t_ = int(f[cid]), float(rec[cid]), float(T[cid])
        per.append({
            "customer_id": cid,
            "frequency": x, "recency": tx, "t": t_, "monetary": float(m[cid]),
            "holdout_frequency": int(summ["frequency_holdout"][cid]),
            "bgnbd_p_alive": float(bg.conditional_probability_alive(x, tx, t_)),
            "bgnbd_expected": float(bg.conditional_expected_number_of_purchases_up_to_time(HORIZON_WEEKS, x, tx, t_)),
            "pareto_nbd_p_alive": float(pn.conditional_probability_alive(x, tx, t_)),
            "pareto_nbd_expected": float(pn.conditional_expected_number_of_purchases_up_to_time(HORIZON_WEEKS, x, tx, t_)),
            "expected_spend": float(gg.conditional_expected_average_profit(pd.Series([x]), pd.Series([float(m[cid])])).iloc[0]),
            "clv": float(clv[cid]),
        })

    out = {
        "generator": "crates/analytics/tests/reference/btyd_reference.py",
        "library": "lifetimes 0.11.3",
        "calibration_end": CAL_END.strftime("%Y-%m-%d"),
        "holdout_end": HOLDOUT_END.strftime("%Y-%m-%d"),
        "period": "week",
        "horizon": HORIZON_WEEKS,
        "holdout_duration": float(summ["duration_holdout"].iloc[0]),
        "bgnbd": {"r": bg_p[0], "alpha": bg_p[1], "a": bg_p[2], "b": bg_p[3], "log_likelihood": bg_ll},
        "pareto_nbd": {"r": pn_p[0], "alpha": pn_p[1], "s": pn_p[2], "beta": pn_p[3], "log_likelihood": pn_ll},
        "gamma_gamma": {"p": gg_p[0], "q": gg_p[1], "gamma": gg_p[2]},
        "clv": {"steps": 12, "step_periods": 4.345, "discount_rate_per_step": 0.01},
        "per_customer": per,
    }
    out = json.loads(json.dumps(out, default=float))
    with open(os.path.join(HERE, "btyd_expected.json"), "w") as fh:
        json.dump(out, fh, indent=1, sort_keys=False)
    print(json.dumps({k: out[k] for k in ("bgnbd", "pareto_nbd", "gamma_gamma")}, indent=1))
    print(len(rows), "rows,", len(per), "customers", file=sys.stderr)


if __name__ == "__main__":
    main()
