"""Service messages: English in the API, the reader's language on the pages (core.messages)."""
from __future__ import annotations

import ast
import io
import pickle
import re
from datetime import date
from pathlib import Path

from core.jobs import Job, run_job
from core.messages import N_, Message, recognise
from tests.conftest import batch_payload
from tests.series_data import MILK
from tests.web_helpers import csrf_token, fresh_limits, signed_in  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parents[1]
IMPORT_HEADER = "sample_no,sampled_on,category,region,result\n"
# Where the rules people can run into are written: every refusal there is a declared message.
SERVICE_FILES = [*sorted((ROOT / "followup" / "services").glob("*.py")),
                 *sorted((ROOT / "inspection" / "services").glob("*.py")),
                 *sorted((ROOT / "inspection" / "imports").glob("*.py")),
                 ROOT / "inspection" / "credit_code.py", ROOT / "core" / "auth" / "services.py",
                 ROOT / "core" / "reference" / "floors.py", ROOT / "warning" / "alerts.py",
                 ROOT / "warning" / "notify" / "services.py"]
REFUSALS = {"ValidationFailed", "on", "Conflict", "NotFound", "Forbidden", "PreconditionFailed", "PayloadTooLarge",
            "FileRefused", "DomainError"}


def test_a_message_is_its_english_text_and_keeps_template_and_parameters():
    template = N_("sampling date %(date)s is in the future")
    message = template(date=date(2025, 3, 1))
    assert message == "sampling date 2025-03-01 is in the future" and isinstance(message, str)
    assert message.template == "sampling date %(date)s is in the future"
    assert message.params == {"date": date(2025, 3, 1)}
    copy = pickle.loads(pickle.dumps(message))  # import rejections cross a process boundary
    assert isinstance(copy, Message) and copy.params == message.params and copy == message
    assert N_("case %(id)s lists %(ids)s")(id=3, ids=["a", "b"]) == "case 3 lists a, b"


def test_stored_english_text_is_matched_back_to_its_template():
    found = recognise("sampling date 2025-03-01 is in the future")
    assert found.template == "sampling date %(date)s is in the future" and found.params == {"date": "2025-03-01"}
    # The most literal template wins over a general one that also matches.
    assert recognise("sample number is required").template == "sample number is required"
    assert recognise("batch_no is required").params == {"field": "batch_no"}
    assert recognise("something nobody declared") is None


def test_no_two_declared_templates_read_alike(app):
    from core.messages import _TEMPLATES

    shapes: dict[str, list[str]] = {}
    for template in _TEMPLATES:  # every domain module is imported by the app
        shapes.setdefault(re.sub(r"%\(\w+\)s", "{}", template), []).append(template)
    assert len(_TEMPLATES) > 100
    assert [t for t in shapes.values() if len(t) > 1] == [], "stored text could not tell them apart"


def test_every_refusal_in_the_services_is_a_declared_message():
    plain = []
    for path in SERVICE_FILES:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name in REFUSALS:
                    for arg in node.args:
                        if isinstance(arg, ast.JoinedStr) or (isinstance(arg, ast.Constant)
                                                             and isinstance(arg.value, str) and " " in arg.value):
                            plain.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert plain == [], "declare these messages with core.messages.N_"


def test_api_keeps_english_messages(client, admin):
    _, headers = admin
    body = batch_payload(conclusion="pass", items=[{"item": "菌落总数", "verdict": "fail"}])
    response = client.post("/api/batches", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json["errors"]["conclusion"] == ["a passing batch cannot have failing test items"]
    assert response.json["message"] == "invalid batch: conclusion: a passing batch cannot have failing test items"


def _pass_with_failing_item(client) -> str:
    token = csrf_token(client, "/batches/new")
    response = client.post("/batches/new", data={
        "csrf_token": token, "sample_no": "M0000001", "sampled_on": "2025-03-10", "category": MILK,
        "region": "330106", "stage": "", "conclusion": "pass", "items-0-item": "菌落总数", "items-0-verdict": "fail"})
    assert response.status_code == 422
    return re.search(r'id="conclusion-error">([^<]*)<', response.data.decode()).group(1)


def test_a_rule_violation_reads_in_chinese_on_a_chinese_page_and_in_english_on_an_english_one(client, signed_in):
    signed_in("inspector")
    assert _pass_with_failing_item(client) == "结论为合格的批次不能含有不合格的检验项目"
    client.post("/language", data={"csrf_token": csrf_token(client, "/"), "lang": "en", "next": "/"})
    assert _pass_with_failing_item(client) == "a passing batch cannot have failing test items"


def _upload(client, content: str):
    token = csrf_token(client, "/batches/import")
    return client.post("/batches/import", data={"csrf_token": token,
                                                 "file": (io.BytesIO(content.encode()), "batches.csv")},
                       content_type="multipart/form-data")


def _reasons(page: str) -> list[str]:
    return re.findall(r"<tr><td>\d+</td><td>\w*</td><td>([^<]*)</td></tr>", page)


def test_import_rejections_read_in_chinese(client, signed_in):
    signed_in("inspector", region="330100")
    content = IMPORT_HEADER + (f"R1,2025-03-01,{MILK},330106,pass\n"
                               f"R2,2025-03-01,no.such,330106,pass\n"
                               f"R3,03/01/2025,{MILK},330106,maybe\n"
                               f"R4,2025-03-01,{MILK},330203,pass\n")  # Ningbo: outside Hangzhou
    page = _upload(client, content).data.decode()
    assert _reasons(page) == ["未知的类别代码“no.such”（类别代码见导入页面的代码列表，或 GET /api/categories）", "结果须为“合格”或“不合格”（pass 或 fail），实际为“maybe”",
                              "“03/01/2025”不是 YYYY-MM-DD 格式的日期", "地区 330203 不在您的辖区 330100 内"]


def test_a_queued_imports_stored_report_reads_in_chinese(app, client, signed_in, db_session):
    signed_in("inspector")
    rows = "".join(f"Q{i:06d},2025-03-01,{MILK},330106,pass\n" for i in range(3000))
    content = IMPORT_HEADER + rows + f"Q9999999,2099-03-01,{MILK},330106,pass\n"
    assert len(content) > app.config["IMPORT_ASYNC_BYTES"]
    response = _upload(client, content)
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    run_job(db_session, db_session.get(Job, job_id))
    db_session.expire_all()
    assert db_session.get(Job, job_id).result["rejected"][0]["reason"] == "sampling date 2099-03-01 is in the future"
    page = client.get(f"/batches/import/jobs/{job_id}").data.decode()
    assert _reasons(page) == ["抽样日期 2099年3月1日 晚于今天"]  # the date in the page's format too
