"""Monthly series built through the real import path, shared by the scan and backtest tests."""
from __future__ import annotations

from inspection.imports.importer import ImportOptions, import_batches
from tests.conftest import VALID_CODE

MILK = "food.dairy.liquid_milk"
HEADER = ("sample_no,sampled_on,reported_on,category,region,result,enterprise_credit_code,"
          "enterprise_name,failed_items\n")
DROP = (2, 4, 7, 10, 13, 15)  # failures in 20 over the last six months: far below the 0.93 floor
_rows = iter(range(1, 10**7))


def csv_rows(region: str, month: str, n: int, failed: int, fail_reported: str | None = None) -> str:
    """`n` liquid-milk batches in `region` sampled in `month`, the first `failed` of them failing;
    failing ones reported on `fail_reported` when given, others on the day (or left empty)."""
    out = []
    for i in range(n):
        day = f"{month}-{1 + i % 27:02d}"
        bad = i < failed
        reported = fail_reported if (bad and fail_reported) else (day if i % 3 else "")
        out.append(f"S{next(_rows):07d},{day},{reported},{MILK},{region},{'fail' if bad else 'pass'},"
                   f"{VALID_CODE},示例乳业,{'蛋白质' if bad else ''}\n")
    return "".join(out)


def load(session, user_id: int, rows: str) -> None:
    """Import the rows atomically; every row must be accepted."""
    result = import_batches(session, (HEADER + rows).encode(), ImportOptions("t.csv", user_id, atomic=True))
    assert result.report()["accepted"] > 0 and result.report()["rejected"] == [], result.report()
