"""Group what a scan raised or escalated and write the notices to the outbox (same transaction).

A group is a connected set of the scan's new or escalated alerts where one series descends from
another (same or narrower region and category): a city-wide drift alerted in the city and in
its counties is one group, so each recipient gets one notice about it, not one per county. A
webhook gets one notice per group; an email address one per scan, listing its groups in turn (a
city with many unrelated drifts is one email, not one per drift).
A supervisor's escalation of an alert is a group of its own, told to the same recipients as a
scan's notice about that alert would be (the supervisor's own subscriptions excepted), with who
escalated it and why.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.models import User
from core.auth.permissions import may, scope_of
from core.models import utcnow
from core.reference.models import ALL_PRODUCTS
from core.reference.trees import Trees, load_trees
from warning.engine.levels import RANK
from warning.models import Alert, AlertEvent, AlertGroup, Assessment, Scan, alert_assessment
from warning.notify.models import OutboxMessage, Subscription, Webhook
from warning.notify.words import level_zh

NOTIFYING_ACTIONS = ("raised", "escalated")


def category_ancestors(trees: Trees, code: str) -> tuple[str, ...]:
    """The category, its ancestors and * (all products, the root of every series' category)."""
    if code == ALL_PRODUCTS:
        return (ALL_PRODUCTS,)
    return (*(trees.categories.ancestors(code) if code in trees.categories else (code,)), ALL_PRODUCTS)


def region_ancestors(trees: Trees, code: str) -> tuple[str, ...]:
    return trees.regions.ancestors(code) if code in trees.regions else (code,)


def matches(trees: Trees, region: str, category: str, min_level: str, alert: dict) -> bool:
    """Whether a filter (region subtree, category subtree, lowest level) takes in an alert."""
    return (region in region_ancestors(trees, alert["region"])
            and category in category_ancestors(trees, alert["category"])
            and RANK[alert["level"]] >= RANK[min_level])


def group_alerts(trees: Trees, alerts: list[Alert]) -> list[list[Alert]]:
    """Split alerts into groups: connected where one series descends from another."""
    by_key = {(a.category_code, a.region_code): a for a in alerts}
    parent = {key: key for key in by_key}

    def root(key):
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for cat, region in by_key:
        for up_cat in category_ancestors(trees, cat):
            for up_region in region_ancestors(trees, region):
                if (up_cat, up_region) in by_key:
                    parent[root((cat, region))] = root((up_cat, up_region))
    groups: dict = {}
    for key, alert in by_key.items():
        groups.setdefault(root(key), []).append(alert)
    return [sorted(g, key=lambda a: (len(region_ancestors(trees, a.region_code)),
                                     len(category_ancestors(trees, a.category_code)), a.id))
            for g in sorted(groups.values(), key=lambda g: min(a.id for a in g))]


@dataclass(frozen=True)
class _Filter:
    """One recipient's filter; `scope` is the subscriber's own region (None: no limit)."""

    channel: str
    key: str  # one notice per key and group: an email address (any case), a webhook id
    address: str
    target_id: int
    region: str
    category: str
    min_level: str
    scope: str | None = None
    user_id: int | None = None  # the subscriber (email)


@dataclass
class _Notice:
    address: str
    target_id: int
    alerts: list[dict] = field(default_factory=list)


def _filters(session: Session) -> list[_Filter]:
    """Every active recipient's filter: supervisors' subscriptions, then webhooks."""
    out = []
    subscriptions = session.execute(
        select(Subscription, User).join(User, User.id == Subscription.user_id)
        .where(Subscription.active.is_(True), User.active.is_(True)).order_by(Subscription.id))
    for sub, user in subscriptions:
        if may(user, "triage"):  # a supervisor no longer is told nothing
            out.append(_Filter("email", sub.email.lower(), sub.email, sub.id, sub.region_code, sub.category_code,
                               sub.min_level, scope_of(user), user.id))
    for hook in session.scalars(select(Webhook).where(Webhook.active.is_(True)).order_by(Webhook.id)):
        out.append(_Filter("webhook", str(hook.id), hook.url, hook.id, hook.region_code, hook.category_code,
                           hook.min_level))
    return out


def _region_full_name(trees: Trees, code: str) -> str:
    """A region as a reader places it: 宁波市鄞州区 (the province named only for itself)."""
    if code not in trees.regions:
        return code
    chain = [trees.regions.nodes[c] for c in reversed(trees.regions.ancestors(code))]
    return "".join(node.name_zh for node in (chain[1:] if len(chain) > 1 else chain))


def _span(months: list[str]) -> dict | None:
    return {"from": months[0], "to": months[-1]} if months else None


def _describe(trees: Trees, alert: Alert, action: str, assessment: Assessment | None,
              from_level: str | None = None) -> dict:
    """One alert as a notice tells of it: codes and names, the figures behind its level, its link."""
    cat = trees.categories.nodes.get(alert.category_code)
    region = trees.regions.nodes.get(alert.region_code)
    reasons = (assessment.reasons if assessment is not None else None) or {}
    forecast = [point["month"] for point in (assessment.forecast if assessment is not None else None) or []
                if point.get("month")]
    return {"id": alert.id, "action": action, "level": alert.level, "level_name": level_zh(alert.level),
            "from_level": from_level, "from_level_name": level_zh(from_level) if from_level else None,
            "status": alert.status, "probability": round(alert.probability, 4),
            "category": alert.category_code,
            "category_name": cat.name_zh if cat else ("全部产品" if alert.category_code == ALL_PRODUCTS
                                                      else alert.category_code),
            "region": alert.region_code, "region_name": region.name_zh if region else alert.region_code,
            "region_full_name": _region_full_name(trees, alert.region_code),
            # the engine's estimate (smoothed with related series, as the series page says), not
            # the raw rate of the last three months that the reason quotes
            "estimated_pass_rate": round(assessment.pass_rate, 4) if assessment is not None else None,
            "floor": round(assessment.floor, 4) if assessment is not None else None,
            "forecast_months": _span(forecast),  # the months the probability is about
            "reason_zh": reasons.get("zh", ""), "reason_en": reasons.get("en", ""),
            "path": f"/alerts/{alert.id}"}


def _recipients(trees: Trees, filters: list[_Filter], described: list[dict]) -> dict[tuple[str, str], _Notice]:
    """One notice per recipient (channel and key: an email address, a webhook) with the alerts its
    filters take in."""
    notices: dict[tuple[str, str], _Notice] = {}
    for flt in filters:
        for item in described:
            if matches(trees, flt.region, flt.category, flt.min_level, item) and (
                    flt.scope is None or flt.scope in region_ancestors(trees, item["region"])):
                notice = notices.setdefault((flt.channel, flt.key), _Notice(flt.address, flt.target_id))
                if item not in notice.alerts:
                    notice.alerts.append(item)
    return notices


def _top_level(alerts: list[dict]) -> str:
    # graded by the alerts this recipient is told of: the group's top member may be outside their
    # region, and its level would tell them of it
    return max((a["level"] for a in alerts), key=RANK.__getitem__)


def notify_scan(session: Session, scan: Scan) -> int:
    """Group the alerts `scan` raised or escalated; write the outbox rows: one per group and
    webhook, one per email address for the whole scan (its groups one after another), so a
    supervisor of a city with many unrelated alerts gets one email a scan, not one per group."""
    events = session.execute(
        select(AlertEvent.alert_id, AlertEvent.action, AlertEvent.from_level)
        .where(AlertEvent.scan_id == scan.id, AlertEvent.action.in_(NOTIFYING_ACTIONS))).all()
    if not events:
        return 0
    actions = {alert_id: (action, from_level) for alert_id, action, from_level in events}
    trees = load_trees(session)
    alerts = list(session.scalars(select(Alert).where(Alert.id.in_(actions))))
    regions = {a.region_code for a in alerts}
    assessments = {(row.category_code, row.region_code): row for row in session.scalars(
        select(Assessment).where(Assessment.scan_id == scan.id, Assessment.region_code.in_(regions)))}
    filters = _filters(session)
    grouped = [(members, AlertGroup(scan_id=scan.id, category_code=members[0].category_code,
                                    region_code=members[0].region_code,
                                    level=max((a.level for a in members), key=RANK.__getitem__)))
               for members in group_alerts(trees, alerts)]
    session.add_all([group for _, group in grouped])
    session.flush()  # the groups' ids, once for all
    emails: dict[str, tuple[_Notice, list[int]]] = {}  # address -> its notice and groups, in order
    written = 0
    for members, group in grouped:
        described = []
        for alert in members:
            alert.group_id = group.id
            action, from_level = actions[alert.id]
            described.append({**_describe(trees, alert, action, assessments.get((alert.category_code,
                                                                                 alert.region_code)),
                                          from_level if action == "escalated" else None),
                              "group_id": group.id})
        for (channel, key), notice in _recipients(trees, filters, described).items():
            if channel == "email":
                told, groups = emails.setdefault(key, (_Notice(notice.address, notice.target_id), []))
                told.alerts.extend(notice.alerts)
                groups.append(group.id)
                continue
            session.add(OutboxMessage(
                group_id=group.id, channel=channel, target_id=notice.target_id, address=notice.address,
                payload={"group_id": group.id, "scan_id": scan.id, "as_of": scan.as_of,
                         "level": _top_level(notice.alerts), "alerts": notice.alerts}))
            written += 1
    for notice, groups in emails.values():
        session.add(OutboxMessage(
            group_id=groups[0], channel="email", target_id=notice.target_id, address=notice.address,
            payload={"group_id": groups[0], "group_ids": groups, "scan_id": scan.id, "as_of": scan.as_of,
                     "level": _top_level(notice.alerts), "alerts": notice.alerts}))
        written += 1
    return written


def notify_escalation(session: Session, alert: Alert, user: User, note: str | None) -> int:
    """Write the notices of a supervisor's escalation of `alert` (in the caller's transaction)."""
    trees = load_trees(session)
    group = AlertGroup(scan_id=None, user_id=user.id, category_code=alert.category_code,
                       region_code=alert.region_code, level=alert.level)
    session.add(group)
    session.flush()
    alert.group_id = group.id
    scan = session.get(Scan, alert.last_scan_id)
    as_of = scan.as_of if scan is not None else None
    described = [{**_describe(trees, alert, "escalated_by_user", alert_assessment(session, alert)),
                  "group_id": group.id}]
    others = [f for f in _filters(session) if f.user_id != user.id]
    actor = {"id": user.id, "username": user.username, "region": user.region_code,
             "region_name": _region_full_name(trees, user.region_code)}
    at = (alert.updated_at or utcnow()).isoformat()
    written = 0
    for (channel, _), notice in _recipients(trees, others, described).items():
        session.add(OutboxMessage(
            group_id=group.id, channel=channel, target_id=notice.target_id, address=notice.address,
            payload={"group_id": group.id, "scan_id": None, "as_of": as_of, "level": group.level,
                     "escalated_by": actor, "escalated_at": at, "reason": note, "alerts": notice.alerts}))
        written += 1
    return written
