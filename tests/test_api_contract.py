"""The OpenAPI document as a contract a client is written from, checked against the running API.

- Every GET operation, called on a seeded world (test_api_fuzz's) with no query parameters and
  then with each documented parameter set to its documented example, answers 200 with a body
  valid against the documented schema, read strictly: a field the schema does not name is an
  error (a client generated from the document would drop or choke on it), and so is a field the
  schema names but the body lacks, unless the schema lets it be absent.
- Every request-body example in the document is accepted when sent to its operation.
- The document itself says what a client needs: a summary and description for every
  operation, a description and example for every parameter, the error responses the API really
  answers with (all in the one Error shape), and the batch ETag / If-Match protocol.
"""
from __future__ import annotations

import io
import re

import jsonschema_rs
import pytest

from tests.conftest import IsolatedClient, clean_database
from tests.test_api_fuzz import Harness

from core.extensions import db
from factory import create_app

JSON = "application/json"
# Read at collection time (the operations parametrize the tests), from an app like the fixture's.
DOCUMENT = create_app("testing", {"DATABASE_URL": "sqlite://"}).test_client().get("/api/openapi.json").json


@pytest.fixture(scope="module")
def world(app):
    app.test_client_class = IsolatedClient
    harness = Harness(app)
    harness.seed()
    yield harness
    with app.app_context():
        clean_database()
        db.session.remove()


@pytest.fixture(scope="module")
def document():
    return DOCUMENT


def _operations(document, methods=("get",)):
    for path, item in document["paths"].items():
        shared = item.get("parameters", [])
        for method, op in item.items():
            if method in methods:
                yield path, method, op, shared + op.get("parameters", [])


def _example(parameter):
    if "example" in parameter:
        return parameter["example"]
    return parameter.get("schema", {}).get("example")


def _json_schema(node, components):
    """An OpenAPI 3.0 schema as strict JSON Schema: `nullable` becomes a null type, objects
    allow no undocumented property, and every property is present unless the response may omit it."""
    if isinstance(node, list):
        return [_json_schema(n, components) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        out = _json_schema(components[name], components)
    else:
        out = {k: _json_schema(v, components) for k, v in node.items()
               if k not in ("example", "examples", "nullable", "readOnly", "writeOnly", "format")}
        if out.get("type") == "object" and "properties" in out:
            out.setdefault("additionalProperties", False)
    if node.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def _required_everywhere(schema):
    """Mark every documented property of every object as required (responses dump every field)."""
    if isinstance(schema, list):
        return [_required_everywhere(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _required_everywhere(v) for k, v in schema.items()}
    if "properties" in out and not out.get("x-optional"):
        out["required"] = sorted(set(out.get("required", [])) | set(out["properties"]))
    return out


def test_the_strict_reading_refuses_undocumented_and_missing_fields():
    components = {"Thing": {"type": "object", "properties": {"id": {"type": "integer"},
                                                             "note": {"type": "string", "nullable": True}}}}
    schema = _required_everywhere(_json_schema({"type": "array", "items": {"$ref": "#/components/schemas/Thing"}},
                                               components))
    validator = jsonschema_rs.Draft4Validator(schema)
    assert validator.is_valid([{"id": 1, "note": None}])
    assert not validator.is_valid([{"id": 1, "note": None, "extra": 1}])
    assert not validator.is_valid([{"id": 1}])


def _calls(document):
    for path, _method, op, parameters in _operations(document):
        values = {}
        for p in parameters:
            if p["in"] == "path":
                values[p["name"]] = _example(p)
        url = re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path)
        query = [p for p in parameters if p["in"] == "query" and _example(p) is not None]
        required = {p["name"]: _query_value(p) for p in query if p.get("required")}
        yield path, op, url, required
        for p in query:
            if not p.get("required"):
                yield path, op, url, {**required, p["name"]: _query_value(p)}


def _query_value(parameter):
    value = _example(parameter)
    return str(value).lower() if isinstance(value, bool) else value


def test_every_get_answers_its_documented_schema(world, document):
    components = document["components"]["schemas"]
    client = world.app.test_client()
    headers = world.headers["admin"]
    problems = []
    for path, op, url, query in _calls(document):
        where = f"GET {url} {query}"
        response = client.get(url, query_string=query, headers=headers)
        if response.status_code != 200:
            problems.append(f"{where}: {response.status_code} {response.get_data(as_text=True)[:200]}")
            continue
        ctype = response.mimetype
        documented = op["responses"]["200"]["content"]
        if ctype not in documented:
            problems.append(f"{where}: content type {ctype} not documented ({list(documented)})")
            continue
        if ctype != JSON:
            continue
        schema = _required_everywhere(_json_schema(documented[ctype]["schema"], components))
        for error in jsonschema_rs.Draft4Validator(schema).iter_errors(response.json):
            problems.append(f"{where}: at {'/'.join(map(str, error.instance_path))}: {error.message[:200]}")
    assert not problems, "\n".join(problems)


def _body_example(schema, components):
    """The request body a client reads off the document: the schema's example, else each
    property's example (required and optional alike), as Swagger UI composes it."""
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    if "example" in schema:
        return schema["example"]
    if "properties" in schema:
        return {name: _body_example(prop, components) for name, prop in schema["properties"].items()
                if "example" in prop or "$ref" in prop or "properties" in prop or "items" in prop}
    if schema.get("type") == "array" and "items" in schema:
        return [_body_example(schema["items"], components)]
    return None


def _fill(path, parameters):
    values = {p["name"]: _example(p) for p in parameters if p["in"] == "path"}
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path)


WRITES = [pytest.param(path, method, id=f"{method.upper()} {path}")
          for path, method, _op, _p in _operations(DOCUMENT, ("post", "put", "patch", "delete"))]


@pytest.mark.parametrize(("path", "method"), WRITES)
def test_request_examples_are_accepted(world, path, method):
    """The example a client copies from the document (its body, path ids and headers) is accepted."""
    op = DOCUMENT["paths"][path][method]
    parameters = DOCUMENT["paths"][path].get("parameters", []) + op.get("parameters", [])
    harness, app = world, world.app
    harness.seed()  # a fresh world: each example is sent to records in their seeded state
    headers = dict(harness.headers["admin"])
    headers.update({p["name"]: _example(p) for p in parameters if p["in"] == "header" and _example(p)})
    query = {p["name"]: _query_value(p) for p in parameters if p["in"] == "query" and p.get("required")}
    kwargs = {}
    content = op.get("requestBody", {}).get("content", {})
    if JSON in content:
        kwargs["json"] = _body_example(content[JSON]["schema"], DOCUMENT["components"]["schemas"])
    elif "multipart/form-data" in content:
        files = content["multipart/form-data"]["schema"]["properties"]
        kwargs["data"] = {name: (io.BytesIO(prop["example"].encode()), "example.csv")
                          for name, prop in files.items()}
    response = app.test_client().open(_fill(path, parameters), method=method.upper(), headers=headers,
                                      query_string=query, **kwargs)
    assert 200 <= response.status_code < 300, (kwargs.get("json"), response.status_code, response.get_json())


@pytest.mark.parametrize(("path", "method"), [w for w in WRITES if DOCUMENT["paths"][w.values[0]][w.values[1]]
                                              .get("requestBody", {}).get("required")])
def test_a_required_body_is_required(world, path, method):
    """A body the document calls required is refused when missing (else the document should say optional)."""
    op = DOCUMENT["paths"][path][method]
    parameters = DOCUMENT["paths"][path].get("parameters", []) + op.get("parameters", [])
    world.seed()
    headers = dict(world.headers["admin"])
    headers.update({p["name"]: _example(p) for p in parameters if p["in"] == "header" and _example(p)})
    response = world.app.test_client().open(_fill(path, parameters), method=method.upper(), headers=headers)
    assert 400 <= response.status_code < 500, (response.status_code, response.get_json())


# Parameters the document may leave without an example: an opaque value only the API issues.
NO_EXAMPLE = {"cursor"}


def test_the_document_says_what_a_client_needs():
    gaps = []
    for path, method, op, parameters in _operations(DOCUMENT, ("get", "post", "put", "patch", "delete")):
        where = f"{method.upper()} {path}"
        if not op.get("summary") or not op.get("description"):
            gaps.append(f"{where}: summary and description")
        for p in parameters:
            if not p.get("description"):
                gaps.append(f"{where}: parameter {p['name']} has no description")
            if _example(p) is None and p["name"] not in NO_EXAMPLE:
                gaps.append(f"{where}: parameter {p['name']} has no example")
        responses = op["responses"]
        expected = {"401"} | ({"404"} if "{" in path else set()) | ({"422"} if "requestBody" in op else set())
        if method != "get":
            expected.add("409")
        if any(p["in"] == "header" and p["name"] == "If-Match" for p in parameters):
            expected.add("412")
        gaps += [f"{where}: no {status} response" for status in sorted(expected - set(responses))]
        for status, response in responses.items():
            if status[0] in "45" or status == "default":
                name = response["$ref"].rsplit("/", 1)[-1]
                schema = DOCUMENT["components"]["responses"][name]["content"][JSON]["schema"]
                if schema != {"$ref": "#/components/schemas/Error"}:
                    gaps.append(f"{where}: {status} is not the Error shape")
    assert not gaps, "\n".join(gaps)


def test_batch_answers_document_their_etag():
    for path, method in [("/api/batches", "post"), ("/api/batches/{batch_id}", "get"),
                         ("/api/batches/{batch_id}", "patch"), ("/api/batches/{batch_id}/void", "post")]:
        responses = DOCUMENT["paths"][path][method]["responses"]
        success = responses["201" if method == "post" and path == "/api/batches" else "200"]
        assert success["headers"]["ETag"]["required"], (method, path)
    patch = DOCUMENT["paths"]["/api/batches/{batch_id}"]["patch"]
    assert {"412", "428"} <= set(patch["responses"])
    assert [p for p in patch["parameters"] if p["name"] == "If-Match" and p["required"]]


def test_the_etag_header_is_sent_as_documented(world):
    world.seed()
    client, headers = world.app.test_client(), world.headers["admin"]
    etag = client.get("/api/batches/1", headers=headers).headers["ETag"]
    assert re.fullmatch(r'"\d+"', etag)
    response = client.patch("/api/batches/1", json={"product": "全脂牛奶", "reason": "更正"}, headers=headers)
    assert response.status_code == 428 and response.json["code"] == 428
    response = client.patch("/api/batches/1", json={"product": "全脂牛奶", "reason": "更正"},
                            headers={**headers, "If-Match": etag})
    assert response.status_code == 200 and response.headers["ETag"] != etag
    response = client.patch("/api/batches/1", json={"product": "脱脂牛奶", "reason": "更正"},
                            headers={**headers, "If-Match": etag})
    assert response.status_code == 412 and response.json["status"] == "Precondition Failed"


@pytest.mark.parametrize("value", [0, 1, "yes", "false", None])
def test_a_boolean_in_a_body_is_true_or_false(world, value):
    """The document says boolean: 0, 1 and strings are refused, not read as booleans."""
    world.seed()
    response = world.app.test_client().patch("/api/users/1", json={"active": value}, headers=world.headers["admin"])
    assert response.status_code == 422 and "active" in response.json["errors"], response.json
