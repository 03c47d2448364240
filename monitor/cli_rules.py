"""Rule tools on the command line: explain a text, replay stored events, evaluate a labelled corpus."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from monitor.settings import load_settings
from monitor.storage import session_scope


@click.command(help="Show how the rules label a text, which rules fired where, and the reply that would be queued.")
@click.argument("text")
@click.option("--kind", default="comment", type=click.Choice(["comment", "dm", "mention", "review", "follow"]))
@click.option("--platform", default="facebook")
def explain(text: str, kind: str, platform: str) -> None:
    from monitor.app import make_classifier
    from monitor.policy import load_policy
    from monitor.rules_tools import explain as explain_text

    settings = load_settings()
    policy, _ = load_policy(settings.monitor_policy, required="monitor_policy" in settings.model_fields_set)
    click.echo(explain_text(make_classifier(policy), policy, text, kind, platform))


@click.command(help="Re-classify stored events with the current rules and print what would change (dry run).")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Only events fetched since.")
def replay(since: datetime | None) -> None:
    from monitor.cli import _app
    from monitor.rules_tools import replay as replay_events

    app = _app()
    start = since.replace(tzinfo=UTC) if since else None
    with session_scope(app.engine) as session:
        checked, changes = replay_events(session, app.classify, start)
    for c in changes:
        before, after = ", ".join(c.before) or "none", ", ".join(c.after) or "none"
        click.echo(f"item {c.item_id} ({c.platform} {c.kind}): {before} -> {after}")
    click.echo(f"{checked} stored event(s) re-classified; {len(changes)} would change. Nothing was modified.")


@click.command("eval", help="Score the rules on a labelled corpus (JSON lines: id, kind, platform, text, labels).")
@click.argument("corpus", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object.")
@click.option("--show-errors", is_flag=True, help="List every line the rules got wrong.")
@click.option("--rules-only", is_flag=True, help="Score the phrase rules without the learned layer (for comparison).")
def eval_corpus(corpus: Path, as_json: bool, show_errors: bool, rules_only: bool) -> None:
    from rules import Classifier
    from rules.evaluation import evaluate, format_report, load_corpus

    try:
        lines = load_corpus(corpus.read_text("utf-8").splitlines())
    except ValueError as exc:
        raise click.ClickException(f"{corpus}: {exc}") from None
    report = evaluate(lines, Classifier(learned=False).classify if rules_only else None)
    if as_json:
        click.echo(json.dumps(report.to_json()))
    else:
        click.echo(format_report(report, show_errors))
