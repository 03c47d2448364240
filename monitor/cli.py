"""The `monitor` command: the daemon, the staff queue commands, and set-up helpers.

Every user-facing failure is one line on stderr starting with "error:" and exit status 2.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click

from monitor import audit as audit_log
from monitor import render, staff
from monitor.app import App, open_app
from monitor.cycle import run_cycle
from monitor.errors import MonitorError
from monitor.init_files import PracticeAnswers, write_files
from monitor.logsetup import configure_logging
from monitor.settings import load_settings
from monitor.storage import session_scope


def _app() -> App:
    settings = load_settings()
    configure_logging(settings.monitor_log_level)
    return open_app(settings)


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@click.group(help="practice-monitor: watch the practice's social accounts; staff approve every reply.")
@click.version_option(package_name="practice-monitor")
def cli() -> None:
    pass


@cli.command(
    help="Poll all accounts, alert on crisis items, post approved replies, serve the staff page. Runs until stopped."
)
@click.option("--once", is_flag=True, help="Poll every account once, post approved replies, and exit.")
@click.option("--no-web", is_flag=True, help="Do not serve the staff page (MONITOR_WEB_HOST:MONITOR_WEB_PORT).")
def run(once: bool, no_web: bool) -> None:
    app = _app()
    if once:
        report = run_cycle(app)
        click.echo(render.cycle_summary(report, app.clock()))
        return
    from monitor.scheduler import StopSignals, run_forever

    signals = StopSignals()
    signals.install()  # before the staff page starts: a stop request during start-up is honoured too
    web = None
    if not no_web:
        from monitor.web.server import start_in_thread

        web = start_in_thread(app, app.settings.monitor_web_host, app.settings.monitor_web_port)
    try:
        run_forever(app, signals=signals)
    finally:
        if web is not None:
            web.stop()


@cli.command(help="List flagged items: open ones first, urgent at the top.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list for scripts.")
@click.option("--show-text", is_flag=True, help="Also print message text and author (staff only).")
@click.option("--open", "only_open", is_flag=True, help="Only items that still need action.")
def queue(as_json: bool, show_text: bool, only_open: bool) -> None:
    app = _app()
    with session_scope(app.engine) as session:
        items = staff.list_queue(session, app.clock(), only_open=only_open, with_text=show_text)
        undelivered = staff.undelivered_alerts(session)
    if as_json:
        _print_json([i.as_json() for i in items])
    else:
        click.echo(render.queue_table(items, show_text=show_text))
        if undelivered:
            click.echo(
                f"\nWARNING: {len(undelivered)} urgent alert(s) could not be delivered yet "
                f"(items {', '.join(str(a.event_id) for a in undelivered)}): {undelivered[-1].last_error}"
            )


@cli.command(help="Show one item: the message, why it was flagged, and the proposed reply.")
@click.argument("item_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def show(item_id: int, as_json: bool) -> None:
    app = _app()
    with session_scope(app.engine) as session:
        detail = staff.show_item(session, item_id, app.clock())
    if as_json:
        _print_json(render.item_json(detail))
    else:
        click.echo(render.item_view(detail))


@cli.command(help="Approve an item's reply; it is posted on the next dispatch (`monitor run --once`).")
@click.argument("item_id", type=int)
@click.option("--as", "actor", required=True, help="Your name, for the audit log.")
@click.option("--text", default=None, help="Send this edited text instead of the proposed reply.")
@click.option("--override", is_flag=True, help="Approve even though the reply linter found problems.")
def approve(item_id: int, actor: str, text: str | None, override: bool) -> None:
    app = _app()
    with session_scope(app.engine) as session:
        staff.approve(session, app.policy, item_id, actor, app.clock(), text=text, override=override)
    click.echo(f"Approved item {item_id}. It will be posted on the next dispatch (`monitor run --once`).")


@cli.command(help="Reject an item's reply (nothing is posted), or close an item that has no reply.")
@click.argument("item_id", type=int)
@click.option("--as", "actor", required=True, help="Your name, for the audit log.")
@click.option("--reason", default="", help="Why, for the audit log (no message details, please).")
@click.option("--false-alarm", is_flag=True, help="The rules flagged this wrongly (counted per rule in the digest).")
def reject(item_id: int, actor: str, reason: str, false_alarm: bool) -> None:
    app = _app()
    with session_scope(app.engine) as session:
        staff.reject(session, item_id, actor, app.clock(), reason=reason, false_alarm=false_alarm)
    click.echo(f"Rejected item {item_id}. Nothing will be posted for it.")


@cli.command(help="Print the audit log: every staff action and every post.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option("--item", "item_id", type=int, default=None, help="Only entries about this item.")
def audit(as_json: bool, item_id: int | None) -> None:
    app = _app()
    with session_scope(app.engine) as session:
        rows = audit_log.entries(session, event_id=item_id)
        texts = audit_log.texts(session, (row.id for row in rows))
    if as_json:
        kept = {i: {"before_text": t.before_text, "after_text": t.after_text} for i, t in texts.items()}
        _print_json([{**row.model_dump(mode="json"), "reply_texts": kept.get(row.id or 0)} for row in rows])
    else:
        click.echo(render.audit_table(rows))


@cli.command(help="Preview or send the weekly digest email (counts only, no message text).")
@click.option("--preview", type=click.Path(dir_okay=False, path_type=Path), help="Write the HTML digest to this file.")
@click.option("--send", "send_now", is_flag=True, help="Email the digest of the last 7 days now.")
def digest(preview: Path | None, send_now: bool) -> None:
    from monitor.digest_mail import digest_for, render, send_digest

    if not preview and not send_now:
        raise click.UsageError("say --preview FILE.html or --send")
    app = _app()
    if preview:
        subject, text, html = render(digest_for(app, app.clock()), app.policy.timezone)
        preview.write_text(html, "utf-8")
        preview.with_suffix(".txt").write_text(text, "utf-8")
        click.echo(f"wrote {preview} and {preview.with_suffix('.txt')} ({subject})")
    if send_now:
        send_digest(app, app.clock())
        click.echo(f"sent the digest to {', '.join(app.policy.digest.recipients)}")


@cli.command(help="Test each account's credentials and permissions; prints OK or what to fix.")
def check() -> None:
    from monitor.check import check_accounts

    app = _app()
    results = check_accounts(app)
    for r in results:
        click.echo(f"{'OK  ' if r.ok else 'FAIL'}  {r.account} ({r.platform} via {r.source}): {r.message}")
    if not results:
        click.echo("No accounts configured: add [[accounts]] blocks to the policy file.")
    if not all(r.ok for r in results):
        sys.exit(1)


@cli.command("check-config", help="Check .env and the policy file, and say what would be watched.")
def check_config() -> None:
    app = _app()
    policy = app.policy
    click.echo(
        f"Policy: {app.policy_source} — {policy.practice_name}, {policy.office_phone}, {policy.country} "
        f"(emergency {policy.emergency_number}; {policy.crisis_line})"
    )
    click.echo(f"Database: {app.engine.url.render_as_string(hide_password=True)}")
    for spec in policy.accounts:
        click.echo(
            f"  account {spec.name}: {spec.platform} via {spec.source}, streams {', '.join(spec.streams)}, "
            f"every {spec.poll_minutes:g} min"
        )
    if not policy.accounts:
        click.echo("  no accounts configured yet: add [[accounts]] blocks to the policy file")


@cli.command(help="Write a commented policy.toml and .env for your practice in the current folder.")
@click.option("--practice-name", prompt="Practice name")
@click.option("--phone", prompt="Office phone people should call")
@click.option("--website", prompt="Practice website (https://...)")
@click.option(
    "--country",
    prompt="Country (US, CA, GB/UK or AU)",
    type=click.Choice(["US", "CA", "GB", "UK", "AU"], case_sensitive=False),
)
@click.option("--clinician", "clinicians", multiple=True, help="A clinician's name (repeat for each).")
@click.option("--alert-email", "alert_emails", multiple=True, help="Who gets crisis alerts (repeat).")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."))
@click.option("--force", is_flag=True, help="Overwrite existing files.")
def init(
    practice_name: str,
    phone: str,
    website: str,
    country: str,
    clinicians: tuple[str, ...],
    alert_emails: tuple[str, ...],
    directory: Path,
    force: bool,
) -> None:
    answers = PracticeAnswers(practice_name, phone, website, country, clinicians, alert_emails)
    for path in write_files(directory, answers, force=force):
        click.echo(f"wrote {path}")
    click.echo("Next: add your accounts to policy.toml, credentials to .env, then `monitor check-config`.")


from monitor.cli_rules import eval_corpus, explain, replay  # noqa: E402

cli.add_command(explain)
cli.add_command(replay)
cli.add_command(eval_corpus)

from monitor.cli_web import user, web  # noqa: E402

cli.add_command(web)
cli.add_command(user)


def main() -> None:
    """Entry point: run the command; turn known problems into one clear line."""
    try:
        cli.main(standalone_mode=False)
    except MonitorError as exc:
        logging.getLogger("monitor").debug("command failed", exc_info=True)
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
