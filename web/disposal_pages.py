"""Agency pages on a failed batch: its disposal, retest and objections (applied for, concluded,
decided), opening a recall case from it, its traceability timeline."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from core.extensions import db
from followup.services import cases, disposals
from followup.services.appeals import (apply_for_retest, conclude_retest, decide_objection, get_objection, get_retest,
                                       list_objections, list_retests, raise_objection, retest_due_on)
from followup.services.traceability import trace_batch
from web.access import page_requires, user_scope
from web.followup import (CASE_KINDS, CASE_STATUSES, PAGE, STATE_LABELS, STATES, TIMELINE, _page, _pager, _region, _regions,
                          _status, bp)
from web.followup_forms import (OBJECTION_DECISIONS, OBJECTION_SUBJECTS, SEVERITY_LABELS, DisposalForm,
                                ObjectionDecisionForm, ObjectionForm, RecallForm, RetestConclusionForm, RetestForm)
from web.pages import run_service


@bp.get("/disposals")
@page_requires("followup_read")
def disposals_index():
    """Failed batches awaiting disposal, earliest deadline first, by state."""
    state = request.args.get("state", "open")
    state = state if state in STATES else "open"
    page, region = _page(), _region()
    rows = disposals.list_disposals(db.session, state, region=region, scope=user_scope(), limit=PAGE + 1,
                                    offset=(page - 1) * PAGE)
    kept = {"state": state, "region": region} if region else {"state": state}
    prev_url, next_url = _pager(".disposals_index", page, len(rows) > PAGE, **kept)
    return render_template("followup/disposals.html", rows=rows[:PAGE], state=state, states=STATES, state_labels=STATE_LABELS,
                           region=region,
                           regions=_regions(), prev_url=prev_url, next_url=next_url)


def _disposal_page(batch_id: int, problems=(), status: int = 200, **forms):
    row = disposals.get_disposal(db.session, batch_id, user_scope())
    d = row.disposal
    defaults = {f: getattr(d, f) for f in ("severity", "notified_on", "unit_notified_on", "measures", "cause",
                                           "outcome")} if d else {}
    forms.setdefault("form", DisposalForm(data=defaults, formdata=None))
    forms.setdefault("retest_form", RetestForm(formdata=None))
    forms.setdefault("objection_form", ObjectionForm(formdata=None))
    forms.setdefault("conclusion_form", RetestConclusionForm(formdata=None))
    retests = list_retests(db.session, user_scope(), batch_id=batch_id)
    objections = list_objections(db.session, user_scope(), batch_id=batch_id)
    decide_forms = forms.pop("decide_forms", {})
    for o in objections:
        if o.status == "open" and o.id not in decide_forms:
            decide_forms[o.id] = ObjectionDecisionForm(prefix=f"objection-{o.id}", formdata=None)
    due = retest_due_on(db.session, d.notified_on) if d and d.notified_on else None
    return render_template("followup/disposal.html", row=row, problems=problems, retests=retests, retest_due=due,
                           objections=objections, decide_forms=decide_forms, decisions=OBJECTION_DECISIONS,
                           subjects=OBJECTION_SUBJECTS,
                           cases=cases.list_cases(db.session, cases.CaseFilter(batch_id=batch_id), user_scope()),
                           state_labels=STATE_LABELS, severities=SEVERITY_LABELS, statuses=CASE_STATUSES, kinds=CASE_KINDS,
                           **forms), status


@bp.get("/disposals/<int(min=1, max=2147483647):batch_id>")
@page_requires("followup_read")
def disposal(batch_id: int):
    """One failed batch's disposal: its deadline, its steps, retests, objections and cases."""
    return _disposal_page(batch_id)


def _submit_on_disposal_page(batch_id: int, posted, service, message: str, **page_forms):
    """A form posted from a disposal page: `service(posted)` for a valid form, then back to the
    page with `message`; otherwise the page again (422) with `page_forms` (the posted form among
    them) and the problems."""
    problems: list[str] = []
    if posted.validate_on_submit():
        done, problems = run_service(posted, lambda: service(posted))
        if done is not None:
            flash(message, "info")
            return redirect(url_for(".disposal", batch_id=batch_id))
    return _disposal_page(batch_id, problems, 422, **page_forms)


@bp.post("/disposals/<int(min=1, max=2147483647):batch_id>/<any(record, close):action>")
@page_requires("followup_write")
def disposal_action(batch_id: int, action: str):
    """Record disposal steps, or close the disposal (the service names what is missing)."""
    def service(form):
        data = form.to_data()
        if action == "record":
            data.pop("closed_on")
            return disposals.record_disposal(db.session, batch_id, data, g.user.id, user_scope())
        return disposals.close_disposal(db.session, batch_id, data, g.user.id, user_scope())

    message = _("Disposal closed.") if action == "close" else _("Disposal steps recorded.")
    form = DisposalForm()
    return _submit_on_disposal_page(batch_id, form, service, message, form=form)


@bp.post("/disposals/<int(min=1, max=2147483647):batch_id>/retest")
@page_requires("followup_write")
def retest(batch_id: int):
    """The producer's retest application (refused after its due date, which the message names)."""
    def service(form):
        data = {"applied_on": form.applied_on.data, "applicant": form.applicant.data or None,
                "laboratory": form.laboratory.data}
        return apply_for_retest(db.session, batch_id, data, g.user.id, user_scope())

    form = RetestForm()
    return _submit_on_disposal_page(batch_id, form, service, _("Retest application recorded."), retest_form=form)


@bp.post("/disposals/<int(min=1, max=2147483647):batch_id>/objection")
@page_requires("followup_write")
def objection(batch_id: int):
    def service(form):
        data = {"subject": form.subject.data, "grounds": form.grounds.data, "raised_on": form.raised_on.data}
        return raise_objection(db.session, batch_id, data, g.user.id, user_scope())

    form = ObjectionForm()
    return _submit_on_disposal_page(batch_id, form, service, _("Objection recorded."), objection_form=form)


@bp.post("/retests/<int(min=1, max=2147483647):retest_id>/conclude")
@page_requires("followup_write")
def conclude(retest_id: int):
    """Record a retest's final conclusion; a pass amends the batch to pass (its revision kept)."""
    retest = get_retest(db.session, retest_id, user_scope())
    batch_id = retest.batch_id
    form = RetestConclusionForm()
    problems: list[str] = []
    if form.validate_on_submit():
        data = {"conclusion": form.conclusion.data, "report_no": (form.report_no.data or "").strip() or None,
                "concluded_on": form.concluded_on.data}
        done, problems = run_service(form, lambda: conclude_retest(db.session, retest_id, data, g.user.id,
                                                                   user_scope()))
        if done is not None:
            if done.conclusion == "pass":
                flash(_("The retest passed: the batch's conclusion is now pass."), "info")
                return redirect(url_for("batch_pages.show", batch_id=batch_id))
            flash(_("The retest confirmed the failure."), "info")
            return redirect(url_for(".disposal", batch_id=batch_id))
    return _disposal_page(batch_id, problems, 422, conclusion_form=form)


@bp.post("/objections/<int(min=1, max=2147483647):objection_id>/decide")
@page_requires("followup_write")
def decide(objection_id: int):
    """Uphold or reject an objection, with the grounds of the decision."""
    found = get_objection(db.session, objection_id, user_scope())
    batch_id = found.batch_id
    form = ObjectionDecisionForm(prefix=f"objection-{objection_id}")

    def service(form):
        data = {"status": form.status.data, "decision": form.decision.data, "decided_on": form.decided_on.data}
        return decide_objection(db.session, objection_id, data, g.user.id, user_scope())

    return _submit_on_disposal_page(batch_id, form, service, _("Objection decided."),
                                    decide_forms={objection_id: form})


@bp.route("/disposals/<int(min=1, max=2147483647):batch_id>/recall", methods=["GET", "POST"])
@page_requires("followup_write")
def new_recall(batch_id: int):
    """Open a recall case from a failed batch."""
    row = disposals.get_disposal(db.session, batch_id, user_scope())
    batch = row.batch
    form = RecallForm(data={"title": _("Recall of %(product)s (sample %(no)s)", product=batch.product or "",
                                       no=batch.sample_no)} if request.method == "GET" else None)
    problems: list[str] = []
    if form.validate_on_submit():
        data = {"kind": "recall", "batch_ids": [batch_id], "title": form.title.data, "level": form.level.data,
                "product_type": form.product_type.data or None, "unit": form.unit.data or None,
                "quantity_concerned": float(form.quantity_concerned.data)
                if form.quantity_concerned.data is not None else None, "note": form.note.data or None}
        done, problems = run_service(form, lambda: cases.open_case(db.session, data, g.user.id, user_scope()))
        if done is not None:
            flash(_("Recall case opened."), "info")
            return redirect(url_for(".case", case_id=done.id))
    return render_template("followup/recall.html", row=row, form=form, problems=problems), _status(form, problems)


@bp.get("/trace/<int(min=1, max=2147483647):batch_id>")
@page_requires("followup_read")
def trace(batch_id: int):
    """The traceability timeline of a failed batch: its producer's other batches, retests, cases."""
    return render_template("followup/trace.html", t=trace_batch(db.session, batch_id, user_scope()),
                           labels=TIMELINE, statuses=CASE_STATUSES, kinds=CASE_KINDS)
