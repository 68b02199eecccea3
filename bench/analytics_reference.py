#!/usr/bin/env python3
"""Times the `lifetimes` reference on (a subsample of) a transactions CSV, for bench/analytics.sh.

Usage: analytics_reference.py FILE CALIBRATION_END HOLDOUT_END CUSTOMER_FRACTION

Takes every customer whose numeric id is divisible by round(1/fraction) (a deterministic
subsample), then does what `guanxi analytics clv` does: summarise in weeks, fit BG/NBD and
Gamma-Gamma, and score p_alive, expected purchases and CLV per customer. Prints JSON with the
timings and the fitted parameters.
"""
import json
import sys
import time

import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import calibration_and_holdout_data

path, cal_end, hold_end, frac = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
step = max(1, round(1 / frac))
t0 = time.time()
df = pd.read_csv(path, dtype={"customer_id": str, "date": str})
df = df[df["customer_id"].str[1:].astype(int) % step == 0]
df["date"] = pd.to_datetime(df["date"], format="%Y-%m-%d")
t_read = time.time()
s = calibration_and_holdout_data(
    df, "customer_id", "date", calibration_period_end=cal_end, observation_period_end=hold_end,
    freq="D", freq_multiplier=7, monetary_value_col="amount",
)
t_sum = time.time()
f, r, T, m = s["frequency_cal"], s["recency_cal"], s["T_cal"], s["monetary_value_cal"]
bg = BetaGeoFitter().fit(f, r, T)
t_bg = time.time()
rep = f > 0
gg = GammaGammaFitter().fit(f[rep], m[rep])
t_gg = time.time()
p_alive = bg.conditional_probability_alive(f, r, T)
exp = bg.conditional_expected_number_of_purchases_up_to_time(52, f, r, T)
clv = gg.customer_lifetime_value(bg, f, r, T, m, time=12, discount_rate=0.0, freq="W")
t_score = time.time()
print(json.dumps({
    "customers": int(len(s)), "rows": int(len(df)), "fraction": 1 / step,
    "seconds": {"read": t_read - t0, "summary": t_sum - t_read, "bgnbd": t_bg - t_sum,
                "gamma_gamma": t_gg - t_bg, "score": t_score - t_gg, "total": t_score - t0},
    "bgnbd": dict(zip(["r", "alpha", "a", "b"], map(float, bg._unload_params("r", "alpha", "a", "b")))),
    "gamma_gamma": dict(zip(["p", "q", "gamma"], map(float, gg._unload_params("p", "q", "v")))),
}, indent=1))
