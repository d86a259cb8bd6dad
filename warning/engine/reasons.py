"""Plain-language reasons, in English and Chinese."""
from __future__ import annotations

import numpy as np

from core.clock import month_zh


def _month_after(label, h: int) -> str:
    if isinstance(label, str) and len(label) >= 7:
        y, m = int(label[:4]), int(label[5:7])
        k = y * 12 + (m - 1) + h
        return f"{k // 12:04d}-{k % 12 + 1:02d}"
    return f"month {int(label) + h}"


def reasons(rate3, n3, slope_pts, prob, floor, last_month, horizon: int, level, lang="en",
            own_p=None, own_alpha: float = 0.05):
    """One sentence per series, e.g. 'pass rate 94.1% in 2025-01 to 2025-03 (57 batches),
    falling 0.6 points a month; 71% chance below the 95% floor in 2025-04 to 2025-06'.

    The months are named: a page shows the reason next to monthly figures that may run later
    than the scan, or count batches reported after it. A recent rate already under the floor
    says whether that is beyond chance (`own_p` <= `own_alpha`, levels.own_below_p): the
    probability is about the coming months and the estimate behind it borrows from the
    series' parents, so a series at 91.7% can be given a small chance of staying below 93%,
    and the reader must see that the sentence knows the rate is under the floor."""
    first, last = _month_after(last_month, -2), _month_after(last_month, 0)
    ahead = f"{_month_after(last_month, 1)}" + ("" if horizon == 1 else f" to {_month_after(last_month, horizon)}")
    if lang == "zh":  # the months as the Chinese pages' tables write them
        first, last = month_zh(first), month_zh(last)
        ahead = month_zh(_month_after(last_month, 1)) + ("" if horizon == 1 else f"至{month_zh(_month_after(last_month, horizon))}")
    own_p = np.ones(len(level)) if own_p is None else own_p
    out = []
    for r, n, s, p, fl, lv, op in zip(rate3, n3, slope_pts, prob, floor, level, own_p):
        fl_txt = f"{100 * fl:.4g}%"
        under = bool(n) and r < fl
        if lang == "zh":
            rate = (f"{first}至{last}无批次" if not n else
                    f"{first}至{last}合格率{100 * r:.1f}%（{int(n)}批）")
            if under:
                rate += f"，低于{fl_txt}底线" + ("，超出偶然波动" if op <= own_alpha else "，尚在偶然波动范围内")
            trend = ("基本持平" if abs(s) < 0.05 else
                     f"每月{'下降' if s < 0 else '上升'}{abs(s):.1f}个百分点")
            txt = f"{rate}，{trend}；{ahead}低于{'' if under else fl_txt}底线的概率为{100 * p:.0f}%"
            if lv == "red":
                txt += "；当前已确定低于底线"
        else:
            rate = (f"no batches in {first} to {last}" if not n else
                    f"pass rate {100 * r:.1f}% in {first} to {last} "
                    f"({int(n)} batch{'' if n == 1 else 'es'})")
            if under:
                rate += f", below the {fl_txt} floor " + ("beyond chance" if op <= own_alpha else "but within chance of it")
            trend = ("about flat" if abs(s) < 0.05 else
                     f"{'falling' if s < 0 else 'rising'} {abs(s):.1f} points a month")
            txt = f"{rate}, {trend}; {100 * p:.0f}% chance below the {'' if under else fl_txt + ' '}floor in {ahead}"
            if lv == "red":
                txt += "; below the floor now with high confidence"
        out.append(txt)
    return np.array(out, dtype=object)
