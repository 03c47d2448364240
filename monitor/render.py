"""Plain-text views for the terminal: the queue, one item, the audit log, a cycle summary."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from monitor.clock import age_in_words
from monitor.cycle import CycleReport
from monitor.db import AuditEntry
from monitor.staff import ItemDetail, QueueItem


def queue_table(items: list[QueueItem], *, show_text: bool = False) -> str:
    """The queue as an aligned table, urgent items marked."""
    if not items:
        return "The queue is empty: nothing needs attention. (`monitor run --once` polls now.)"
    header = ("ID", "STATE", "", "AGE", "PLATFORM", "KIND", "LABELS")
    rows = [
        (
            str(i.id),
            i.state,
            "URGENT" if i.urgent else "",
            age_in_words(i.age_seconds),
            i.platform,
            i.kind,
            ", ".join(i.labels) or "-",
        )
        for i in items
    ]
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in [header, *rows]]
    for item, line_no in zip(items, range(1, len(items) + 1), strict=True):
        extra = []
        if item.last_error and item.state in ("failed", "needs_review", "approved"):
            extra.append(f"      last error: {item.last_error}")
        if show_text and item.text is not None:
            extra.append(f"      {item.author or '(no author)'}: {item.text}")
        if extra:
            lines[line_no] += "\n" + "\n".join(extra)
    return "\n".join(lines)


def item_view(detail: ItemDetail) -> str:
    """One item: the message with its evidence marked, the proposed reply and the history."""
    item = detail.item
    lines = [
        f"Item {item.id}  [{item.state}]{'  URGENT' if item.urgent else ''}",
        f"  {item.platform} {item.kind} on account {item.account}, {age_in_words(item.age_seconds)}",
        f"  labels: {', '.join(item.labels) or 'none'}",
        f"  from: {detail.author or '(not kept)'}",
        f"  link: {detail.url or '-'}",
        "",
        "Message:",
        f"  {detail.text or '(erased after the retention period)'}",
    ]
    if detail.evidence and detail.text:
        lines += ["", "Why:"]
        for ev in detail.evidence:
            span = detail.text[ev["start"] : ev["end"]]
            reason = f" — {ev['reason']}" if ev.get("reason") else ""
            shown = f'"{span}"' if span and len(span) < 200 else f"chars {ev['start']}-{ev['end']}"
            lines.append(f"  {ev['label']}: {ev['rule_id']} matched {shown}{reason}")
    lines += ["", "Proposed reply:" if detail.reply_text else "No reply will be sent for this item."]
    if detail.reply_text:
        lines.append(f"  {detail.reply_text}")
        lines.append(f"  (template {detail.reply_template})")
    if detail.history:
        lines += ["", "History:"]
        lines += [f"  {h['at']}  {h['actor']}: {h['action']}" for h in detail.history]
    return "\n".join(lines)


def item_json(detail: ItemDetail) -> dict[str, Any]:
    """The item for scripts."""
    data = detail.item.as_json()
    data.update(
        text=detail.text,
        author=detail.author,
        url=detail.url,
        evidence=detail.evidence,
        reply_text=detail.reply_text,
        reply_template=detail.reply_template,
        history=detail.history,
    )
    return data


def audit_table(rows: list[AuditEntry]) -> str:
    """The audit log, one line per entry, oldest first."""
    if not rows:
        return "The audit log is empty."
    out = []
    for row in rows:
        item = f" item {row.event_id}" if row.event_id is not None else ""
        keys = ("state", "reason", "external_reply_id", "edited", "override", "error")
        extra = ", ".join(f"{k}={row.detail[k]}" for k in keys if row.detail.get(k) not in (None, "", False))
        out.append(
            f"{row.at.isoformat(timespec='seconds')}  {row.actor}: {row.action}{item}"
            + (f" ({extra})" if extra else "")
        )
    return "\n".join(out)


def cycle_summary(report: CycleReport, now: datetime) -> str:
    """What `monitor run --once` did, in a few lines."""
    lines = [
        f"Polled {len(report.polls)} stream(s): {report.new_events} new event(s), {report.seen_before} already stored.",
        f"Flagged {report.flagged} item(s); queued {report.replies_queued} reply(ies) for staff approval.",
    ]
    for item_id in report.urgent_ids:
        lines.append(f"URGENT: item {item_id} is a crisis item; staff were alerted. See `monitor show {item_id}`.")
    if report.failed_streams:
        lines.append(f"Could not poll: {', '.join(report.failed_streams)} (see the log above).")
    d = report.dispatch
    lines.append(f"Posted {len(d.sent)} approved reply(ies)" + (f": {', '.join(map(str, d.sent))}" if d.sent else "."))
    if d.retry_later or d.failed or d.needs_review:
        lines.append(
            f"  will retry: {d.retry_later or '-'}; failed: {d.failed or '-'}; needs review: {d.needs_review or '-'}"
        )
    return "\n".join(lines)
