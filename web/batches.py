"""Inspector pages: record, list, search and download, show, amend and void batches; import files."""
from __future__ import annotations

from datetime import date

from flask import current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from core.errors import DomainError
from core.export import download
from core.extensions import db
from core.jobs import Job, job_for
from inspection.imports.columns import FILE_COLUMNS, template
from inspection.models import CONCLUSIONS, STAGES
from inspection.services import batches as service
from inspection.services.batch_export import export_batches
from inspection.services.queries import BatchFilter, list_batches
from inspection.services.uploads import UploadLimits, import_or_queue
from web.access import page_requires, user_scope
from web.choices import category_choices, region_choices
from web.forms import AmendForm, BatchForm, UploadForm, VoidForm, stage_choices
from web.i18n import is_english, translate
from web.import_report import file_size, shown_report
from web.pages import page_blueprint, run_service, usernames

bp = page_blueprint("batch_pages", __name__, url_prefix="/batches")
PAGE_SIZE = 25
FILTERS = ("search", "category", "region", "conclusion", "stage", "sampled_from", "sampled_to")


def _choose(form: BatchForm) -> None:
    form.category.choices = category_choices(blank=_("(choose)"))
    form.region.choices = region_choices(user_scope(), blank=_("(choose)"))


def _filter_from_args() -> tuple[BatchFilter, dict, list[str]]:
    args = {k: request.args.get(k, "").strip() for k in FILTERS}
    problems = []
    flt = BatchFilter(search=args["search"] or None, category=args["category"] or None,
                      region=args["region"] or None,
                      conclusion=args["conclusion"] if args["conclusion"] in CONCLUSIONS else None,
                      stage=args["stage"] if args["stage"] in STAGES else None,
                      include_voided=request.args.get("voided") == "1")
    for name in ("sampled_from", "sampled_to"):
        try:
            setattr(flt, name, date.fromisoformat(args[name]) if args[name] else None)
        except ValueError:  # say so: a silently dropped date would list every batch as if filtered
            problems.append(_("The date %(value)s is not understood; the list is not limited by it.",
                              value=args[name]))
            args[name] = ""
    return flt, args, problems


@bp.get("")
@page_requires("read")
def index():
    """List and search batches, newest first, one page at a time."""
    flt, args, problems = _filter_from_args()
    try:
        rows, next_cursor = list_batches(db.session, flt, "-sampled_on", PAGE_SIZE, request.args.get("cursor") or None,
                                         user_scope())
    except DomainError as error:
        rows, next_cursor, problems = [], None, [*problems, translate(error.message)]
    kept = {k: v for k, v in request.args.items() if k != "cursor" and v}
    return render_template(
        "batches/index.html", rows=rows, args=args, problems=problems, voided=flt.include_voided,
        categories=category_choices(blank=_("All categories")),
        regions=region_choices(user_scope(), blank=_("All regions")),
        next_url=url_for(".index", cursor=next_cursor, **kept) if next_cursor else None,
        first_url=url_for(".index", **kept) if request.args.get("cursor") else None,
        downloads={fmt: url_for(".export", format=fmt, **kept) for fmt in ("csv", "xlsx")})


@bp.get("/export")
@page_requires("read")
def export():
    """The list's batches under its filters as a file in the import's columns (`?format=csv|xlsx`):
    Chinese headers and words on a Chinese page, as the import template. A refused export (too many
    batches, a bad filter) is said on the list page."""
    flt, _args, problems = _filter_from_args()
    kept = {k: v for k, v in request.args.items() if k not in ("cursor", "format") and v}
    if problems:  # a date not understood: the list says which; a file without that limit is not what was asked
        flash(_("Nothing was downloaded: correct the filters first."), "error")
        return redirect(url_for(".index", **kept))
    fmt = "xlsx" if request.args.get("format") == "xlsx" else "csv"
    try:
        made = export_batches(db.session, flt, user_scope(), current_app.config["BATCH_EXPORT_MAX_ROWS"],
                              chinese=not is_english())
        return download(made.header, made.rows, fmt, "batches")
    except DomainError as error:
        flash(_("Nothing was downloaded: %(reason)s", reason=translate(error.message)), "error")
        return redirect(url_for(".index", **kept))


@bp.route("/new", methods=["GET", "POST"])
@page_requires("record")
def new():
    """Record a batch with its test items; `?like=<id>` fills the form from a batch the user may see."""
    like = None
    if request.method == "GET" and request.args.get("like", "").isdigit():
        like = service.get_batch(db.session, int(request.args["like"]), user_scope())
    form = BatchForm(data=_like_data(like)) if like else BatchForm()
    _choose(form)
    problems: list[str] = []
    existing = None
    if form.validate_on_submit():
        done, problems = run_service(
            form, lambda: service.create_batch(db.session, form.to_data(), g.user.id, user_scope()))
        if done is not None:
            flash(_("Batch %(no)s recorded.", no=done.sample_no), "info")
            return redirect(url_for(".show", batch_id=done.id))
        if translate(service.ALREADY_RECORDED) in form.sample_no.errors:
            # "Already recorded" alone leaves the inspector stuck: say what to do instead, and
            # link the batch when they may see it (one outside their region stays unnamed).
            form.sample_no.errors = [_("This sample number is already recorded; to correct that batch, "
                                       "amend it instead of recording it again.")]
            existing = service.batch_by_sample_no(db.session, form.sample_no.data.strip(), user_scope())
    return render_template("batches/form.html", form=form, problems=problems, batch=None, existing=existing,
                           like=like), 422 if form.errors or problems else 200


# What the next batch of a sampling round shares with the last: the product, where and from whom
# it was sampled, who sampled and tested it, and which items were tested against what. Its own
# sample number, dates, lot, report and every result are left for the inspector to enter.
_LIKE_FIELDS = ("category", "region", "stage", "product", "brand", "specification", "enterprise_credit_code",
                "enterprise_name", "sampling_agency", "laboratory")
_LIKE_ITEM_FIELDS = ("item", "unit", "limit", "standard")


def _like_data(batch) -> dict:
    data = _form_data(batch)
    kept = {f: data[f] for f in _LIKE_FIELDS}
    kept["items"] = [{f: i.get(f) for f in _LIKE_ITEM_FIELDS} for i in data["items"]]
    return kept


@bp.get("/<int(min=1, max=2147483647):batch_id>")
@page_requires("read")
def show(batch_id: int):
    """A batch, its test items and its earlier versions."""
    batch = service.get_batch(db.session, batch_id, user_scope())
    revisions = service.list_revisions(db.session, batch_id, user_scope())
    return render_template("batches/show.html", batch=batch, revisions=revisions, stages=dict(stage_choices()),
                           users=usernames(r.changed_by_id for r in revisions), void_form=VoidForm(version=batch.version))


@bp.route("/<int(min=1, max=2147483647):batch_id>/amend", methods=["GET", "POST"])
@page_requires("record")
def amend(batch_id: int):
    """Correct a batch, giving a reason; refused when someone changed it meanwhile."""
    batch = service.get_batch(db.session, batch_id, user_scope())
    form = AmendForm(data=_form_data(batch)) if request.method == "GET" else AmendForm()
    _choose(form)
    problems: list[str] = []
    if form.validate_on_submit():
        version = _version(form)
        if version is None:
            # Without the version it was opened at, a save could overwrite someone's change
            # unseen (the API answers 428 to an amendment without If-Match).
            problems = [_("The form does not say which version of the batch it was opened at. "
                          "Open the batch again, then redo your change.")]
        else:
            changes = form.to_data()
            changes.pop("sample_no")
            done, problems = run_service(
                form, lambda: service.amend_batch(db.session, batch_id, changes, form.reason.data, version,
                                                  g.user.id, user_scope()),
                stale=_("Someone else changed this batch while you were editing. "
                        "Open it again to see the current version, then redo your change."))
            if done is not None:
                flash(_("Batch %(no)s amended.", no=batch.sample_no), "info")
                return redirect(url_for(".show", batch_id=batch_id))
    return render_template("batches/form.html", form=form, problems=problems, batch=batch), \
        422 if form.errors or problems else 200


@bp.post("/<int(min=1, max=2147483647):batch_id>/void")
@page_requires("record")
def void(batch_id: int):
    """Void a batch with a reason (it stays on record but leaves every statistic)."""
    batch = service.get_batch(db.session, batch_id, user_scope())
    form = VoidForm()
    problems: list[str] = []
    if form.validate_on_submit():
        done, problems = run_service(
            form, lambda: service.void_batch(db.session, batch_id, form.reason.data, _version(form), g.user.id,
                                             user_scope()),
            stale=_("Someone else changed this batch meanwhile; it was not voided. Look at it again first."))
        if done is not None:
            flash(_("Batch %(no)s voided.", no=batch.sample_no), "info")
            return redirect(url_for(".show", batch_id=batch_id))
    revisions = service.list_revisions(db.session, batch_id, user_scope())
    return render_template("batches/show.html", batch=batch, revisions=revisions, void_form=form,
                           stages=dict(stage_choices()), users=usernames(r.changed_by_id for r in revisions),
                           problems=problems), 422


def _version(form) -> int | None:
    return int(form.version.data) if (form.version.data or "").isdigit() else None


def _form_data(batch) -> dict:
    data = service.batch_to_data(batch)
    data["enterprise_name"] = batch.enterprise.name if batch.enterprise else batch.producer_name
    data["version"] = batch.version
    items = data["items"] + [{}] * max(0, 3 - len(data["items"]))
    data["items"] = items
    return data


@bp.route("/import", methods=["GET", "POST"])
@page_requires("record")
def upload():
    """Upload a CSV or XLSX file; small files report at once, large ones run as a worker job."""
    form = UploadForm()
    report, problems = None, []
    if form.validate_on_submit():
        limits = UploadLimits.from_config(current_app.config)
        upload = form.file.data
        outcome, problems = run_service(form, lambda: import_or_queue(
            db.session, upload.read(limits.max_bytes + 1), upload.filename or "upload.csv", bool(form.atomic.data),
            g.user.id, user_scope(), limits))
        if isinstance(outcome, Job):
            return redirect(url_for(".job", job_id=outcome.id))
        report = shown_report(outcome)
    # What a file holds, and the codes it takes, so an inspector can write one without the README.
    return render_template("batches/upload.html", form=form, report=report, problems=problems,
                           async_size=file_size(current_app.config["IMPORT_ASYNC_BYTES"]), columns=FILE_COLUMNS,
                           categories=category_choices(), regions=region_choices(user_scope())
                           ), 422 if form.errors or problems else 200


@bp.get("/import/template")
@page_requires("record")
def import_template():
    """The header row and one example row (`?format=xlsx|csv`); Chinese headers and words on a
    Chinese page, English ones on an English page: the import takes either."""
    header, example = template(chinese=not is_english())
    fmt = "csv" if request.args.get("format") == "csv" else "xlsx"
    return download(header, [example], fmt, "import-template")


@bp.get("/import/jobs/<int(min=1, max=2147483647):job_id>")
@page_requires("record")
def job(job_id: int):
    """A queued import: its progress while it runs, its report once done."""
    queued = job_for(db.session, job_id, g.user)
    report = shown_report(queued.result) if queued.status == "done" else None
    return render_template("batches/job.html", job=queued, report=report)


@bp.get("/import/jobs/<int(min=1, max=2147483647):job_id>/progress")
@page_requires("record")
def job_progress(job_id: int):
    """The job's progress for the page's progress bar (polled by app.js)."""
    queued = job_for(db.session, job_id, g.user)
    return jsonify(status=queued.status, progress=queued.progress, total=queued.total)
