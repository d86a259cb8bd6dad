"""Agency (follow-up) pages: recall and traceability cases, the blacklist and credit, the sampling
plan; the disposal pages (web/disposal_pages.py) share this blueprint and its helpers."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import HiddenField

from core.extensions import db
from core.reference.trees import load_trees
from followup.services import blacklist, cases, disposals
from followup.services.common import enterprise_in_scope
from followup.services.credit import credit_record
from followup.services.deadlines import FINISHED
from followup.services.sampling_plan import next_plan_month, sampling_plan
from inspection.credit_code import credit_code_error
from inspection.models import Batch, Enterprise
from inspection.services.batches import in_scope
from web.access import page_requires, user_scope
from web.case_display import history, regions_reached, split_regions
from web.choices import region_choices
from web.followup_forms import (PRODUCT_TYPE_LABELS, RECALL_LEVELS, SEVERITY_LABELS, ActionForm, CancelForm,
                                CaseDetailsForm, CloseCaseForm, ReasonForm)
from web.forms import REQUIRED, EmptyForm
from web.i18n import ISO_MONTH, translate
from web.pages import page_blueprint, run_service

bp = page_blueprint("followup_pages", __name__, url_prefix="/followup")
PAGE = 25
STATES = {"open": _l("Open (not closed)"), "due": _l("Due soon"), "overdue": _l("Overdue"), "closed": _l("Closed"),
          "all": _l("All")}
# A disposal's own state: the filter's "open" means "not closed, whatever else" (its option says
# so), but one disposal in that state is simply in progress, so it gets its own word.
STATE_LABELS = {"open": _l("In progress"), "due": _l("Due soon"), "overdue": _l("Overdue"), "closed": _l("Closed")}
CASE_STATUSES = {"open": _l("Open"), "investigating": _l("Investigating"), "action_taken": _l("Action taken"),
                 "closed": _l("Closed"), "cancelled": _l("Cancelled")}
CASE_KINDS = {"recall": _l("Recall"), "traceability": _l("Traceability")}
TIMELINE = {"sampled": _l("Sampled (passed)"), "failed": _l("Sampled (failed)"),
            "retest_applied": _l("Retest applied for"), "retest_pass": _l("Retest passed"),
            "retest_fail": _l("Retest confirmed the failure"), "recall_opened": _l("Recall case opened"),
            "traceability_opened": _l("Traceability case opened"), "case_closed": _l("Case closed"),
            "case_cancelled": _l("Case cancelled"), "blacklisted": _l("Blacklisted"),
            "blacklist_removed": _l("Taken off the blacklist")}
# The blacklist rules by name (followup.services.blacklist.rule_findings), for the pages.
RULES = {"serious_failures": _l("repeated serious failures"), "refused_sampling": _l("refusal of sampling")}


def _page() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


def _pager(endpoint: str, page: int, more: bool, **kept):
    return (url_for(endpoint, page=page - 1, **kept) if page > 1 else None,
            url_for(endpoint, page=page + 1, **kept) if more else None)


def _region() -> str | None:
    """The page's region filter, if it names a region within the user's scope."""
    code = request.args.get("region", "").strip()
    regions, scope = load_trees(db.session).regions, user_scope()
    return code if code in regions and (scope is None or code in regions.subtree(scope)) else None


def _regions() -> list[tuple[str, str]]:
    return region_choices(user_scope(), blank=_("All regions"))


def _status(form, problems) -> int:
    return 422 if form.errors or problems else 200


# Cases ---------------------------------------------------------------------------------------

@bp.get("/cases")
@page_requires("followup_read")
def cases_index():
    """Recall and traceability cases, newest first, with their overdue flags."""
    kind = request.args.get("kind") if request.args.get("kind") in CASE_KINDS else None
    status = request.args.get("status") if request.args.get("status") in CASE_STATUSES else None
    overdue = {"yes": True, "no": False}.get(request.args.get("overdue", ""))
    page, region = _page(), _region()
    rows = cases.list_cases(db.session, cases.CaseFilter(kind=kind, status=status, region=region, overdue=overdue),
                            user_scope(), PAGE + 1, (page - 1) * PAGE)
    kept = {k: v for k, v in {"kind": kind, "status": status, "region": region,
                              "overdue": request.args.get("overdue")}.items() if v}
    prev_url, next_url = _pager(".cases_index", page, len(rows) > PAGE, **kept)
    return render_template("followup/cases.html", rows=rows[:PAGE], kind=kind, status=status, region=region,
                           regions=_regions(),
                           overdue=request.args.get("overdue", ""), kinds=CASE_KINDS, statuses=CASE_STATUSES,
                           is_overdue=cases.is_overdue, levels=RECALL_LEVELS, prev_url=prev_url, next_url=next_url)


class TransitionForm(EmptyForm):
    to = HiddenField()


def _case_page(case_id: int, problems=(), status: int = 200, **forms):
    case = cases.get_case(db.session, case_id, user_scope())
    forms.setdefault("details_form", CaseDetailsForm(data={
        "quantity_concerned": case.quantity_concerned, "quantity_recovered": case.quantity_recovered,
        "unit": case.unit, "distribution": regions_reached(case.distribution, load_trees(db.session).regions),
        "recovered_disposal": case.recovered_disposal}, formdata=None))
    # Closing usually confirms what the details form already saved: start from the stored values.
    forms.setdefault("close_form", CloseCaseForm(data={
        "quantity_recovered": case.quantity_recovered, "recovered_disposal": case.recovered_disposal,
        "outcome": case.outcome}, formdata=None))
    for name, cls in (("transition_form", TransitionForm), ("action_form", ActionForm), ("cancel_form", CancelForm)):
        forms.setdefault(name, cls(formdata=None))
    allowed = cases.TRANSITIONS[case.status]
    return render_template("followup/case.html", case=case, problems=problems, allowed=allowed,
                           batches=_case_batches(case),
                           steps=[t for t in allowed if t not in ("closed", "cancelled")],
                           finished=case.status in FINISHED, overdue=cases.is_overdue(case),
                           statuses=CASE_STATUSES, kinds=CASE_KINDS, product_types=PRODUCT_TYPE_LABELS,
                           levels=RECALL_LEVELS, history=history(case), **forms), status


def _case_batches(case) -> list[tuple[Batch, bool]]:
    """The case's batches by sample number (people know batches by it, not by the database id),
    each with whether the user may open it (a case may link a producer's batch sampled elsewhere)."""
    if not case.batch_ids:
        return []
    found = {b.id: b for b in db.session.scalars(select(Batch).where(Batch.id.in_(case.batch_ids)))}
    trees, scope = load_trees(db.session), user_scope()
    return [(found[i], in_scope(trees, scope, found[i].region_code)) for i in case.batch_ids if i in found]


@bp.get("/cases/<int(min=1, max=2147483647):case_id>")
@page_requires("followup_read")
def case(case_id: int):
    """A case: its facts, deadlines, events and the workflow steps its status allows."""
    return _case_page(case_id)


def _case_post(case_id: int, form, form_name: str, call, done_message):
    problems: list[str] = []
    if form.validate_on_submit():
        done, problems = run_service(form, call)
        if done is not None:
            flash(done_message, "info")
            return redirect(url_for(".case", case_id=case_id))
    return _case_page(case_id, problems, 422, **{form_name: form})


@bp.post("/cases/<int(min=1, max=2147483647):case_id>/transition")
@page_requires("followup_write")
def case_transition(case_id: int):
    """Move the case one step on (investigating, action taken); the service refuses a move its
    status does not allow (a page left open while someone else moved it)."""
    form = TransitionForm()
    return _case_post(case_id, form, "transition_form", lambda: cases.transition(
        db.session, case_id, {"to": form.to.data}, g.user.id, user_scope()), _("Case status changed."))


@bp.post("/cases/<int(min=1, max=2147483647):case_id>/cancel")
@page_requires("followup_write")
def case_cancel(case_id: int):
    form = CancelForm()
    return _case_post(case_id, form, "cancel_form", lambda: cases.transition(
        db.session, case_id, {"to": "cancelled", "reason": form.reason.data}, g.user.id, user_scope()),
        _("Case cancelled."))


def _number(field):
    return float(field.data) if field.data is not None else None


@bp.post("/cases/<int(min=1, max=2147483647):case_id>/close")
@page_requires("followup_write")
def case_close(case_id: int):
    """Close: a recall needs the quantity recovered and the disposal of the recovered goods."""
    form = CloseCaseForm()
    return _case_post(case_id, form, "close_form", lambda: cases.transition(
        db.session, case_id, {"to": "closed", "quantity_recovered": _number(form.quantity_recovered),
                              "recovered_disposal": form.recovered_disposal.data or None,
                              "outcome": form.outcome.data or None}, g.user.id, user_scope()), _("Case closed."))


@bp.post("/cases/<int(min=1, max=2147483647):case_id>/action")
@page_requires("followup_write")
def case_action(case_id: int):
    form = ActionForm()
    return _case_post(case_id, form, "action_form", lambda: cases.record_action(
        db.session, case_id, {"what": form.what.data, "started": form.started.data == "1"}, g.user.id,
        user_scope()), _("Action recorded."))


@bp.post("/cases/<int(min=1, max=2147483647):case_id>/details")
@page_requires("followup_write")
def case_details(case_id: int):
    """Quantities and the regions the goods reached."""
    form = CaseDetailsForm()
    regions = load_trees(db.session).regions
    # An officer writes where the goods went as they say it (杭州市 宁波市) or as codes; a name
    # stands for the one region it names, anything else is named back as unknown.
    given = split_regions(form.distribution.data)
    reached = [c if c in regions or len(regions.named(c)) != 1 else regions.named(c)[0] for c in given]
    data = {"quantity_concerned": _number(form.quantity_concerned), "quantity_recovered":
            _number(form.quantity_recovered), "unit": form.unit.data or None, "distribution": reached,
            "recovered_disposal": form.recovered_disposal.data or None}
    # A traceability case's form leaves out the recall's fields: what it does not send stays as stored.
    data = {name: value for name, value in data.items() if getattr(form, name).raw_data}
    unknown = [c for c in reached if c not in regions]
    if unknown and form.validate_on_submit():
        form.distribution.errors = [_("Unknown region codes: %(codes)s", codes=", ".join(unknown))]
        return _case_page(case_id, (), 422, details_form=form)
    return _case_post(case_id, form, "details_form", lambda: cases.update_case(
        db.session, case_id, data, g.user.id, user_scope()), _("Case details saved."))


# Blacklist and credit -----------------------------------------------------------------------

@bp.get("/blacklist")
@page_requires("followup_read")
def blacklist_index(form=None, problems=(), status: int = 200):
    """Blacklisted enterprises with the reason that put them there."""
    page = _page()
    rows = blacklist.list_blacklist(db.session, user_scope(), limit=PAGE + 1, offset=(page - 1) * PAGE)
    prev_url, next_url = _pager(".blacklist_index", page, len(rows) > PAGE)
    return render_template("followup/blacklist.html", rows=rows[:PAGE], form=form or ReasonForm(), problems=problems,
                           rules=RULES,
                           prev_url=prev_url, next_url=next_url), status


@bp.post("/blacklist")
@page_requires("followup_write")
def blacklist_add():
    """Blacklist an enterprise named by its credit code, with a reason."""
    form = ReasonForm()
    problems: list[str] = []
    if form.validate_on_submit():
        code = (form.credit_code.data or "").strip().upper()
        # A malformed code names no enterprise anywhere, so saying what is wrong with it (as the
        # batch form does) tells nothing about other regions; a well-formed one gets one answer
        # whether it is unknown or out of view.
        malformed = credit_code_error(code) if code else None
        found = db.session.scalar(select(Enterprise).where(Enterprise.credit_code == code)) \
            if code and not malformed else None
        if not code:
            form.credit_code.errors = [str(REQUIRED)]
        elif malformed:
            form.credit_code.errors = [translate(malformed)]
        elif found is None or not enterprise_in_scope(db.session, found, user_scope()):  # one answer for both
            form.credit_code.errors = [_("No enterprise with this credit code in your region.")]
        else:
            done, problems = run_service(form, lambda: blacklist.add(db.session, found.id, form.reason.data,
                                                                     g.user.id, user_scope()))
            if done is not None:
                flash(_("%(name)s blacklisted.", name=found.name), "info")
                return redirect(url_for(".blacklist_index"))
    return blacklist_index(form, problems, 422)


@bp.get("/enterprises/<int(min=1, max=2147483647):enterprise_id>")
@page_requires("followup_read")
def enterprise(enterprise_id: int, form=None, problems=(), status: int = 200):
    """An enterprise's quality-credit record and blacklist history."""
    found = blacklist.get_enterprise(db.session, enterprise_id, user_scope())
    page = _page()
    failed = disposals.list_disposals(db.session, "all", enterprise_id=enterprise_id, scope=user_scope(),
                                      limit=PAGE + 1, offset=(page - 1) * PAGE, newest_first=True)
    prev_url, next_url = _pager(".enterprise", page, len(failed) > PAGE, enterprise_id=enterprise_id)
    return render_template("followup/enterprise.html", r=credit_record(db.session, found, user_scope()),
                           form=form or ReasonForm(), problems=problems, severities=SEVERITY_LABELS, rules=RULES,
                           levels=RECALL_LEVELS,
                           failed_batches=failed[:PAGE],
                           prev_url=prev_url, next_url=next_url), status


@bp.post("/enterprises/<int(min=1, max=2147483647):enterprise_id>/<any(blacklist, unblacklist):action>")
@page_requires("followup_write")
def enterprise_blacklist(enterprise_id: int, action: str):
    """Blacklist an enterprise or take it off, always with a reason."""
    form = ReasonForm()
    problems: list[str] = []
    if form.validate_on_submit():
        change = blacklist.add if action == "blacklist" else blacklist.remove
        done, problems = run_service(form, lambda: change(db.session, enterprise_id, form.reason.data, g.user.id,
                                                          user_scope()))
        if done is not None:
            flash(_("Blacklisted.") if action == "blacklist" else _("Taken off the blacklist."), "info")
            return redirect(url_for(".enterprise", enterprise_id=enterprise_id))
    return enterprise(enterprise_id, form=form, problems=problems, status=422)


# Sampling plan ------------------------------------------------------------------------------

@bp.get("/plan")
@page_requires("followup_read")
def plan():
    """Next month's sampling plan: series and producers ranked by risk, with the reasons."""
    month = request.args.get("month", "").strip()
    problems = []
    if month and not ISO_MONTH.match(month):
        problems.append(_("The month %(month)s is not understood; showing next month.", month=month))
        month = ""
    elif month > next_plan_month():
        problems.append(_("A plan is drawn up for next month at the latest; showing it."))
        month = ""
    page, region = _page(), _region()
    result = sampling_plan(db.session, month or None, region, user_scope(), PAGE, (page - 1) * PAGE)
    kept = {"month": result["month"], "region": region} if region else {"month": result["month"]}
    prev_url, next_url = _pager(".plan", page, result["total"] > page * PAGE, **kept)
    return render_template("followup/plan.html", plan=result, problems=problems, region=region, regions=_regions(),
                           prev_url=prev_url, next_url=next_url)


from web import alert_case_pages, disposal_pages  # noqa: E402,F401  (their routes are on this blueprint)
