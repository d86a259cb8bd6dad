"""Plain-language reasons, in English and Chinese."""
from __future__ import annotations

import numpy as np


def _month_after(label, h: int) -> str:
    if isinstance(label, str) and len(label) >= 7:
        y, m = int(label[:4]), int(label[5:7])
        k = y * 12 + (m - 1) + h
        return f"{k // 12:04d}-{k % 12 + 1:02d}"
    return f"month {int(label) + h}"


def reasons(rate3, n3, slope_pts, prob, floor, last_month, horizon: int, level, lang="en"):
    """One sentence per series, e.g. 'pass rate 94.1% in 2025-01 to 2025-03 (57 batches),
    falling 0.6 points a month; 71% chance below the 95% floor by 2025-06'. The months are
    named: a page shows the reason next to monthly figures that may run later than the scan,
    or count batches reported after it."""
    by = _month_after(last_month, horizon)
    first, last = _month_after(last_month, -2), _month_after(last_month, 0)
    out = []
    for r, n, s, p, fl, lv in zip(rate3, n3, slope_pts, prob, floor, level):
        fl_txt = f"{100 * fl:.4g}%"
        if lang == "zh":
            rate = (f"{first}至{last}无批次" if not n else
                    f"{first}至{last}合格率{100 * r:.1f}%（{int(n)}批）")
            trend = ("基本持平" if abs(s) < 0.05 else
                     f"每月{'下降' if s < 0 else '上升'}{abs(s):.1f}个百分点")
            txt = f"{rate}，{trend}；到{by}低于{fl_txt}底线的概率为{100 * p:.0f}%"
            if lv == "red":
                txt += "；当前已确定低于底线"
        else:
            rate = (f"no batches in {first} to {last}" if not n else
                    f"pass rate {100 * r:.1f}% in {first} to {last} "
                    f"({int(n)} batch{'' if n == 1 else 'es'})")
            trend = ("about flat" if abs(s) < 0.05 else
                     f"{'falling' if s < 0 else 'rising'} {abs(s):.1f} points a month")
            txt = f"{rate}, {trend}; {100 * p:.0f}% chance below the {fl_txt} floor by {by}"
            if lv == "red":
                txt += "; below the floor now with high confidence"
        out.append(txt)
    return np.array(out, dtype=object)
