"""The least a Flask endpoint backed by PostgreSQL can do, for bench/web_floor.py.

Not part of the product: a bare Flask application (no ORM, no schemas, no authentication, no
audit) whose endpoints do only the database round trips that every request of the real mixed
load must make at the least, on one raw psycopg connection per thread:

* GET  /json   - no database (the ceiling, as the product's /healthz);
* GET  /read   - two `SELECT 1` in autocommit (a bearer-token check, then the read itself);
* POST /write  - one `SELECT 1` and one INSERT of a row in a transaction that commits durably
                 (token check, then the write).

Served by gunicorn with the product's gunicorn.conf.py, so what it measures is what Flask,
gunicorn, psycopg and PostgreSQL cost on this machine before any of the product's own work.
"""
from __future__ import annotations

import os
import threading

import psycopg
from flask import Flask, jsonify

app = Flask(__name__)
_local = threading.local()


def _conn() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = psycopg.connect(os.environ["FLOOR_DATABASE_URL"], autocommit=True)
    return conn


@app.get("/json")
def trivial():
    return jsonify(status="ok")


@app.get("/read")
def read():
    conn = _conn()
    conn.execute("SELECT 1").fetchone()
    value = conn.execute("SELECT 1").fetchone()[0]
    return jsonify(value=value)


@app.post("/write")
def write():
    conn = _conn()
    conn.execute("SELECT 1").fetchone()
    with conn.transaction():
        new_id = conn.execute("INSERT INTO floor_rows (note) VALUES ('x') RETURNING id").fetchone()[0]
    return jsonify(id=new_id), 201
